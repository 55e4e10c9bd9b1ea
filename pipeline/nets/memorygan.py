"""Inference networks and generators of MemoryGAN (Kim et al. 2018, Sec. 4 and App. B),
after the authors' code (``models/discriminator.py``, ``models/generator.py``, ``ops.py``).

DCGAN (MNIST-like data): the inference network is stride-2 4x4 convolutions
(TF "SAME" padding, LeakyReLU 0.2, batch norm on all but the first), optionally
followed each by a 1x1 convolution (affine-MNIST code), then a convolution
spanning the remaining map to ``out_dim`` outputs with batch norm (the query
layer of ``memory_d``). The generator is an optional hidden fully connected
layer (Fashion-MNIST code: 1024, LeakyReLU), a fully connected projection to
the first feature map (LeakyReLU when it is G's first layer, else ReLU),
stride-2 4x4 transposed convolutions (batch norm, ReLU; optional 1x1 after
each), and a last stride-2 transposed convolution to the image channels.

ResNet (CIFAR-10): WGAN-GP's ResNet with layer norm instead of batch norm and
ELU activations (paper, Sec. 4). Blocks are post-activation as in the code:
``act(norm(residual + shortcut))``; down-sampling averages 2x2 after the
convolutions, up-sampling repeats pixels before them.

Weights are drawn from a normal with std 0.02 truncated at two std, biases 0
[code]. Networks return raw outputs: the model applies the output activation.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

INIT_STD = 0.02


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow's "SAME" padding: output size ceil(input / stride)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s in zip(
            reversed(x.shape[-2:]), reversed(self.kernel_size), reversed(self.stride)
        ):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads))


def init_weights_(module: nn.Module) -> None:
    """Truncated normal N(0, 0.02^2) weights, zero biases [code]."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.trunc_normal_(m.weight, 0.0, INIT_STD, -2 * INIT_STD, 2 * INIT_STD)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def _lrelu() -> nn.Module:
    return nn.LeakyReLU(0.2)


def _conv_block(c_in: int, c_out: int, k: int, s: int, bn: bool) -> list[nn.Module]:
    return [SameConv2d(c_in, c_out, k, s), *([nn.BatchNorm2d(c_out)] if bn else []), _lrelu()]


class DCGANInference(nn.Module):
    """x (B, C, H, W) -> (B, out_dim): the DMN's inference network (unnormalised query,
    ``memory_d``). With ``out_dim=None`` the query layer is left out and the flattened
    last feature map is returned (the trunk of the code's plain ``base_d``). ``query_bn``:
    batch norm on the query layer, as in the code."""

    def __init__(
        self,
        in_channels: int,
        image_size: int,
        channels: Sequence[int],
        pointwise: bool,
        out_dim: int | None,
        query_bn: bool = True,
    ):
        super().__init__()
        layers: list[nn.Module] = []
        c, size = in_channels, image_size
        for i, width in enumerate(channels):
            layers += _conv_block(c, width, 4, 2, bn=i > 0)
            if pointwise and i > 0:
                layers += _conv_block(width, width, 1, 1, bn=True)
            c, size = width, math.ceil(size / 2)
        if out_dim is None:
            self.out_features = c * size * size
        else:
            layers += [
                nn.Conv2d(c, out_dim, size),
                nn.BatchNorm2d(out_dim) if query_bn else nn.Identity(),
            ]
            self.out_features = out_dim
        self.net = nn.Sequential(*layers, nn.Flatten())
        init_weights_(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class DCGANGenerator(nn.Module):
    """(B, in_dim) -> (B, C, H, W) raw outputs; H = W = first map size * 2^len(channels)."""

    def __init__(
        self,
        in_dim: int,
        out_channels: int,
        image_size: int,
        channels: Sequence[int],
        pointwise: bool,
        fc_hidden: int,
    ):
        super().__init__()
        self.start = image_size // 2 ** len(channels)
        if self.start * 2 ** len(channels) != image_size:
            raise ValueError(f"image size {image_size} is not divisible by 2^{len(channels)}")
        fc: list[nn.Module] = []
        width = in_dim
        if fc_hidden:
            fc += [nn.Linear(width, fc_hidden), nn.BatchNorm1d(fc_hidden), _lrelu()]
            width = fc_hidden
        first = channels[0] * self.start**2
        fc += [nn.Linear(width, first), nn.BatchNorm1d(first), nn.ReLU() if fc_hidden else _lrelu()]
        self.fc = nn.Sequential(*fc)
        layers: list[nn.Module] = []
        for c_in, c_out in itertools.pairwise(channels):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), nn.BatchNorm2d(c_out), nn.ReLU()]
            if pointwise:
                layers += [nn.ConvTranspose2d(c_out, c_out, 1), nn.BatchNorm2d(c_out), nn.ReLU()]
        layers.append(nn.ConvTranspose2d(channels[-1], out_channels, 4, 2, 1))
        self.deconv = nn.Sequential(*layers)
        self.first_channels = channels[0]
        init_weights_(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z).view(-1, self.first_channels, self.start, self.start)
        return self.deconv(h)


