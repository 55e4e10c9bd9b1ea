"""Hyperparameters of the probabilistic GAN baseline of the EBGAN paper (Zhao et al. 2017).

The GAN side of Table 1's grid uses the same fully connected family as EBGAN
(appendix C: BN, ReLU, tanh output, N(0, 0.002) / N(0, 0.02) init); the
defaults are the best GAN of the grid (figure 4a): nLayerG 5, nLayerD 2,
sizeG 1600, sizeD 1024, no dropout, SGD for D and G, lr 0.01. ``arch: conv64``
is the DCGAN the paper compares with on LSUN / CelebA (Radford et al. 2015).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pipeline.hparams import MAX_LR, hp


@dataclass(frozen=True)
class GANBNHParams:
    arch: Literal["fc", "conv64"] = hp("fc", "paper", note="fc: Table 1's nets; conv64: DCGAN at 64x64")
    z_dim: int = hp(100, "ours", gt=0)
    z_dist: Literal["normal", "uniform"] = hp("normal", "ours")
    g_layers: int = hp(5, "paper", ge=1, le=16, note="nLayerG: weight layers of G (fc)")
    g_size: int = hp(1600, "paper", gt=0, note="sizeG (fc)")
    d_layers: int = hp(2, "paper", ge=2, le=16, note="nLayerD: weight layers of D including the logit (fc)")
    d_size: int = hp(1024, "paper", gt=0, note="sizeD (fc)")
    d_dropout: bool = hp(False, "paper", note="dropoutD (fc)")
    d_dropout_rate: float = hp(0.5, "ours", ge=0, lt=1, note="rate when dropoutD is on; not published")
    batchnorm: bool = hp(True, "paper", note="BN after every weight layer but G's output and D's input")
    g_widths: list[int] = hp([512, 256, 128, 64], "ours", gt=0, note="conv64 G maps (DCGAN's)")
    d_widths: list[int] = hp([64, 128, 256, 512], "ours", gt=0, note="conv64 D maps (DCGAN's)")
    g_init_std: float = hp(0.02, "paper", gt=0, note="G weights N(0, std^2), biases 0 (appendix C)")
    d_init_std: float = hp(0.002, "paper", gt=0, note="D weights N(0, std^2), biases 0; read as a std")
    optimizer_d: Literal["adam", "sgd"] = hp("sgd", "paper", note="optimD")
    optimizer_g: Literal["adam", "sgd"] = hp("sgd", "paper", note="optimG")
    lr: float = hp(0.01, "paper", gt=0, le=MAX_LR, note="one learning rate for D and G")
    sgd_momentum: float = hp(0.0, "ours", ge=0, lt=1, note="plain SGD: the paper names no momentum")
    adam_betas: list[float] = hp([0.5, 0.999], "ours", ge=0, lt=1, note="DCGAN's beta1 = 0.5")
    g_loss: Literal["non_saturating", "saturating"] = hp(
        "non_saturating", "ours", note="-log D(G(z)) (Goodfellow et al.'s practical advice); not stated"
    )

    def validate(self) -> None:
        if len(self.adam_betas) != 2:
            raise ValueError("adam_betas needs two values")
