"""Fully connected nets of the EBGAN paper's MNIST grid (Zhao et al. 2017, Table 1, appendix C).

``n_layers`` counts weight (Linear) layers, as Table 1's nLayerG / nLayerD do:
every hidden layer has ``size`` units. Appendix C: BatchNorm after every weight
layer except the generator's output layer and the discriminator's input layer;
ReLU everywhere; tanh on the generator's output (data in [-1, 1]). Output
layers of D (a logit, or the autoencoder's reconstruction) carry no BatchNorm.

For the autoencoder discriminator, "nLayerD represents the total number of
layers combining Enc and Dec ... we fix Dec to be one layer" (Sec. 4.1): the
encoder has ``n_layers - 1`` layers and its last activation is the code S on
which the pulling-away term acts.
"""

from __future__ import annotations

import torch
from torch import nn


def _hidden_block(n_in: int, n_out: int, batchnorm: bool, dropout: float) -> list[nn.Module]:
    layers: list[nn.Module] = [nn.Linear(n_in, n_out)]
    if batchnorm:
        layers.append(nn.BatchNorm1d(n_out))
    layers.append(nn.ReLU())
    if dropout:
        layers.append(nn.Dropout(dropout))
    return layers


def fc_generator(z_dim: int, n_layers: int, size: int, out_dim: int, batchnorm: bool = True,
                 tanh: bool = True) -> nn.Sequential:
    """z -> (n_layers - 1) x [Linear(size), BN, ReLU] -> Linear(out_dim) [-> tanh]."""
    if n_layers < 1:
        raise ValueError("a generator needs at least one layer")
    layers: list[nn.Module] = []
    width = z_dim
    for _ in range(n_layers - 1):
        layers += _hidden_block(width, size, batchnorm, 0.0)
        width = size
    layers.append(nn.Linear(width, out_dim))
    if tanh:
        layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def fc_encoder(in_dim: int, n_layers: int, size: int, batchnorm: bool = True,
               dropout: float = 0.0, last_dropout: bool = True) -> nn.Sequential:
    """x -> n_layers x [Linear(size), BN (not on the first: D's input layer), ReLU, dropout];
    ``last_dropout=False`` leaves the dropout off the last layer."""
    if n_layers < 1:
        raise ValueError("an encoder needs at least one layer")
    layers: list[nn.Module] = [nn.Flatten()]
    width = in_dim
    for i in range(n_layers):
        rate = dropout if last_dropout or i < n_layers - 1 else 0.0
        layers += _hidden_block(width, size, batchnorm and i > 0, rate)
        width = size
    return nn.Sequential(*layers)


class FCDiscriminator(nn.Module):
    """Probabilistic GAN discriminator: ``n_layers - 1`` hidden layers, then a logit."""

    def __init__(self, in_dim: int, n_layers: int, size: int, batchnorm: bool = True, dropout: float = 0.0):
        super().__init__()
        if n_layers < 2:
            raise ValueError("the discriminator needs at least two layers (hidden + logit)")
        self.body = fc_encoder(in_dim, n_layers - 1, size, batchnorm, dropout)
        self.head = nn.Linear(size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x)).squeeze(1)


class FCAutoencoder(nn.Module):
    """EBGAN's autoencoder discriminator: encoder of ``n_layers - 1`` layers, one-layer decoder.

    ``forward`` returns (reconstruction shaped like the input, code S of shape (N, size)).
    Dropout, when on, acts after each encoder activation; the code is taken before it.
    """

    def __init__(self, in_dim: int, n_layers: int, size: int, batchnorm: bool = True, dropout: float = 0.0):
        super().__init__()
        if n_layers < 2:
            raise ValueError("the autoencoder needs at least two layers (encoder + decoder)")
        self.encoder = fc_encoder(in_dim, n_layers - 1, size, batchnorm, dropout, last_dropout=False)
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.decoder = nn.Linear(size, in_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        code = self.encoder(x)
        return self.decoder(self.dropout(code)).view_as(x), code
