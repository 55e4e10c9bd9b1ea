"""Restricted Boltzmann machine: AAN's associative memory (Arici & Celikyilmaz 2016).

Visible units v (``spin``: states in {-1, +1}, the paper's tanh reading; or
``gaussian``: real-valued with unit variance), binary hidden units h in {0, 1}:

- spin:      E(v, h) = -v'Wh - b'v - c'h
- gaussian:  E(v, h) = |v - b|^2 / 2 - v'Wh - c'h

Conditionals (block Gibbs): p(h_j = 1 | v) = sigmoid(c_j + v'W_j) for both;
spin: p(v_i = +1 | h) = sigmoid(2 a_i), so E[v_i | h] = tanh(a_i) with
a = b + Wh (why the paper's visible layer F ends in tanh); gaussian:
v | h ~ N(b + Wh, I).

Free energy F(v) = -log sum_h exp(-E(v, h)) = e(v) - sum_j softplus(c_j + v'W_j)
with e(v) = -b'v (spin) or |v - b|^2 / 2 (gaussian); p(v) = exp(-F(v)) / Z.
Spin visible units accept data anywhere in [-1, 1]: the energy is linear in v,
so a real value acts as the mean of a spin (as probabilities do as data of a
binary RBM).

Learning maximises E_data log p(v) (the third term of the AAN objective). Its
gradient is -E_data[dF/dtheta] + E_model[dF/dtheta]; contrastive divergence
(CD-k, Hinton 2002) replaces the model expectation by visible states after k
block Gibbs steps from the data, persistent CD (PCD, Tieleman 2008) by k steps
continued from the previous update's chains. Both are the gradient of
``mean F(v_data) - mean F(v_neg)`` with v_neg held fixed, minimised here by SGD
with momentum (the paper's optimiser for the RBM).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.nets.optim import sgd

VisibleUnits = Literal["spin", "gaussian"]


def _uniform(shape: torch.Size, like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """U(0, 1) noise; drawn on the CPU from ``generator`` when one is given
    (same numbers on every device), else from torch's global RNG on ``like``'s device."""
    if generator is None:
        return torch.rand(shape, device=like.device, dtype=like.dtype)
    return torch.rand(shape, generator=generator).to(like)


def _normal(shape: torch.Size, like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    if generator is None:
        return torch.randn(shape, device=like.device, dtype=like.dtype)
    return torch.randn(shape, generator=generator).to(like)


class RBM(nn.Module):
    def __init__(self, n_visible: int, n_hidden: int, visible: VisibleUnits = "spin", init_std: float = 0.01):
        super().__init__()
        if visible not in ("spin", "gaussian"):
            raise ValueError(f"visible units must be 'spin' or 'gaussian', got {visible!r}")
        self.visible = visible
        self.W = nn.Parameter(torch.randn(n_visible, n_hidden) * init_std)
        self.b = nn.Parameter(torch.zeros(n_visible))
        self.c = nn.Parameter(torch.zeros(n_hidden))

    @property
    def n_visible(self) -> int:
        return self.W.shape[0]

    @property
    def n_hidden(self) -> int:
        return self.W.shape[1]

    # -- energies ---------------------------------------------------------------------------

    def _visible_term(self, v: torch.Tensor) -> torch.Tensor:
        if self.visible == "spin":
            return -(v @ self.b)
        return 0.5 * (v - self.b).pow(2).sum(-1)

    def energy(self, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """E(v, h) per row."""
        return self._visible_term(v) - ((v @ self.W) * h).sum(-1) - h @ self.c

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """F(v) = -log sum_h exp(-E(v, h)) per row."""
        return self._visible_term(v) - F.softplus(v @ self.W + self.c).sum(-1)

    # -- conditionals -----------------------------------------------------------------------

    def hidden_prob(self, v: torch.Tensor) -> torch.Tensor:
        """p(h_j = 1 | v) = sigmoid(c_j + v'W_j)."""
        return torch.sigmoid(v @ self.W + self.c)

    def visible_mean(self, h: torch.Tensor) -> torch.Tensor:
        """E[v | h]: tanh(b + Wh) for spin units, b + Wh for gaussian units."""
        a = h @ self.W.t() + self.b
        return torch.tanh(a) if self.visible == "spin" else a

    def sample_hidden(self, v: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        p = self.hidden_prob(v)
        return (_uniform(p.shape, p, generator) < p).to(p.dtype)

    def sample_visible(self, h: torch.Tensor, generator: torch.Generator | None = None
                       ) -> tuple[torch.Tensor, torch.Tensor]:
        """(sample, mean) of v | h."""
        mean = self.visible_mean(h)
        if self.visible == "spin":
            up = _uniform(mean.shape, mean, generator) < (1 + mean) / 2  # p(v=+1|h) = sigmoid(2a)
            return torch.where(up, 1.0, -1.0).to(mean.dtype), mean
        return mean + _normal(mean.shape, mean, generator), mean

    def random_visible(self, n: int, like: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """A chain start independent of data: uniform spins, or N(0, I) for gaussian units."""
        shape = torch.Size((n, self.n_visible))
        if self.visible == "spin":
            return torch.where(_uniform(shape, like, generator) < 0.5, 1.0, -1.0).to(like.dtype)
        return _normal(shape, like, generator)

    # -- sampling ---------------------------------------------------------------------------

    def gibbs(self, v: torch.Tensor, steps: int, generator: torch.Generator | None = None
              ) -> tuple[torch.Tensor, torch.Tensor]:
        """``steps`` block Gibbs steps v -> h -> v from ``v``: (last sample, its conditional mean)."""
        mean = v
        for _ in range(steps):
            v, mean = self.sample_visible(self.sample_hidden(v, generator), generator)
        return v, mean

    def chain(self, v: torch.Tensor, steps: int, generator: torch.Generator | None = None
              ) -> tuple[torch.Tensor, torch.Tensor]:
        """Visible samples and their conditional means E[v | h_t] along one block Gibbs
        chain from ``v``, t = 1..steps: two (steps, N, V) tensors."""
        samples, means = [], []
        for _ in range(steps):
            v, mean = self.sample_visible(self.sample_hidden(v, generator), generator)
            samples.append(v)
            means.append(mean)
        return torch.stack(samples), torch.stack(means)

    def contrastive_loss(self, v_data: torch.Tensor, v_neg: torch.Tensor) -> torch.Tensor:
        """mean F(v_data) - mean F(v_neg): its gradient with v_neg fixed is minus the
        CD / PCD estimate of the log-likelihood gradient."""
        return self.free_energy(v_data).mean() - self.free_energy(v_neg.detach()).mean()


@dataclass
class NegativeSamples:
    sample: torch.Tensor  # visible states after k Gibbs steps
    mean: torch.Tensor  # E[v | h_k] of the last step
    loss: torch.Tensor  # mean F(v_data) - mean F(v_neg) before the update (detached)


class ContrastiveDivergence:
    """CD-k or PCD-k training of an :class:`RBM` with SGD + momentum.

    ``step(v_data)`` runs k block Gibbs steps (from ``v_data`` for CD, from the
    persistent chains for PCD), takes one SGD step on
    :meth:`RBM.contrastive_loss` and returns the negative samples."""

    def __init__(self, rbm: RBM, k: int, persistent: bool, lr: float, momentum: float):
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.rbm, self.k, self.persistent = rbm, k, persistent
        self.optimizer = sgd(rbm.parameters(), lr, momentum)
        self.chains: torch.Tensor | None = None

    def step(self, v_data: torch.Tensor) -> NegativeSamples:
        v_data = v_data.detach()
        with torch.no_grad():
            start = v_data
            if self.persistent:
                if self.chains is None or self.chains.shape != v_data.shape:
                    self.chains = self.rbm.random_visible(v_data.shape[0], v_data)
                start = self.chains
            sample, mean = self.rbm.gibbs(start, self.k)
            if self.persistent:
                self.chains = sample
        loss = self.rbm.contrastive_loss(v_data, sample)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return NegativeSamples(sample, mean, loss.detach())
