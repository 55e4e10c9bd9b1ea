"""A plain public-style MNIST GAN: the recipe of the widely copied PyTorch-GAN ``gan.py``
(eriklindernoren/PyTorch-GAN, implementations/gan/gan.py), the baseline of the bench's
time-to-quality race (pipeline/benchmark/quality.py).

- G: z (100, N(0, I)) -> 128 -> 256 -> 512 -> 1024 -> 784, LeakyReLU(0.2) after every
  hidden layer, BatchNorm1d after all but the first (``BatchNorm1d(n, 0.8)``: the 0.8 is
  the *eps* argument, as published), tanh output;
- D: 784 -> 512 -> 256 -> 1, LeakyReLU(0.2), sigmoid output;
- BCE (``nn.BCELoss``), Adam lr 2e-4, betas (0.5, 0.999) for both, batch 64;
- per batch: the G step on a fresh z (target "real"), then the D step on the real batch
  and the same fakes detached, d_loss = (real + fake) / 2; ``.item()`` of both losses;
- data: torchvision's per-sample dataset pattern behind a shuffling DataLoader
  (:func:`bench.reference.common.batches`), scaled to [-1, 1].

Samples for evaluation come from G in eval mode (BatchNorm running statistics), in [0, 1].
"""

from __future__ import annotations

import math

import torch
from torch import nn

from bench.reference.common import batches
from pipeline.data.sources import DataSource

Z_DIM = 100
BATCH = 64
LR = 2e-4
BETAS = (0.5, 0.999)


def generator(out_dim: int) -> nn.Sequential:
    def block(n_in: int, n_out: int, normalize: bool = True) -> list[nn.Module]:
        layers: list[nn.Module] = [nn.Linear(n_in, n_out)]
        if normalize:
            layers.append(nn.BatchNorm1d(n_out, 0.8))
        layers.append(nn.LeakyReLU(0.2, inplace=True))
        return layers

    return nn.Sequential(
        *block(Z_DIM, 128, normalize=False),
        *block(128, 256),
        *block(256, 512),
        *block(512, 1024),
        nn.Linear(1024, out_dim),
        nn.Tanh(),
    )


def discriminator(in_dim: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(in_dim, 512),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Linear(512, 256),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Linear(256, 1),
        nn.Sigmoid(),
    )


class PublicGAN:
    """The recipe above on ``data``'s training images; ``step`` trains one batch,
    ``generate`` follows the pipeline models' API (named sets, CPU generator)."""

    batch_size = BATCH

    def __init__(self, data: DataSource, seed: int):
        self.shape = data.spec.shape
        torch.manual_seed(seed)
        dim = math.prod(self.shape)
        self.nets = nn.ModuleDict({"G": generator(dim), "D": discriminator(dim)})
        self.opt_g = torch.optim.Adam(self.nets["G"].parameters(), lr=LR, betas=BETAS)
        self.opt_d = torch.optim.Adam(self.nets["D"].parameters(), lr=LR, betas=BETAS)
        self.loss = nn.BCELoss()
        self.batches = batches(data, BATCH, seed)

    def step(self, step: int) -> dict[str, float]:
        G, D = self.nets["G"], self.nets["D"]
        x, _ = next(self.batches)
        real = x.view(len(x), -1) * 2 - 1
        valid, fake = torch.ones(len(x), 1), torch.zeros(len(x), 1)
        self.opt_g.zero_grad()
        gen = G(torch.randn(len(x), Z_DIM))
        g_loss = self.loss(D(gen), valid)
        g_loss.backward()
        self.opt_g.step()
        self.opt_d.zero_grad()
        d_loss = (self.loss(D(real), valid) + self.loss(D(gen.detach()), fake)) / 2
        d_loss.backward()
        self.opt_d.step()
        return {"loss_d": d_loss.item(), "loss_g": g_loss.item()}

    @torch.inference_mode()
    def generate(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        G = self.nets["G"].eval()
        z = torch.randn(n, Z_DIM, generator=generator)
        images = ((G(z) + 1) / 2).view(n, *self.shape)
        G.train()
        return {"G": images}
