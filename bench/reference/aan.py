"""Reference training step of Associative Adversarial Networks (pipeline/models/aan.py):
D = C(F(x)); the RBM takes one CD-k / PCD-k step (plain SGD + momentum) on F(real);
G is fed the step's negative samples (or their conditional mean, ``g_input: mean``),
or U(-1, 1) noise for the ``prior: noise`` control; D ascends
log D(x) + log(1 - D(G(f))) (its real and fake terms backpropagated one after the
other, as in PyTorch's DCGAN example), G descends log(1 - D(G(f))) or -log D(G(f)).

Shared with the pipeline: the networks (deep copies of the model's F, C, G and RBM)
and the RBM module's own math (pipeline/nets/rbm.py: ``random_visible``,
``sample_hidden`` / ``sample_visible`` for the block Gibbs steps and
``contrastive_loss``), i.e. the algorithm. The CD / PCD update itself (the Gibbs
loop, the persistent chains, the SGD step) is written here, with PyTorch's default
optimisers instead of the pipeline's fused ones, and neither ``AAN.train_step`` nor
``ContrastiveDivergence.step`` is used.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from bench.reference.common import adam, sgd


class Reference:
    def __init__(self, model):
        self.hp = hp = model.hp
        self.F = copy.deepcopy(model.nets["F"])
        self.C = copy.deepcopy(model.nets["C"])
        self.G = copy.deepcopy(model.nets["G"])
        self.opt_d = adam(list(self.F.parameters()) + list(self.C.parameters()), hp.lr, hp.adam_betas)
        self.opt_g = adam(self.G.parameters(), hp.lr, hp.adam_betas)
        self.rbm = None
        if hp.prior == "rbm":
            self.rbm = copy.deepcopy(model.nets["RBM"])
            self.opt_rbm = sgd(self.rbm.parameters(), hp.rbm_lr, hp.rbm_momentum)
        self.chains = None  # PCD's persistent negative chains

    def D(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.F(x)
        return f, self.C(f).squeeze(1)

    def rbm_step(self, v_data: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One CD-k / PCD-k update on ``v_data``: (negative sample, its mean E[v | h_k], loss)."""
        v_data = v_data.detach()
        with torch.no_grad():
            if self.hp.rbm_learning == "pcd":
                if self.chains is None or self.chains.shape != v_data.shape:
                    self.chains = self.rbm.random_visible(v_data.shape[0], v_data)
                v = self.chains
            else:
                v = v_data
            mean = v
            for _ in range(self.hp.cd_k):
                h = self.rbm.sample_hidden(v)
                v, mean = self.rbm.sample_visible(h)
            if self.hp.rbm_learning == "pcd":
                self.chains = v
        loss = self.rbm.contrastive_loss(v_data, v)
        self.opt_rbm.zero_grad()
        loss.backward()
        self.opt_rbm.step()
        return v, mean, loss

    def step(self, x: torch.Tensor, y: torch.Tensor, step: int) -> dict[str, float]:
        hp = self.hp
        real = x * 2 - 1
        logs: dict[str, float] = {}
        f_real, real_logits = self.D(real)
        if self.rbm is not None:
            sample, mean, rbm_loss = self.rbm_step(f_real)
            f_in = mean if hp.g_input == "mean" else sample
            logs["rbm_free_energy_gap"] = rbm_loss.item()
        else:
            f_in = torch.rand(real.shape[0], hp.visible) * 2 - 1
        fake = self.G(f_in)

        _, fake_logits = self.D(fake.detach())
        self.opt_d.zero_grad()
        log_d_real = -F.softplus(-real_logits).mean()
        (-log_d_real).backward()
        log_1m_d_fake = -F.softplus(fake_logits).mean()
        (-log_1m_d_fake).backward()
        loss_d = -(log_d_real + log_1m_d_fake)
        self.opt_d.step()

        _, out = self.D(fake)
        if hp.g_loss == "non_saturating":
            loss_g = F.softplus(-out).mean()
        else:
            loss_g = -F.softplus(out).mean()
        self.opt_g.zero_grad()
        loss_g.backward()
        self.opt_g.step()
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item(), "log_d_real": log_d_real.item(),
                "log_1m_d_fake": log_1m_d_fake.item(), **logs}

    def nets(self) -> dict[str, nn.Module]:
        nets = {"F": self.F, "C": self.C, "G": self.G}
        if self.rbm is not None:
            nets["RBM"] = self.rbm
        return nets
