"""SNGAN ResNet generator / critic: shapes, block structure, spectral normalisation."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from pipeline.nets.resnet import (
    DBlock,
    GBlock,
    OptimizedDBlock,
    ResNetCritic,
    ResNetGenerator,
    up_blocks,
)


@pytest.mark.parametrize("size, bottom, n", [(32, 4, 3), (28, 7, 2), (48, 6, 3)])
def test_up_blocks(size, bottom, n):
    assert up_blocks(size, bottom) == n


@pytest.mark.parametrize("size, bottom", [(28, 4), (4, 4), (2, 4)])
def test_up_blocks_rejects_sizes_off_the_ladder(size, bottom):
    with pytest.raises(ValueError, match="power of two"):
        up_blocks(size, bottom)


def test_generator_matches_the_sngan_32x32_layout():
    g = ResNetGenerator(z_dim=128, channels=16, out_channels=3, size=32, bottom_width=4)
    assert g.l1.out_features == 4 * 4 * 16 and len(g.blocks) == 3
    x = g(torch.randn(5, 128))
    assert x.shape == (5, 3, 32, 32) and x.abs().max() <= 1


def test_critic_matches_the_sngan_32x32_layout():
    d = ResNetCritic(in_channels=3, channels=16, size=32)
    kinds = [type(b) for b in d.blocks]
    assert kinds == [OptimizedDBlock, DBlock, DBlock, DBlock]
    assert [b.downsample for b in d.blocks[1:]] == [True, False, False]
    assert d.blocks[1].c_sc is not None and d.blocks[2].c_sc is None  # identity shortcut when shape is kept
    assert d(torch.randn(5, 3, 32, 32)).shape == (5,)


def test_every_critic_layer_is_spectrally_normalised():
    torch.manual_seed(0)
    d = ResNetCritic(in_channels=1, channels=8, size=28).eval()
    layers = [m for m in d.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert layers and all(hasattr(m, "parametrizations") for m in layers)
    for _ in range(200):  # converge the power iteration (one step per training forward)
        d.train()(torch.randn(2, 1, 28, 28))
    d.eval()
    for m in layers:
        sigma = torch.linalg.matrix_norm(m.weight.detach().flatten(1), ord=2)
        assert sigma == pytest.approx(1.0, abs=1e-2)


def test_blocks_keep_or_halve_resolution():
    x = torch.randn(2, 8, 16, 16)
    assert GBlock(8, 4)(x).shape == (2, 4, 32, 32)
    assert DBlock(8, 8, downsample=True)(x).shape == (2, 8, 8, 8)
    assert DBlock(8, 8, downsample=False)(x).shape == (2, 8, 16, 16)
    assert OptimizedDBlock(8, 4)(x).shape == (2, 4, 8, 8)
