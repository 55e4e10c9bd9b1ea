"""Hyperparameters of the original GAN (Goodfellow et al. 2014).

MNIST values come from the authors' pylearn2 configuration ([code]); the 2D
variant (``arch: mlp2d``) is ours: the paper has no 2D experiment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pipeline.hparams import MAX_LR, MAX_STEPS, hp


@dataclass(frozen=True)
class GANHParams:
    arch: Literal["maxout_mlp", "mlp2d"] = hp(
        "maxout_mlp", "code", note="maxout D + ReLU MLP G (MNIST); mlp2d: ReLU MLPs for 2D data"
    )
    z_dim: int = hp(100, "code", gt=0)
    z_dist: Literal["uniform", "normal"] = hp("uniform", "code", note="uniform on (-sqrt3, sqrt3) per dim")
    g_hidden: list[int] = hp([1200, 1200], "code", gt=0)
    g_init_range: float = hp(0.05, "code", gt=0, note="G weights U(-r, r)")
    g_output_bias_from_data: bool = hp(True, "code", note="output bias = logit of each pixel's mean")
    d_hidden: list[int] = hp([240, 240], "code", gt=0, note="maxout units per layer (mlp2d: ReLU units)")
    d_pieces: int = hp(5, "code", ge=1, note="maxout pieces per unit")
    d_init_range: float = hp(0.005, "code", gt=0, note="D weights U(-r, r)")
    d_input_keep: float = hp(0.8, "code", gt=0, le=1, note="dropout keep probability on D's input")
    d_hidden_keep: float = hp(0.5, "code", gt=0, le=1, note="dropout keep probability on D's hidden layers")
    optimizer: Literal["sgd", "adam"] = hp("sgd", "code")
    lr: float = hp(0.1, "code", gt=0, le=MAX_LR)
    lr_decay: float = hp(1.000004, "code", ge=1, note="lr divided by this every update")
    lr_min: float = hp(1e-6, "code", ge=0, le=MAX_LR)
    momentum_start: float = hp(0.5, "code", ge=0, lt=1)
    momentum_end: float = hp(0.7, "code", ge=0, lt=1)
    momentum_ramp_epochs: int = hp(250, "code", ge=1, note="momentum rises linearly over epochs 1..N")
    adam_betas: list[float] = hp([0.5, 0.999], "ours", ge=0, lt=1, note="only with optimizer: adam")
    k_steps: int = hp(1, "paper", ge=1, le=MAX_STEPS, note="D steps per G step, each on a fresh minibatch")
    g_loss: Literal["non_saturating", "saturating"] = hp(
        "non_saturating", "paper", note="G minimises -log D(G(z)) (paper's practical advice); saturating: log(1-D(G(z)))"
    )
    update: Literal["alternating", "simultaneous"] = hp(
        "alternating", "ours", note="authors' code: simultaneous updates from one minibatch"
    )

    def validate(self) -> None:
        if len(self.adam_betas) != 2:
            raise ValueError("adam_betas needs two values")
        if self.update == "simultaneous" and self.k_steps != 1:
            raise ValueError("update: simultaneous needs k_steps: 1")
