"""Associative Adversarial Networks (Arici & Celikyilmaz 2016).

D is split as D(x) = C(F(x)), F(x) being an intermediate layer with tanh
output: the visible layer of an RBM p̂ (the associative memory) that learns
the distribution p_F of F(x) on real data. G is fed Gibbs samples of p̂
instead of noise. The paper's objective:

    min_G max_{D, p̂}  E_data[log D(x)] + E_{f~p̂}[log(1 - D(G(f)))] + E_{f~p_F}[log p̂(f)].

Per training step (``train_step``):

1. F and C score a real batch; the RBM takes one CD-k (or PCD-k) step on
   F(x) of that batch (third term, maximised over p̂ only: F is detached, our
   reading); the step's negative samples f ~ p̂ are G's input (paper: "the
   negative samples created by the RBM's contrastive divergence learning are
   used as inputs to G").
2. D = C(F(.)) ascends the first two terms with Adam.
3. G descends log(1 - D(G(f))) (``saturating``, the objective as written) or
   -log D(G(f)) (``non_saturating``) with Adam, on the same f.

With D = sigmoid(l): log D = -softplus(-l), log(1 - D) = -softplus(l). Both
terms of D's objective are logged (``log_d_real``, ``log_1m_d_fake``); their
ratio E_data[log D(x)] / E[log(1 - D(G(f)))] is the paper's training-balance
measure (1 at the equilibrium, where both are log 1/2).

``prior: noise`` is the control: the same F, C and G, G fed U(-1, 1) noise,
no RBM.

After training, ``generate`` runs ``sample_steps`` Gibbs steps from random
spins and maps E[v | h] through G; ``evaluate`` reports the balance summary
and, for the RBM prior, the Gibbs-steps figure (chains started at F(x) of
held-out images, as in the paper's figure) and the measured image change per
Gibbs step.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from pipeline.data.sources import DataSource
from pipeline.hparams.aan import AANHParams
from pipeline.models.base import Evaluation, Model, generator_loss, minimax_terms, set_requires_grad
from pipeline.nets.aan import (
    classifier,
    conv_features,
    conv_generator,
    init_normal_,
    mlp_features,
    mlp_generator,
)
from pipeline.nets.optim import adam
from pipeline.nets.rbm import RBM, ContrastiveDivergence
from pipeline.profiling import phase

GENERATE_CHUNK = 1000
RATIO_EPS = 1e-8  # keeps the balance ratio finite when D is certain about fakes [ours]


def balance_summary(history: torch.Tensor) -> dict[str, float]:
    """Training balance from per-step (E log D(x), E log(1 - D(G(f)))) rows.

    ratio_t = E log D(x) / E log(1 - D(G(f))) per step; over the second half of
    training: ``balance_ratio`` = mean ratio, ``balance_gap`` = mean |ratio - 1|."""
    if len(history) == 0:
        return {}
    tail = history[len(history) // 2 :].double()
    ratio = tail[:, 0] / tail[:, 1].clamp(max=-RATIO_EPS)
    return {"balance_ratio": ratio.mean().item(), "balance_gap": (ratio - 1).abs().mean().item()}


class AAN(Model):
    def __init__(self, hp: AANHParams, data: DataSource, device: torch.device):
        super().__init__(hp, data, device)
        spec = data.spec
        if not spec.is_image:
            raise ValueError("AAN needs image data")
        if hp.arch == "dcgan":
            f = conv_features(spec.shape, hp.d_channels, hp.visible, hp.visible_units, hp.batchnorm, hp.leak)
            g = conv_generator(hp.visible, spec.shape, hp.d_channels, hp.batchnorm)
        else:
            f = mlp_features(spec.dim, hp.d_hidden, hp.visible, hp.visible_units, hp.batchnorm, hp.leak)
            g = mlp_generator(hp.visible, hp.g_hidden, spec.shape, hp.batchnorm)
        c = classifier(hp.visible, hp.c_hidden, hp.leak)
        for net in (f, c, g):
            init_normal_(net, hp.init_std)
        self.nets["F"], self.nets["C"], self.nets["G"] = f.to(device), c.to(device), g.to(device)
        betas = tuple(hp.adam_betas)
        d_params = [*self.nets["F"].parameters(), *self.nets["C"].parameters()]
        self.optimizers = {
            "D": adam(d_params, hp.lr, betas),
            "G": adam(self.nets["G"].parameters(), hp.lr, betas),
        }
        self.cd: ContrastiveDivergence | None = None
        if hp.prior == "rbm":
            self.nets["RBM"] = RBM(hp.visible, hp.hidden, hp.visible_units, hp.rbm_init_std).to(device)
            self.cd = ContrastiveDivergence(
                self.nets["RBM"], hp.cd_k, hp.rbm_learning == "pcd", hp.rbm_lr, hp.rbm_momentum
            )
            self.optimizers["RBM"] = self.cd.optimizer
        self._balance: list[torch.Tensor] = []

    # -- pieces ---------------------------------------------------------------------------

    def discriminate(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(F(x), logit of D(x) = C(F(x))) for images in [-1, 1]."""
        f = self.nets["F"](x)
        return f, self.nets["C"](f).squeeze(1)

    def _noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        if generator is None:
            u = torch.rand(n, self.hp.visible, device=self.device)
        else:
            u = torch.rand(n, self.hp.visible, generator=generator).to(self.device)
        return u * 2 - 1

    def _g_input(self, sample: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
        return mean if self.hp.g_input == "mean" else sample

    # -- training -------------------------------------------------------------------------

    def train_step(self, x: torch.Tensor, y: torch.Tensor, step: int) -> dict[str, torch.Tensor]:
        real = x * 2 - 1
        logs: dict[str, torch.Tensor] = {}
        with phase("d_step"):
            f_real, real_logits = self.discriminate(real)
            with phase("rbm"):
                if self.cd is not None:
                    negatives = self.cd.step(f_real)
                    f_in = self._g_input(negatives.sample, negatives.mean)
                    logs["rbm_free_energy_gap"] = negatives.loss
                else:
                    f_in = self._noise(real.shape[0])
            fake = self.nets["G"](f_in)
            _, fake_logits = self.discriminate(fake.detach())
            log_d_real, log_1m_d_fake = minimax_terms(real_logits, fake_logits)
            loss_d = -(log_d_real + log_1m_d_fake)
            self.optimizers["D"].zero_grad(set_to_none=True)
            loss_d.backward()
            self.optimizers["D"].step()

        with phase("g_step"):
            for name in ("F", "C"):
                set_requires_grad(self.nets[name], False)
            loss_g = generator_loss(self.discriminate(fake)[1], self.hp.g_loss)
            self.optimizers["G"].zero_grad(set_to_none=True)
            loss_g.backward()
            self.optimizers["G"].step()
            for name in ("F", "C"):
                set_requires_grad(self.nets[name], True)

        terms = torch.stack([log_d_real, log_1m_d_fake]).detach()
        self._balance.append(terms)
        return {
            "loss_d": loss_d.detach(),
            "loss_g": loss_g.detach(),
            "log_d_real": terms[0],
            "log_1m_d_fake": terms[1],
            **logs,
        }

    # -- sampling -------------------------------------------------------------------------

    def _images(self, f: torch.Tensor) -> torch.Tensor:
        """G's images in [0, 1] (inference mode, nets in eval mode)."""
        return ((self.nets["G"](f) + 1) / 2).clamp(0, 1)

    @torch.inference_mode()
    def generate(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        self.nets.eval()
        out = []
        for start in range(0, n, GENERATE_CHUNK):
            m = min(GENERATE_CHUNK, n - start)
            if self.cd is None:
                f = self._noise(m, generator)
            else:
                rbm = self.nets["RBM"]
                v0 = rbm.random_visible(m, rbm.W, generator)
                f = self._g_input(*rbm.gibbs(v0, self.hp.sample_steps, generator))
            out.append(self._images(f).float().cpu())
        self.nets.train()
        return {"G": torch.cat(out)}

    @torch.inference_mode()
    def gibbs_chain(self, x: torch.Tensor, steps: int, generator: torch.Generator
                    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Block Gibbs chains started at F(x) of a batch of real images ``x`` in [0, 1]:
        G's inputs (N, steps, V) and G's images (N, steps, C, H, W) for t = 1..steps.
        F normalises with the batch's own statistics, as for the RBM's training data."""
        self.nets.eval()
        f0, _ = self.discriminate(x.to(self.device) * 2 - 1)
        f = self._g_input(*self.nets["RBM"].chain(f0, steps, generator))  # (steps, N, V)
        images = self._images(f.flatten(0, 1)).view(steps, len(x), *self.spec.shape)
        self.nets.train()
        return f.transpose(0, 1).float().cpu(), images.transpose(0, 1).float().cpu()

    def evaluate(self, data: DataSource, generator: torch.Generator) -> Evaluation:
        """Balance summary; for the RBM prior also the Gibbs-steps figure (``gibbs_chain``:
        held-out image then G's images after 1..chain_steps steps, uint8) and the change
        per Gibbs step: mean |G(f_{t+1}) - G(f_t)| over pixels in [0, 1]
        (``chain_change_per_step``) and mean |f_{t+1} - f_t| over G's input units
        (``chain_feature_change_per_step``), averaged over ``chain_probe`` chains
        started at F(x) of held-out images."""
        history = torch.stack(self._balance).cpu() if self._balance else torch.empty(0, 2)
        metrics = balance_summary(history)
        arrays: dict[str, np.ndarray] = {}
        if self.cd is not None:
            hp = self.hp
            x = data.heldout()[0][: max(hp.chain_probe, hp.chain_rows)].float()
            inputs, images = self.gibbs_chain(x, hp.chain_steps, generator)
            rows = hp.chain_rows
            figure = torch.cat([x[:rows].unsqueeze(1), images[:rows]], dim=1)
            arrays["gibbs_chain"] = figure.mul(255).round().to(torch.uint8).numpy()
            probe, probe_inputs = images[: hp.chain_probe], inputs[: hp.chain_probe]
            change = (probe[:, 1:] - probe[:, :-1]).abs().mean(dim=(0, 2, 3, 4))  # step t -> t+1
            arrays["chain_change"] = change.numpy()
            arrays["chain_drift"] = (probe - probe[:, :1]).abs().mean(dim=(0, 2, 3, 4)).numpy()
            metrics["chain_change_per_step"] = change.mean().item()
            metrics["chain_feature_change_per_step"] = (probe_inputs[:, 1:] - probe_inputs[:, :-1]).abs().mean().item()
        return Evaluation(metrics, arrays)

    # -- state ----------------------------------------------------------------------------

    def extra_state(self) -> dict[str, Any]:
        history = torch.stack(self._balance).cpu() if self._balance else torch.empty(0, 2)
        state: dict[str, Any] = {"balance": history}
        if self.cd is not None:
            chains = self.cd.chains
            state["chains"] = None if chains is None else chains.cpu()
        return state

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self._balance = list(state["balance"].to(self.device).unbind(0))
        if self.cd is not None:
            chains = state["chains"]
            self.cd.chains = None if chains is None else chains.to(self.device)

    def parameter_count(self) -> dict[str, int]:
        counts = super().parameter_count()
        counts["D"] = counts["F"] + counts["C"]
        return counts

