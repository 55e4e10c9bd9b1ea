"""Model registry: name in params.yaml -> hyperparameter class and implementation.

Entries are import strings so that looking up hyperparameters (validation,
``plan``) never imports torch.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ModelEntry:
    hparams: str  # "module:Class" of a frozen dataclass built with pipeline.hparams.hp
    impl: str  # "module:Class" implementing pipeline.models.base.Model
    description: str


MODELS: dict[str, ModelEntry] = {
    "gan": ModelEntry(
        "pipeline.hparams.gan:GANHParams",
        "pipeline.models.gan:GAN",
        "Goodfellow et al. 2014: minimax GAN (maxout D, MLP G) and a 2D MLP variant",
    ),
    "aan": ModelEntry(
        "pipeline.hparams.aan:AANHParams",
        "pipeline.models.aan:AAN",
        "Arici & Celikyilmaz 2016: RBM associative memory on D's tanh layer feeding G; noise-fed control",
    ),
    "ebgan": ModelEntry(
        "pipeline.hparams.ebgan:EBGANHParams",
        "pipeline.models.ebgan:EBGAN",
        "Zhao et al. 2017: EBGAN with an autoencoder energy, margin loss and pulling-away term",
    ),
    "gan_bn": ModelEntry(
        "pipeline.hparams.gan_bn:GANBNHParams",
        "pipeline.models.gan_bn:GANBN",
        "Zhao et al. 2017: the probabilistic GAN baseline of EBGAN's grid (BN nets, tanh) and DCGAN",
    ),
    "ebgan_ssl": ModelEntry(
        "pipeline.hparams.ebgan_ssl:EBGANSSLHParams",
        "pipeline.models.ebgan_ssl:EBGANSSL",
        "Zhao et al. 2017: bottom-layer-cost ladder network, alone or as EBGAN-LN's discriminator",
    ),
    "dcd": ModelEntry(
        "pipeline.hparams.dcd:DCDHParams",
        "pipeline.models.dcd:DCD",
        "Song et al. 2020: SN critic, Langevin refinement on its energy, contrastive fine-tuning",
    ),
    "memorygan": ModelEntry(
        "pipeline.hparams.memorygan:MemoryGANHParams",
        "pipeline.models.memorygan:MemoryGAN",
        "Kim et al. 2018: discriminative memory network, memory-conditional G; -EM/-MCGN/-Memory ablations",
    ),
}


def load_object(path: str) -> Any:
    """Import ``"package.module:Name"`` and return ``Name``."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def hparams_class(model: str) -> type:
    return load_object(MODELS[model].hparams)


def model_class(model: str) -> type:
    return load_object(MODELS[model].impl)
