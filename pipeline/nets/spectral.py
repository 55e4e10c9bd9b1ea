"""Spectral normalisation of whole networks (Miyato et al. 2018).

Each weight W of a Linear / Conv layer is replaced by W / sigma(W), sigma the
largest singular value of W reshaped to (out, -1), estimated by one power
iteration per forward pass in training mode (``u`` is frozen in eval mode).
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

SN_LAYERS = (nn.Linear, nn.Conv2d)


def spectral_norm_all(module: nn.Module, n_power_iterations: int = 1) -> nn.Module:
    """Apply spectral normalisation to every Linear / Conv2d inside ``module`` (in place)."""
    for layer in list(module.modules()):
        if isinstance(layer, SN_LAYERS):
            spectral_norm(layer, n_power_iterations=n_power_iterations)
    return module
