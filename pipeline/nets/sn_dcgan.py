"""A light DCGAN-style generator and spectrally normalised CNN critic.

A cheaper relative of SNGAN's "standard CNN" (Miyato et al. 2018) for CPU-sized
runs [ours]: n = log2(size / bottom_width) stride-2 stages,

- generator: z -> Linear -> (w, b, b) -> BN-ReLU -> (n - 1) x [ConvT4 s2 (w -> w/2)
  -BN-ReLU] -> ConvT4 s2 -> C -> tanh  (w = ``channels``);
- critic: n x [Conv4 s2 (C -> c -> 2c -> ...)-LeakyReLU(0.1)] -> Linear -> 1, every
  layer spectrally normalised (c = ``channels``).
"""

from __future__ import annotations

import torch
from torch import nn

from pipeline.nets.resnet import up_blocks
from pipeline.nets.spectral import spectral_norm_all

LEAK = 0.1  # SNGAN's CNN critic slope


class DCGANGenerator(nn.Module):
    def __init__(self, z_dim: int, channels: int, out_channels: int, size: int, bottom_width: int):
        super().__init__()
        n = up_blocks(size, bottom_width)
        if channels >> (n - 1) < 1:
            raise ValueError(f"channels {channels} cannot be halved {n - 1} times")
        layers: list[nn.Module] = [
            nn.Linear(z_dim, channels * bottom_width**2),
            nn.Unflatten(1, (channels, bottom_width, bottom_width)),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
        ]
        width = channels
        for _ in range(n - 1):
            layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1), nn.BatchNorm2d(width // 2), nn.ReLU()]
            width //= 2
        layers += [nn.ConvTranspose2d(width, out_channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [-1, 1]."""
        return self.net(z)


class DCGANCritic(nn.Module):
    def __init__(self, in_channels: int, channels: int, size: int, bottom_width: int):
        super().__init__()
        n = up_blocks(size, bottom_width)
        layers: list[nn.Module] = []
        width_in, width = in_channels, channels
        for _ in range(n):
            layers += [nn.Conv2d(width_in, width, 4, 2, 1), nn.LeakyReLU(LEAK)]
            width_in, width = width, width * 2
        layers += [nn.Flatten(), nn.Linear(width_in * bottom_width**2, 1), nn.Flatten(0)]
        self.net = spectral_norm_all(nn.Sequential(*layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Critic values, shape (N,)."""
        return self.net(x)
