"""affine-MNIST (MemoryGAN's code): each 28x28 digit is rotated by an integer angle
drawn uniformly from [-max_angle, max_angle] degrees about its centre (bilinear,
zero fill, same 28x28 frame), then pasted at a random offset (dx, dy), each
uniform on {0, ..., canvas - 29}, of a blank canvas x canvas image."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

DIGIT = 28


def affine_transform(x: torch.Tensor, canvas: int, max_angle: int, generator: torch.Generator) -> torch.Tensor:
    """Map a batch (B, 1, 28, 28) in [0, 1] to (B, 1, canvas, canvas)."""
    b = x.shape[0]
    if x.shape[1:] != (1, DIGIT, DIGIT):
        raise ValueError(f"affine-MNIST needs (B, 1, 28, 28) digits, got {tuple(x.shape)}")
    angle = torch.randint(-max_angle, max_angle + 1, (b,), generator=generator).float() * (math.pi / 180)
    span = canvas - DIGIT
    dx = torch.randint(0, span, (b,), generator=generator)
    dy = torch.randint(0, span, (b,), generator=generator)
    cos, sin, zero = angle.cos(), angle.sin(), torch.zeros(b)
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
    grid = F.affine_grid(theta.to(x.device, x.dtype), list(x.shape), align_corners=False)
    rotated = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    out = x.new_zeros(b, 1, canvas, canvas)
    offs = torch.arange(DIGIT)
    rows = (dy[:, None] + offs).to(x.device)
    cols = (dx[:, None] + offs).to(x.device)
    batch = torch.arange(b, device=x.device)[:, None, None]
    out[batch, 0, rows[:, :, None], cols[:, None, :]] = rotated[:, 0]
    return out
