"""Hyperparameters of MemoryGAN (Kim, Kim & Kim, ICLR 2018) and its ablations.

Defaults are the affine-MNIST settings of the paper / the authors' code
(github.com/whyjay/memoryGAN, ``models/config.py``); the paper profile
overrides them for Fashion-MNIST and CIFAR-10 (Table 3 / code):

==================  =============  =============  ================
                    affine-MNIST   Fashion-MNIST  CIFAR-10
==================  =============  =============  ================
memory N / d / k    4096/256/128   4096/256/128   16384/512/256
z dim               2              2              16
lambda (MI)         1e-2           1e-2           1e-6
Adam betas          0.5, 0.999     0.5, 0.999     0, 0.9
architecture        DCGAN          DCGAN          ResNet, LN, ELU
output              sigmoid        sigmoid        tanh
==================  =============  =============  ================

The ablations of Table 2 are combinations of three switches:
full = (memory, mcgn, em); -EM = (memory, mcgn, lifelong);
-MCGN = (memory, plain, em); -Memory = (plain, plain, -).
"""

# ruff: noqa: RUF009  (hp() returns a dataclasses.field, with a default_factory for lists)
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pipeline.hparams import MAX_LR, MAX_STEPS, hp


@dataclass(frozen=True)
class MemoryGANHParams:
    # -- variant switches (Sec. 4.3) -----------------------------------------------------
    discriminator: Literal["memory", "plain"] = hp(
        "memory",
        "paper",
        note="memory: DMN (inference net + memory); plain: same net, linear logit (-Memory)",
    )
    generator: Literal["mcgn", "plain"] = hp(
        "mcgn", "paper", note="mcgn: G(z, K_c) with c ~ h*v; plain: G(z) (-MCGN, -Memory)"
    )
    memory_update: Literal["em", "lifelong"] = hp(
        "em",
        "paper",
        note="em: incremental EM (Eq. 5); lifelong: Kaiser et al. 2017 K <- norm(K + q) (-EM)",
    )
    # -- memory (Sec. 3.1) ---------------------------------------------------------------
    memory_size: int = hp(4096, "code", gt=0, note="N slots")
    key_dim: int = hp(256, "code", gt=0, note="d; also the query dimension of the inference net")
    top_k: int = hp(128, "code", gt=0, note="slots read per query (Eq. 3) and updated by EM")
    read: Literal["top_k", "all"] = hp(
        "top_k",
        "code",
        note="top_k: D(x) over the top-k slots (Eq. 3); all: over every slot (Eq. 2, exact)",
    )
    kappa: float = hp(1.0, "code", gt=0, note="vMF concentration")
    alpha: float = hp(0.5, "code", gt=0, le=1, note="histogram decay of the incremental EM")
    beta: float = hp(1e-8, "code", gt=0, note="prior smoothing: p(i) ∝ h_i + beta")
    em_iters: int = hp(1, "code", ge=1, note="T iterations of the incremental EM")
    em_form: Literal["paper", "code"] = hp(
        "paper",
        "paper",
        note="paper: h_i += gamma_i - gamma'_i; code: each chosen slot += sum_j gamma_j - gamma'_j",
    )
    correct_in_top: int = hp(
        1,
        "code",
        ge=1,
        note="replace (LRU) when none of the nearest this-many slots has the query's label",
    )
    update_in_g_step: bool = hp(
        False,
        "paper",
        note="paper: memory updated while D is updated; the code also writes G-step fake queries",
    )
    eps: float = hp(1e-3, "code", gt=0, lt=0.5, note="D(x) clipped to [eps, 1 - eps] in the losses")
    # -- objective (Sec. 3.3) ------------------------------------------------------------
    mi_weight: float = hp(
        1e-2, "code", ge=0, note="lambda of the mutual-information term (Eq. 7, 8)"
    )
    mi_form: Literal["cosine", "mse"] = hp(
        "cosine",
        "paper",
        note="cosine: E[-cos(K_c, q)] (Eq. 6); mse: code's MSE(unnormalised q, K_c)",
    )
    g_loss: Literal["saturating", "non_saturating"] = hp(
        "saturating",
        "code",
        note="code's default 'jsd': G minimises log(1 - D(G(z))); non_saturating: -log D(G(z))",
    )
    # -- networks (Sec. 4, App. B) -------------------------------------------------------
    z_dim: int = hp(2, "code", gt=0, note="z ~ U(-1, 1)^z_dim")
    arch: Literal["dcgan", "resnet"] = hp(
        "dcgan", "paper", note="resnet: WGAN-GP ResNet with LayerNorm, ELU (CIFAR-10)"
    )
    d_channels: list[int] = hp(
        [64, 128, 256], "code", gt=0, note="dcgan: stride-2 4x4 convs of the inference net"
    )
    g_channels: list[int] = hp(
        [256, 128, 64],
        "code",
        gt=0,
        note="dcgan: G's first feature map, then each stride-2 deconv but the last",
    )
    pointwise: bool = hp(
        True,
        "code",
        note="dcgan: a 1x1 conv after each inner stride-2 (de)conv (affine-MNIST code)",
    )
    query_batchnorm: bool = hp(
        True,
        "code",
        note="dcgan: batch norm on the query layer (real and fake batches are normalised apart)",
    )
    g_fc_hidden: int = hp(
        0, "code", ge=0, note="dcgan: hidden fully connected layer of G (Fashion-MNIST code: 1024)"
    )
    resnet_width: int = hp(128, "code", gt=0, note="resnet: channels of every block")
    output: Literal["sigmoid", "tanh"] = hp(
        "sigmoid", "code", note="tanh: networks see images in [-1, 1]"
    )
    # -- optimisation ----------------------------------------------------------------------
    lr: float = hp(2e-4, "paper", gt=0, le=MAX_LR)
    adam_betas: list[float] = hp([0.5, 0.999], "code", ge=0, lt=1)
    lr_decay_steps: int = hp(
        0,
        "code",
        ge=0,
        le=MAX_STEPS,
        note="linear decay of lr to 0 over this many steps (CIFAR-10: the run's steps); 0 = none",
    )
    augment: bool = hp(
        False, "code", note="random brightness (+-16/255) and contrast (0.8-1.2) of real images"
    )
    # -- figures and measurements after training (ours) ----------------------------------
    prior_snapshot_every: int = hp(
        1000, "ours", ge=1, note="steps between stored slot-prior snapshots"
    )
    figure_slots: int = hp(8, "ours", ge=1, note="slots shown in the samples-per-slot figure")
    samples_per_slot: int = hp(8, "ours", ge=1)
    interp_slots: int = hp(3, "ours", ge=1, note="slots of the Fig. 1 interpolation picture")
    interp_grid: int = hp(7, "ours", ge=2, note="grid side of the bilinear z interpolation")
    overhead_steps: int = hp(
        0,
        "ours",
        ge=0,
        le=MAX_STEPS,
        note="timed train steps of this model and its -Memory DCGAN after training; 0 = skip",
    )

    def validate(self) -> None:
        if self.generator == "mcgn" and self.discriminator != "memory":
            raise ValueError("generator: mcgn samples memory keys and needs discriminator: memory")
        if self.top_k > self.memory_size:
            raise ValueError(f"top_k = {self.top_k} exceeds memory_size = {self.memory_size}")
        if self.correct_in_top > self.top_k:
            raise ValueError(f"correct_in_top = {self.correct_in_top} exceeds top_k = {self.top_k}")
        if len(self.adam_betas) != 2:
            raise ValueError("adam_betas needs two values")
        if self.arch == "dcgan" and (not self.d_channels or not self.g_channels):
            raise ValueError("arch dcgan needs non-empty d_channels and g_channels")
