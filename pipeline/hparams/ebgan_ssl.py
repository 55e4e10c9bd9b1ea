"""Hyperparameters of EBGAN-LN and its ladder-network baseline (Zhao et al. 2017, Sec. 4.2, appendix D).

Defaults are EBGAN-LN's: margin 16 decayed to 0 over the first 60k steps, G
frozen afterwards, D trained 120k more steps (180k in all), lr 5e-4 (D) and
2.5e-4 (G) decaying linearly to 0 from step 120k. The LN baseline
(``adversarial: false``) uses lr 2e-4, 120k steps, decay from step 80k: set
those in params. The schedule lengths are in steps because a model does
not see the run's budget: keep ``lr_decay_end`` equal to ``train.steps``.

The energy of EBGAN-LN is the ladder's own bottom-layer cost,
D(x) = recon_weight * ||z^(0) - x||^2 (appendix D: "a vanilla form of l2
loss"), so the margin is on that scale.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.hparams import MAX_LR, MAX_STEPS, hp


@dataclass(frozen=True)
class EBGANSSLHParams:
    adversarial: bool = hp(True, "paper", note="true: EBGAN-LN; false: the bottom-layer-cost LN alone")
    n_labels: int = hp(100, "paper", gt=0, note="labelled training examples (100 / 200 / 1000), balanced")
    hidden: list[int] = hp([1000, 500, 250, 250, 250], "paper", gt=0, note="784-1000-500-250-250-250-10")
    noise_std: float = hp(0.3, "paper", ge=0, note="corruption of every layer (Rasmus et al. 2015)")
    recon_weight: float = hp(1000 / 784, "paper", gt=0, note="lambda_L2 on the squared input error")
    labelled_batch: int = hp(100, "paper", gt=0, note="labelled examples per step (mini-batch 100)")
    lr: float = hp(5e-4, "paper", gt=0, le=MAX_LR, note="D (the ladder); 2e-4 for the LN baseline")
    lr_g: float = hp(2.5e-4, "paper", gt=0, le=MAX_LR)
    adam_beta1: float = hp(0.5, "paper", ge=0, lt=1)
    lr_decay_start: int = hp(120_000, "paper", ge=0, le=MAX_STEPS, note="linear decay to 0 from here; LN: 80k")
    lr_decay_end: int = hp(180_000, "paper", gt=0, le=MAX_STEPS, note="= train.steps; LN: 120k")
    margin: float = hp(16.0, "paper", ge=0, note="initial margin, on the scale of the energy below")
    margin_decay_steps: int = hp(60_000, "paper", gt=0, le=MAX_STEPS, note="margin decays linearly to 0 over these steps")
    g_steps: int = hp(60_000, "paper", ge=0, le=MAX_STEPS, note="G trains until here, then only D trains")
    z_dim: int = hp(100, "ours", gt=0)
    g_layers: int = hp(5, "ours", ge=1, note="G not published: the grid's best EBGAN G (sizeG 800)")
    g_size: int = hp(800, "ours", gt=0)
    g_init_std: float = hp(0.02, "paper", gt=0, note="appendix C's G init")

    def validate(self) -> None:
        if self.lr_decay_start > self.lr_decay_end:
            raise ValueError("lr_decay_start must not exceed lr_decay_end")
