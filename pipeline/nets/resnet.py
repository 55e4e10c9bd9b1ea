"""SNGAN ResNet generator and spectrally normalised ResNet critic (Miyato et al. 2018).

Follows the 32x32 networks of the SNGAN code (``resnet_32.py`` /
``snresnet_32.py``) used by DCD's code:

- generator: z -> Linear -> (ch, b, b) -> n_up x [BN-ReLU-Up2-Conv3-BN-ReLU-Conv3
  + Up2-Conv1 shortcut] -> BN-ReLU-Conv3 -> tanh, with b = bottom width and
  size = b * 2^n_up (32 = 4 * 2^3);
- critic: OptimizedBlock(C -> ch, down) -> Block(ch, down) -> Block(ch) ->
  Block(ch) -> ReLU -> global sum pooling -> Linear(ch, 1); every Linear / Conv
  spectrally normalised. Block = ReLU-Conv3-ReLU-Conv3 (-AvgPool2) plus a
  Conv1 (-AvgPool2) shortcut when the block downsamples or changes width.

Initialisation as the code's: Glorot-uniform with gain sqrt(2) inside residual
branches, gain 1 on shortcuts and the first / last layers; zero biases.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.nets.spectral import spectral_norm_all

RESIDUAL_GAIN = math.sqrt(2.0)


def _conv(cin: int, cout: int, k: int, gain: float) -> nn.Conv2d:
    conv = nn.Conv2d(cin, cout, k, padding=k // 2)
    nn.init.xavier_uniform_(conv.weight, gain=gain)
    nn.init.zeros_(conv.bias)
    return conv


def _up(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2, mode="nearest")


class GBlock(nn.Module):
    """Pre-activation up-sampling residual block of the generator."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.b1, self.b2 = nn.BatchNorm2d(cin), nn.BatchNorm2d(cout)
        self.c1, self.c2 = _conv(cin, cout, 3, RESIDUAL_GAIN), _conv(cout, cout, 3, RESIDUAL_GAIN)
        self.c_sc = _conv(cin, cout, 1, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.c1(_up(F.relu(self.b1(x))))
        h = self.c2(F.relu(self.b2(h)))
        return h + self.c_sc(_up(x))


class DBlock(nn.Module):
    """Pre-activation residual block of the critic, optionally down-sampling."""

    def __init__(self, cin: int, cout: int, downsample: bool):
        super().__init__()
        self.downsample = downsample
        self.c1, self.c2 = _conv(cin, cout, 3, RESIDUAL_GAIN), _conv(cout, cout, 3, RESIDUAL_GAIN)
        self.c_sc = _conv(cin, cout, 1, 1.0) if (cin != cout or downsample) else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.c2(F.relu(self.c1(F.relu(x))))
        sc = x if self.c_sc is None else self.c_sc(x)
        if self.downsample:
            h, sc = F.avg_pool2d(h, 2), F.avg_pool2d(sc, 2)
        return h + sc


class OptimizedDBlock(nn.Module):
    """First critic block: no pre-activation on the raw image; always down-samples."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.c1, self.c2 = _conv(cin, cout, 3, RESIDUAL_GAIN), _conv(cout, cout, 3, RESIDUAL_GAIN)
        self.c_sc = _conv(cin, cout, 1, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.avg_pool2d(self.c2(F.relu(self.c1(x))), 2)
        return h + self.c_sc(F.avg_pool2d(x, 2))


def up_blocks(size: int, bottom_width: int) -> int:
    """n with size = bottom_width * 2^n (n >= 1), else ValueError."""
    n = round(math.log2(size / bottom_width)) if size >= bottom_width else 0
    if n < 1 or bottom_width * 2**n != size:
        raise ValueError(f"image size {size} is not bottom_width ({bottom_width}) times a power of two")
    return n


class ResNetGenerator(nn.Module):
    def __init__(self, z_dim: int, channels: int, out_channels: int, size: int, bottom_width: int):
        super().__init__()
        self.channels, self.bottom_width = channels, bottom_width
        self.l1 = nn.Linear(z_dim, bottom_width**2 * channels)
        nn.init.xavier_uniform_(self.l1.weight)
        nn.init.zeros_(self.l1.bias)
        self.blocks = nn.Sequential(*(GBlock(channels, channels) for _ in range(up_blocks(size, bottom_width))))
        self.b_out = nn.BatchNorm2d(channels)
        self.c_out = _conv(channels, out_channels, 3, 1.0)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [-1, 1]."""
        h = self.l1(z).view(-1, self.channels, self.bottom_width, self.bottom_width)
        return torch.tanh(self.c_out(F.relu(self.b_out(self.blocks(h)))))


class ResNetCritic(nn.Module):
    def __init__(self, in_channels: int, channels: int, size: int):
        super().__init__()
        if size % 4:
            raise ValueError(f"the ResNet critic down-samples twice; image size {size} is not a multiple of 4")
        self.blocks = nn.Sequential(
            OptimizedDBlock(in_channels, channels),
            DBlock(channels, channels, downsample=True),
            DBlock(channels, channels, downsample=False),
            DBlock(channels, channels, downsample=False),
        )
        self.l_out = nn.Linear(channels, 1)
        nn.init.xavier_uniform_(self.l_out.weight)
        nn.init.zeros_(self.l_out.bias)
        spectral_norm_all(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Critic values, shape (N,)."""
        h = F.relu(self.blocks(x)).sum(dim=(2, 3))
        return self.l_out(h).squeeze(1)
