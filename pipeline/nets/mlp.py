"""Fully connected building blocks: plain MLPs and maxout layers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn


class Maxout(nn.Module):
    """Maxout layer (Goodfellow et al. 2013): h_i = max_j (W_ij x + b_ij), j = 1..pieces."""

    def __init__(self, in_features: int, units: int, pieces: int):
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(in_features, units * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).view(x.shape[0], self.units, self.pieces).amax(dim=-1)


def mlp(
    sizes: Sequence[int],
    activation: Callable[[], nn.Module] = nn.ReLU,
    batchnorm: bool = False,
    dropout: float = 0.0,
) -> nn.Sequential:
    """Linear layers ``sizes[0] -> ... -> sizes[-1]``; ``activation`` (and optional
    BatchNorm / dropout) after every layer but the last."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            if batchnorm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(activation())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def init_uniform_(module: nn.Module, bound: float) -> None:
    """Weights of every Linear U(-bound, bound), biases zero (pylearn2's irange init)."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.uniform_(m.weight, -bound, bound)
            nn.init.zeros_(m.bias)


def init_normal_(module: nn.Module, std: float) -> None:
    """Weights of every Linear / Conv N(0, std^2), biases zero."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
