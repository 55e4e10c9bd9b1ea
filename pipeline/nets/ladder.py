"""Fully connected ladder network (Rasmus et al. 2015, Algorithm 1) with a bottom-layer cost.

Corrupted encoder, l = 1..L (z~(0) = h~(0) = x + noise):

    z~_pre(l) = W(l) h~(l-1)
    z~(l)     = (z~_pre(l) - mean) / std + N(0, sigma^2)      (batch statistics)
    h~(l)     = ReLU(z~(l) + beta(l))        (l < L)
    h~(L)     = softmax(gamma (z~(L) + beta(L)))

Decoder, l = L..0, with the vanilla combinator g of Rasmus et al.'s Eq. (2):

    u(L) = batchnorm(h~(L)),  u(l) = batchnorm(V(l+1) z^(l+1))
    z^(l) = (z~(l) - mu(u)) v(u) + mu(u),
    mu(u) = a1 sigmoid(a2 u + a3) + a4 u + a5,   v(u) = a6 sigmoid(a7 u + a8) + a9 u + a10.

The bottom-layer-cost variant (Pezeshki et al. 2015) keeps only the input
reconstruction cost ||z^(0) - x||^2: the decoder runs in full, down to layer
0, but no other layer has a cost. As in the EBGAN paper (appendix D), batch
normalisation has no learned scale except at the softmax layer, only a bias
beta. The clean encoder (no noise) classifies; at test time it normalises with
population statistics fitted on the training set (:meth:`Ladder.fit_population_stats`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

BN_EPS = 1e-6
COMBINATOR_INIT = (0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0)  # a1..a10 (Rasmus et al.'s code)


def normalise(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Batch-normalise the columns of ``z`` (no learned parameters); returns (z_bn, mean, var)."""
    mean = z.mean(0)
    var = z.var(0, unbiased=False)
    return (z - mean) / (var + BN_EPS).sqrt(), mean, var


class Combinator(nn.Module):
    """The vanilla denoising function g(z~, u): ten parameters per unit."""

    def __init__(self, width: int):
        super().__init__()
        self.a = nn.Parameter(torch.tensor(COMBINATOR_INIT).repeat(width, 1).t().contiguous())

    def forward(self, z_noisy: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        a = self.a
        mu = a[0] * torch.sigmoid(a[1] * u + a[2]) + a[3] * u + a[4]
        v = a[5] * torch.sigmoid(a[6] * u + a[7]) + a[8] * u + a[9]
        return (z_noisy - mu) * v + mu


class Ladder(nn.Module):
    """``sizes = (input, hidden..., classes)``, e.g. (784, 1000, 500, 250, 250, 250, 10)."""

    def __init__(self, sizes: Sequence[int], noise_std: float = 0.3):
        super().__init__()
        if len(sizes) < 2:
            raise ValueError("a ladder needs an input and an output size")
        self.sizes = tuple(sizes)
        self.noise_std = noise_std
        layers = len(sizes) - 1
        self.W = nn.ModuleList(nn.Linear(sizes[i], sizes[i + 1], bias=False) for i in range(layers))
        self.V = nn.ModuleList(nn.Linear(sizes[i + 1], sizes[i], bias=False) for i in range(layers))
        self.beta = nn.ParameterList(nn.Parameter(torch.zeros(n)) for n in sizes[1:])
        self.gamma = nn.Parameter(torch.ones(sizes[-1]))
        self.combinators = nn.ModuleList(Combinator(n) for n in sizes)
        for i, n in enumerate(sizes[1:]):
            self.register_buffer(f"pop_mean{i}", torch.zeros(n))
            self.register_buffer(f"pop_var{i}", torch.ones(n))
        for lin in (*self.W, *self.V):
            nn.init.normal_(lin.weight, 0.0, lin.in_features**-0.5)

    def _activate(self, z: torch.Tensor, i: int) -> torch.Tensor:
        """Layer i's (0-based over weight layers) nonlinearity on normalised z; logits at the top."""
        if i == len(self.W) - 1:
            return self.gamma * (z + self.beta[i])
        return F.relu(z + self.beta[i])

    def _noise(self, z: torch.Tensor) -> torch.Tensor:
        return z + self.noise_std * torch.randn_like(z)

    def corrupted(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Corrupted encoder and full decoder: (logits of the noisy path, reconstruction z^(0))."""
        x = x.flatten(1)
        z_tilde = [self._noise(x)]
        h = z_tilde[0]
        for i, w in enumerate(self.W):
            z = self._noise(normalise(w(h))[0])
            z_tilde.append(z)
            h = self._activate(z, i)
        logits = h
        z_hat = None
        for level in range(len(self.W), -1, -1):
            if level == len(self.W):
                u = normalise(torch.softmax(logits, dim=1))[0]
            else:
                u = normalise(self.V[level](z_hat))[0]
            z_hat = self.combinators[level](z_tilde[level], u)
        return logits, z_hat

    def clean_logits(self, x: torch.Tensor, population: bool = True) -> torch.Tensor:
        """Clean encoder; normalised with the population statistics or (False) the batch's."""
        h = x.flatten(1)
        for i, w in enumerate(self.W):
            z_pre = w(h)
            if population:
                z = (z_pre - getattr(self, f"pop_mean{i}")) / (getattr(self, f"pop_var{i}") + BN_EPS).sqrt()
            else:
                z = normalise(z_pre)[0]
            h = self._activate(z, i)
        return h

    @torch.no_grad()
    def fit_population_stats(self, x: torch.Tensor, batch_size: int = 1000) -> None:
        """Exact mean and variance of every clean pre-activation over ``x`` (layer by layer)."""
        h = x.flatten(1)
        for i, w in enumerate(self.W):
            z_pre = torch.cat([w(c) for c in h.split(batch_size)])
            mean, var = z_pre.mean(0), z_pre.var(0, unbiased=False)
            getattr(self, f"pop_mean{i}").copy_(mean)
            getattr(self, f"pop_var{i}").copy_(var)
            h = self._activate((z_pre - mean) / (var + BN_EPS).sqrt(), i)
