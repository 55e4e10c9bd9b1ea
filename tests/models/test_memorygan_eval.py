"""Post-training measurements of MemoryGAN: latent grid, perplexity, overhead timing."""

from __future__ import annotations

import math

import pytest
import torch

from pipeline.models.memorygan_eval import interpolation_codes, perplexity, to_uint8


def test_interpolation_grid_has_the_four_codes_at_its_corners():
    codes = interpolation_codes(3, 5, torch.Generator().manual_seed(0))
    z1, z2, z3, z4 = torch.rand(4, 3, generator=torch.Generator().manual_seed(0)) * 2 - 1
    grid = codes.view(5, 5, 3)
    assert torch.allclose(grid[0, 0], z1) and torch.allclose(grid[0, -1], z2)
    assert torch.allclose(grid[-1, 0], z3) and torch.allclose(grid[-1, -1], z4)
    assert torch.allclose(grid[2, 2], (z1 + z2 + z3 + z4) / 4, atol=1e-6)
    assert torch.allclose(grid[0, 1], 0.75 * z1 + 0.25 * z2, atol=1e-6)


def test_perplexity_counts_effective_slots():
    assert perplexity(torch.tensor([1.0, 1.0, 1.0, 1.0])) == pytest.approx(4)
    assert perplexity(torch.tensor([5.0, 0.0, 0.0])) == pytest.approx(1)
    p = torch.tensor([0.5, 0.25, 0.25])
    assert perplexity(p * 8) == pytest.approx(math.exp(-(p * p.log()).sum().item()))


def test_to_uint8_rounds_and_clips():
    out = to_uint8(torch.tensor([-0.1, 0.0, 0.5, 1.2]))
    assert out.dtype.name == "uint8" and out.tolist() == [0, 0, 128, 255]
