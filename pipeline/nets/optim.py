"""Optimisers on the fused kernels.

The fused Adam / SGD kernels apply the same update rule as PyTorch's default
per-parameter loop in one pass over all parameters: SGD bit for bit, Adam up
to float rounding (about 1e-7 relative). On a 2-core CPU they make the
optimiser step about 3x faster for the MNIST-sized MLPs of the smoke profile
(reports/bench.md has the measured effect).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import nn


def adam(params: Iterable[nn.Parameter], lr: float, betas: Sequence[float]) -> torch.optim.Adam:
    """Adam (Kingma & Ba 2015, Algorithm 1) with betas (beta1, beta2)."""
    return torch.optim.Adam(params, lr=lr, betas=(betas[0], betas[1]), fused=True)


def sgd(params: Iterable[nn.Parameter], lr: float, momentum: float = 0.0) -> torch.optim.SGD:
    """SGD with heavy-ball momentum: v <- momentum v + g; p <- p - lr v."""
    return torch.optim.SGD(params, lr=lr, momentum=momentum, fused=True)
