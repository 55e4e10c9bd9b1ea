"""Hyperparameters of Discriminator Contrastive Divergence (Song, Ye, Xu & Liu 2020).

Defaults are the CIFAR-10 / STL-10 settings of the authors' code (SNGAN ResNet
base model, hinge loss, Adam 2e-4 with beta (0, 0.9), n_dis 5, linear lr decay;
Langevin: 20 steps, step size 1, noise 0.005, gradients clipped to +-1). The
paper lists no further numbers; the toy settings of the code's synthetic script
(MLPs, WGAN loss, Adam 1e-4 beta (0.5, 0.9), batch 256) go in the profiles.

A run has two phases, driven by the step number: steps [0, base_steps) train
the base WGAN-type model; steps [base_steps, base_steps + finetune_steps)
fine-tune a copy of the critic by contrastive divergence with G frozen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pipeline.hparams import MAX_LR, MAX_STEPS, hp


@dataclass(frozen=True)
class DCDHParams:
    arch: Literal["resnet", "dcgan", "mlp"] = hp(
        "resnet", "code",
        note="SNGAN ResNet G / SN-ResNet D (images); dcgan: light DCGAN G / SN-CNN D (ours, CPU runs);"
        " mlp: ReLU MLPs, SN on D (code's toys)",
    )
    z_dim: int = hp(128, "code", gt=0, note="z ~ N(0, I)")
    g_channels: int = hp(256, "code", gt=0, note="resnet G width; dcgan: widest G layer (halved per stage)")
    d_channels: int = hp(128, "code", gt=0, note="resnet D width; dcgan: first D layer (doubled per stage)")
    bottom_width: int = hp(4, "code", gt=0, note="conv G starts at bottom_width^2 (32 = 4 * 2^3)")
    g_hidden: list[int] = hp([128, 128, 128], "code", gt=0, note="mlp G hidden widths (code's toy DIM 128)")
    d_hidden: list[int] = hp([128, 128, 128], "code", gt=0, note="mlp D hidden widths")
    g_init_std: float = hp(0.02, "code", ge=0, note="mlp G weights N(0, s^2), zero biases; 0: PyTorch's default init")
    base_loss: Literal["hinge", "wgan"] = hp(
        "hinge", "code", note="base GAN loss: hinge (image code); wgan: D(fake) - D(real) (toy code, with SN)"
    )
    n_dis: int = hp(5, "code", ge=1, note="critic updates per G update (each on a fresh minibatch)")
    g_batch_factor: int = hp(2, "code", ge=1, note="G update on factor x batch samples (code: 128 vs 64)")
    lr: float = hp(2e-4, "code", gt=0, le=MAX_LR)
    adam_betas: list[float] = hp([0.0, 0.9], "code", ge=0, lt=1)
    lr_decay: Literal["linear", "none"] = hp("linear", "code", note="lr -> 0 linearly over each phase")
    base_steps: int = hp(50000, "code", gt=0, le=MAX_STEPS, note="G updates of base training (SNGAN: 50k)")
    finetune_steps: int = hp(50000, "code", ge=0, le=MAX_STEPS, note="contrastive fine-tuning iterations")
    finetune_lr: float = hp(2e-4, "code", gt=0, le=MAX_LR, note="fresh Adam (same betas) for the fine-tuned critic")
    finetune_loss: Literal["hinge", "wgan_l2"] = hp(
        "hinge", "code",
        note="hinge on real vs Langevin samples (image code); wgan_l2: D(neg) - D(real) + l2 (D(neg)^2 + D(real)^2)"
        " (toy code)",
    )
    finetune_l2: float = hp(10.0, "code", ge=0, note="weight of the wgan_l2 loss's square term")
    finetune_space: Literal["latent", "pixel"] = hp(
        "latent", "code", note="sampler of the negatives and of the 'finetuned' set (code: sampling_space)"
    )
    finetune_fresh_negatives: bool = hp(
        False, "code",
        note="False: one Langevin batch and one real batch reused for the n_dis updates (image code);"
        " True: fresh ones per update (toy code)",
    )
    pixel_steps: int = hp(20, "code", ge=1, le=MAX_STEPS)
    pixel_step_size: float = hp(1.0, "code", gt=0)
    pixel_noise: float = hp(0.005, "code", ge=0, note="std of the Gaussian noise added per step")
    pixel_grad_clip: float = hp(1.0, "code", ge=0, note="clip each gradient entry to +-c (0: off)")
    latent_steps: int = hp(20, "code", ge=1, le=MAX_STEPS)
    latent_step_size: float = hp(1.0, "code", gt=0)
    latent_noise: float = hp(0.005, "code", ge=0, note="sigma: noise sqrt(eps) sigma N(0, I); temperature sigma^2")
    latent_prior: bool = hp(
        True, "ours", note="include the N(0, I) prior term (DDLS's latent EBM); the DCD code omits it"
    )
    trajectory_n: int = hp(64, "ours", ge=1, note="2D: Langevin trajectories stored for figures")
    trajectory_images: int = hp(8, "ours", ge=1, note="images: Langevin trajectories stored for figures")
    grid_points: int = hp(128, "code", ge=2, note="2D: critic evaluated on grid_points^2 points (code's plot)")
    grid_range: float = hp(3.0, "code", gt=0, note="2D: critic grid over [-r, r]^2 (code's plot)")
    timing_n: int = hp(1000, "ours", ge=1, note="samples timed for the refined / plain sampling-time ratio")

    def validate(self) -> None:
        if len(self.adam_betas) != 2:
            raise ValueError("adam_betas needs two values")
        if self.arch == "mlp" and (not self.g_hidden or not self.d_hidden):
            raise ValueError("arch mlp needs g_hidden and d_hidden")
