"""Hyperparameters of Associative Adversarial Networks (Arici & Celikyilmaz 2016).

The paper states its design (D = C(F(x)) with a tanh visible layer F, an RBM
trained by contrastive divergence with SGD + momentum, Adam for D and G,
LeakyReLU in D, ReLU in G, four strided 5x5 convolutions then a fully
connected layer to the visible layer, RBMs of 100x100 and 1000x1000 units on
CelebA) but its extracted text lost every number and there is no official
code: every numeric default below is ours unless tagged paper. ``prior:
noise`` is the control the paper compares against: the same F, C and G with G
fed uniform noise instead of RBM samples.
"""

# ruff: noqa: RUF009  (hp() returns a dataclasses.field, with a default_factory for lists)
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pipeline.hparams import MAX_LR, MAX_STEPS, hp


@dataclass(frozen=True)
class AANHParams:
    prior: Literal["rbm", "noise"] = hp(
        "rbm", "paper",
        note="rbm: G fed by Gibbs samples of the RBM (AAN); noise: U(-1, 1)^visible (control GAN; range ours)",
    )
    arch: Literal["dcgan", "mlp"] = hp(
        "dcgan", "paper", note="dcgan: four strided 5x5 convs + FC to the visible layer; mlp: ours (CPU smoke)"
    )
    d_channels: list[int] = hp([64, 128, 256, 512], "ours", gt=0, note="dcgan: D's conv depths (G mirrors them)")
    d_hidden: list[int] = hp([512], "ours", gt=0, note="mlp: D's hidden layers before the visible layer")
    g_hidden: list[int] = hp([512], "ours", gt=0, note="mlp: G's hidden layers")
    c_hidden: list[int] = hp([100], "ours", ge=0, note="C: hidden layers between the visible layer and D's logit")
    batchnorm: bool = hp(True, "ours", note="DCGAN's BN: G all but the output; F all but the first layer (visible layer included)")
    leak: float = hp(0.2, "ours", ge=0, lt=1, note="LeakyReLU slope in D (DCGAN's value)")
    init_std: float = hp(0.02, "ours", gt=0, note="N(0, std^2) weights of F, C, G (DCGAN's init)")
    lr: float = hp(0.0002, "ours", gt=0, le=MAX_LR, note="Adam for D and G [paper]; rate DCGAN's")
    adam_betas: list[float] = hp([0.5, 0.999], "ours", ge=0, lt=1, note="DCGAN's betas")
    g_loss: Literal["non_saturating", "saturating"] = hp(
        "non_saturating", "ours",
        note="the paper writes the minimax form log(1 - D(G(f))); non_saturating: -log D(G(f)) (GAN 2014 Sec. 3)",
    )
    visible: int = hp(100, "ours", gt=0, note="RBM visible units = width of F (paper: 100 or 1000 on CelebA)")
    hidden: int = hp(100, "ours", gt=0, note="RBM hidden units (paper: 100 or 1000 on CelebA)")
    visible_units: Literal["spin", "gaussian"] = hp(
        "spin", "paper",
        note="spin: F ends in tanh (the paper's choice); gaussian: F ends in LeakyReLU (reported to work poorly)",
    )
    rbm_learning: Literal["cd", "pcd"] = hp("cd", "paper", note="CD-k from F(real), or persistent chains")
    cd_k: int = hp(1, "ours", ge=1, le=MAX_STEPS, note="Gibbs steps per RBM update; G is fed this update's negative samples")
    rbm_lr: float = hp(0.01, "ours", gt=0, le=MAX_LR, note="SGD [paper]")
    rbm_momentum: float = hp(0.5, "ours", ge=0, lt=1, note="SGD momentum [paper]")
    rbm_init_std: float = hp(0.01, "ours", gt=0, note="RBM weights N(0, std^2), biases 0 (Hinton's guide)")
    g_input: Literal["sample", "mean"] = hp(
        "sample", "paper", note="G's input: the sampled visible (spin) states; mean: E[v | h] of the last step (ours)"
    )
    sample_steps: int = hp(1000, "ours", ge=1, le=MAX_STEPS, note="Gibbs steps from a random start when generating samples")
    chain_steps: int = hp(10, "paper", ge=1, le=MAX_STEPS, note="Gibbs-steps figure: G's images after 1..N steps")
    chain_rows: int = hp(8, "ours", ge=1, note="chains shown in the Gibbs-steps figure")
    chain_probe: int = hp(256, "ours", ge=1, note="chains averaged for the measured change per Gibbs step")

    def validate(self) -> None:
        if len(self.adam_betas) != 2:
            raise ValueError("adam_betas needs two values")
        if self.arch == "dcgan" and not self.d_channels:
            raise ValueError("arch dcgan needs at least one entry in d_channels")
