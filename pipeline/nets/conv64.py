"""64x64 convolutional nets of the EBGAN paper's LSUN / CelebA experiments (appendix C).

- Generator: "a deep convolutional generator analogous to DCGAN's" (Radford et
  al. 2015): z -> (512)4c -> (256)4c2s -> (128)4c2s -> (64)4c2s -> (C)4c2s, BN +
  ReLU on hidden layers, tanh output.
- Autoencoder discriminator [paper]: encoder (64)4c2s-(128)4c2s-(256)4c2s,
  decoder (128)4c2s-(64)4c2s-(C)4c2s, where "(64)4c2s" is a (transposed)
  convolution with 64 maps, 4x4 kernels, stride 2. Following the DCGAN
  guidance the paper cites: LeakyReLU(0.2) in the encoder, ReLU in the
  decoder, BN everywhere except the input layer and the output layer; the
  reconstruction is linear. The code S is the encoder's last activation
  (256 x 8 x 8), flattened for the pulling-away term.
- DCGAN discriminator (the paper's DCGAN comparison): (64)4c2s-(128)4c2s-
  (256)4c2s-(512)4c2s -> 4x4 convolution to one logit.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
from torch import nn

LEAKY_SLOPE = 0.2  # DCGAN's LeakyReLU slope in discriminators


def _down(c_in: int, c_out: int, batchnorm: bool) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=not batchnorm)]
    if batchnorm:
        layers.append(nn.BatchNorm2d(c_out))
    layers.append(nn.LeakyReLU(LEAKY_SLOPE))
    return layers


def _up(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]


def conv_encoder(channels_in: int, widths: Sequence[int]) -> nn.Sequential:
    """Strided 4x4 convolutions halving the resolution; no BN on the input layer."""
    layers: list[nn.Module] = []
    c = channels_in
    for i, w in enumerate(widths):
        layers += _down(c, w, batchnorm=i > 0)
        c = w
    return nn.Sequential(*layers)


def dcgan_generator(z_dim: int, channels_out: int, widths: Sequence[int] = (512, 256, 128, 64),
                    size: int = 64) -> nn.Sequential:
    """z (N, z_dim) -> images (N, C, size, size) in [-1, 1]; ``size = 4 * 2**len(widths)``."""
    if size != 4 * 2 ** len(widths):
        raise ValueError(f"{len(widths)} generator layers make {4 * 2 ** len(widths)}x images, not {size}x")
    layers: list[nn.Module] = [
        nn.Unflatten(1, (z_dim, 1, 1)),
        nn.ConvTranspose2d(z_dim, widths[0], 4, 1, 0, bias=False),
        nn.BatchNorm2d(widths[0]),
        nn.ReLU(),
    ]
    for a, b in itertools.pairwise(widths):
        layers += _up(a, b)
    layers += [nn.ConvTranspose2d(widths[-1], channels_out, 4, 2, 1), nn.Tanh()]
    return nn.Sequential(*layers)


class ConvAutoencoder(nn.Module):
    """Encoder ``enc_widths`` (stride-2 convs), decoder ``dec_widths`` (stride-2 transposed
    convs) back to ``channels`` maps. ``forward`` returns (reconstruction, flattened code)."""

    def __init__(self, channels: int, enc_widths: Sequence[int] = (64, 128, 256),
                 dec_widths: Sequence[int] = (128, 64)):
        super().__init__()
        if len(dec_widths) + 1 != len(enc_widths):
            raise ValueError("the decoder needs one layer fewer than the encoder before its output layer")
        self.encoder = conv_encoder(channels, enc_widths)
        layers: list[nn.Module] = []
        c = enc_widths[-1]
        for w in dec_widths:
            layers += _up(c, w)
            c = w
        layers.append(nn.ConvTranspose2d(c, channels, 4, 2, 1))
        self.decoder = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        code = self.encoder(x)
        return self.decoder(code), code.flatten(1)


class DCGANDiscriminator(nn.Module):
    """Strided conv stack down to 4x4, then a 4x4 convolution to one logit per image."""

    def __init__(self, channels: int, widths: Sequence[int] = (64, 128, 256, 512), size: int = 64):
        super().__init__()
        if size != 4 * 2 ** len(widths):
            raise ValueError(f"{len(widths)} layers reduce {4 * 2 ** len(widths)}x images to 4x4, not {size}x")
        self.body = conv_encoder(channels, widths)
        self.head = nn.Conv2d(widths[-1], 1, 4, 1, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x)).flatten()
