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
}


def load_object(path: str) -> Any:
    """Import ``"package.module:Name"`` and return ``Name``."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def hparams_class(model: str) -> type:
    return load_object(MODELS[model].hparams)


def model_class(model: str) -> type:
    return load_object(MODELS[model].impl)
