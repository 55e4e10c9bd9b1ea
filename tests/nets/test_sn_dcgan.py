"""Light DCGAN generator / SN-CNN critic."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from pipeline.nets.sn_dcgan import DCGANCritic, DCGANGenerator


@pytest.mark.parametrize("size, bottom, channels", [(28, 7, 1), (32, 4, 3)])
def test_shapes_and_range(size, bottom, channels):
    g = DCGANGenerator(z_dim=16, channels=32, out_channels=channels, size=size, bottom_width=bottom)
    d = DCGANCritic(in_channels=channels, channels=8, size=size, bottom_width=bottom)
    x = g(torch.randn(4, 16))
    assert x.shape == (4, channels, size, size) and x.abs().max() <= 1
    assert d(x).shape == (4,)


def test_widths_halve_in_g_and_double_in_d():
    g = DCGANGenerator(16, 32, 3, 32, 4)
    d = DCGANCritic(3, 8, 32, 4)
    assert [m.out_channels for m in g.modules() if isinstance(m, nn.ConvTranspose2d)] == [16, 8, 3]
    assert [m.out_channels for m in d.modules() if isinstance(m, nn.Conv2d)] == [8, 16, 32]
    assert all(hasattr(m, "parametrizations") for m in d.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))


def test_rejects_too_narrow_generators():
    with pytest.raises(ValueError, match="halved"):
        DCGANGenerator(16, 2, 3, 32, 4)