def _layer_norm(c: int) -> nn.Module:
    """Layer norm over (C, H, W) with a per-channel affine map (tf.contrib.layers.layer_norm)."""
    return nn.GroupNorm(1, c)


class _MeanPoolConv(nn.Module):
    """Convolution then 2x2 average pooling (``conv_mean_pool``)."""

    def __init__(self, c_in: int, c_out: int, k: int):
        super().__init__()
        self.conv = SameConv2d(c_in, c_out, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(self.conv(x), 2)


class _UpConv(nn.Module):
    """Nearest 2x up-sampling then convolution (``resize_conv2d``)."""

    def __init__(self, c_in: int, c_out: int, k: int):
        super().__init__()
        self.conv = SameConv2d(c_in, c_out, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class ResBlock(nn.Module):
    """Post-activation residual block: act(norm(conv(act(norm(conv(x))))) + shortcut(x))),
    resampling ``down`` (mean pool), ``up`` (nearest) or ``none`` (identity shortcut)."""

    def __init__(self, c: int, resample: str):
        super().__init__()
        if resample == "down":
            self.conv1, self.conv2, self.shortcut = (
                SameConv2d(c, c, 3),
                _MeanPoolConv(c, c, 3),
                _MeanPoolConv(c, c, 1),
            )
        elif resample == "up":
            self.conv1, self.conv2, self.shortcut = (
                _UpConv(c, c, 3),
                SameConv2d(c, c, 3),
                _UpConv(c, c, 1),
            )
        elif resample == "none":
            self.conv1, self.conv2, self.shortcut = (
                SameConv2d(c, c, 3),
                SameConv2d(c, c, 3),
                nn.Identity(),
            )
        else:
            raise ValueError(f"resample must be down, up or none, got {resample!r}")
        self.norm1, self.norm2 = _layer_norm(c), _layer_norm(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv2(F.elu(self.norm1(self.conv1(x))))
        return F.elu(self.norm2(h + self.shortcut(x)))


class ResNetInference(nn.Module):
    """x (B, C, 32, 32) -> (B, out_dim): optimised first block (conv, mean-pool conv with
    a 1x1 mean-pool shortcut), a down block, two plain blocks, a stride-2 4x4 conv to
    ``out_dim`` channels and a spatial mean (``memory_d``, CIFAR-10). With
    ``out_dim=None`` the last conv keeps ``width`` channels and is followed by an
    activation before the mean (the trunk of the code's plain ``base_d``)."""

    def __init__(self, in_channels: int, width: int, out_dim: int | None):
        super().__init__()
        self.conv_in = SameConv2d(in_channels, width, 3)
        self.pool_conv = _MeanPoolConv(width, width, 3)
        self.pool_skip = _MeanPoolConv(in_channels, width, 1)
        self.norm = _layer_norm(width)
        self.blocks = nn.Sequential(
            ResBlock(width, "down"), ResBlock(width, "none"), ResBlock(width, "none")
        )
        self.out_features = width if out_dim is None else out_dim
        self.out = SameConv2d(width, self.out_features, 4, 2)
        self.out_act = nn.ELU() if out_dim is None else nn.Identity()
        init_weights_(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pool_conv(F.elu(self.conv_in(x))) + self.pool_skip(x)
        h = self.blocks(F.elu(self.norm(h)))
        return self.out_act(self.out(h)).mean(dim=(2, 3))


class ResNetGenerator(nn.Module):
    """(B, in_dim) -> (B, C, 8 * start, 8 * start) raw outputs: fully connected projection
    (layer norm, ELU), three up blocks, 3x3 conv (``base_g``, CIFAR-10)."""

    def __init__(self, in_dim: int, out_channels: int, image_size: int, width: int):
        super().__init__()
        self.start, self.width = image_size // 8, width
        if self.start * 8 != image_size:
            raise ValueError(f"image size {image_size} is not divisible by 8")
        self.fc = nn.Linear(in_dim, width * self.start**2)
        self.norm = nn.LayerNorm(width * self.start**2)
        self.blocks = nn.Sequential(*(ResBlock(width, "up") for _ in range(3)))
        self.out = SameConv2d(width, out_channels, 3)
        init_weights_(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = F.elu(self.norm(self.fc(z))).view(-1, self.width, self.start, self.start)
        return self.out(self.blocks(h))
