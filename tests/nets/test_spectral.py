"""spectral_norm_all: every Linear / Conv2d gets unit spectral norm."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from pipeline.nets.spectral import spectral_norm_all


def test_all_layers_normalised_and_others_untouched():
    torch.manual_seed(0)
    net = spectral_norm_all(nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3), nn.BatchNorm1d(3)))
    for _ in range(100):
        net(torch.randn(4, 5))
    net.eval()
    for layer in (net[0], net[2]):
        assert torch.linalg.matrix_norm(layer.weight.detach(), ord=2) == pytest.approx(1.0, abs=1e-3)
    assert not hasattr(net[3], "parametrizations")
