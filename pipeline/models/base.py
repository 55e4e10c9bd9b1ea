"""The contract between the trainer and a paper's model.

A model owns its networks, optimisers, losses and D/G steps (as in mimicry);
it never reads files or params. The trainer (pipeline/train.py) owns seeding,
batching, checkpoints, logging and divergence detection, and never knows which
paper it runs.

Conventions: images cross this boundary as float32 (N, C, H, W) in [0, 1],
2D points as float32 (N, 2); each model maps to its own range internally.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pipeline.data.sources import DataSource


@dataclass
class Evaluation:
    """What a model reports after training besides its samples.

    ``metrics``: scalars stored in train.json (e.g. a test error);
    ``arrays``: named arrays stored in samples.npz under ``aux/`` (figures)."""

    metrics: dict[str, float] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


class Model(ABC):
    #: minibatches of ``batch_size`` the trainer passes per call of ``train_step``
    batches_per_step: int = 1

    def __init__(self, hp: Any, data: DataSource, device: torch.device):
        self.hp = hp
        self.spec = data.spec
        self.device = device
        self.nets = nn.ModuleDict()
        self.optimizers: dict[str, torch.optim.Optimizer] = {}

    @abstractmethod
    def train_step(self, x: torch.Tensor, y: torch.Tensor, step: int) -> dict[str, torch.Tensor]:
        """One generator update (and its discriminator updates) on ``batches_per_step``
        minibatches stacked in ``x``. Returns detached scalar tensors to log; must not
        synchronise with the device (no ``.item()``)."""

    @abstractmethod
    def generate(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """Named sample sets of ``n`` samples each on the CPU (e.g. ``{"G": ...}``);
        all randomness from ``generator`` (a CPU generator)."""

    def evaluate(self, data: DataSource, generator: torch.Generator) -> Evaluation:
        """Extra numbers and arrays after training (default: none)."""
        return Evaluation()

    def extra_state(self) -> dict[str, Any]:
        """State outside networks and optimisers (memories, chains, counters)."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        if state:
            raise ValueError(f"{type(self).__name__} has no extra state, got keys {sorted(state)}")

    def state_dict(self) -> dict[str, Any]:
        return {
            "nets": self.nets.state_dict(),
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "extra": self.extra_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.nets.load_state_dict(state["nets"])
        for k, o in self.optimizers.items():
            o.load_state_dict(state["optimizers"][k])
        self.load_extra_state(state["extra"])

    def parameter_count(self) -> dict[str, int]:
        return {k: sum(p.numel() for p in m.parameters()) for k, m in self.nets.items()}


def noise(n: int, dim: int, dist: str, generator: torch.Generator | None = None,
          device: torch.device | None = None) -> torch.Tensor:
    """Latent noise: ``normal`` N(0, I) or ``uniform`` U(-sqrt3, sqrt3)^dim (unit variance).

    Drawn on the CPU when a generator is given (same numbers on every device)."""
    if generator is not None:
        z = torch.randn(n, dim, generator=generator) if dist == "normal" else torch.rand(n, dim, generator=generator)
        z = z.to(device) if device is not None else z
    else:
        z = torch.randn(n, dim, device=device) if dist == "normal" else torch.rand(n, dim, device=device)
    return z if dist == "normal" else (z * 2 - 1) * 3**0.5


def set_requires_grad(module: nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


def minimax_terms(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(E log D(x), E log(1 - D(G(z)))) of Goodfellow et al.'s Eq. 1 with D = sigmoid(l):
    log D = -softplus(-l), log(1 - D) = -softplus(l)."""
    return -F.softplus(-real_logits).mean(), -F.softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor, kind: str) -> torch.Tensor:
    """-E log D(G(z)) (``non_saturating``, the paper's practical advice) or E log(1 - D(G(z)))
    (``saturating``, Eq. 1 as written)."""
    if kind == "non_saturating":
        return F.softplus(-fake_logits).mean()
    return -F.softplus(fake_logits).mean()
