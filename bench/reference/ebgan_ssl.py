"""Reference training step of EBGAN-LN and its ladder baseline (pipeline/models/ebgan_ssl.py):
the ladder D minimises CE(labelled) + mean D(x) (+ the per-sample hinge
mean [m_t - D(G(z))]^+ while G trains), G minimises mean D(G(z)) for the first
``g_steps`` steps; the margin decays linearly over ``margin_decay_steps``, both
learning rates decay linearly to 0 between ``lr_decay_start`` and ``lr_decay_end``.

Shared with the pipeline: the networks (deep copies of the model's ladder D and G),
the ladder module's own forward (pipeline/nets/ladder.py ``Ladder.corrupted``: the
noisy encoder and the denoising decoder, the algorithm) and the labelled subset
the model drew at construction (``model.labelled``). The energy, the losses, the
schedules and the updates are written here, with PyTorch's default optimisers.

With the fused Adam of the pipeline in place of the default one, this step is bit-identical
to ``EBGANSSL.train_step``. With the default Adam the two runs part at the scale of the
learning rate within a few steps: the decoder above level 0 starts with an exact gradient
of 0, so Adam amplifies rounding noise (tests/benchmark/test_reference_ebgan_ssl.py
explains this). The work per step is the same either way.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from bench.reference.common import adam


class Reference:
    def __init__(self, model):
        self.hp = hp = model.hp
        self.lx, self.ly = model.labelled
        self.D = copy.deepcopy(model.nets["D"])
        self.opt_d = adam(self.D.parameters(), hp.lr, (hp.adam_beta1, 0.999))
        self.G = None
        if hp.adversarial:
            self.G = copy.deepcopy(model.nets["G"])
            self.opt_g = adam(self.G.parameters(), hp.lr_g, (hp.adam_beta1, 0.999))

    def energy(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits, recon = self.D.corrupted(x)
        return self.hp.recon_weight * ((recon - x) ** 2).sum(1), logits

    def set_lr(self, step: int) -> None:
        hp = self.hp
        if step < hp.lr_decay_start:
            factor = 1.0
        else:
            factor = max(0.0, (hp.lr_decay_end - step) / max(hp.lr_decay_end - hp.lr_decay_start, 1))
        for group in self.opt_d.param_groups:
            group["lr"] = hp.lr * factor
        if self.G is not None:
            for group in self.opt_g.param_groups:
                group["lr"] = hp.lr_g * factor

    def step(self, x: torch.Tensor, y: torch.Tensor, step: int) -> dict[str, float]:
        hp = self.hp
        self.set_lr(step)
        train_g = hp.adversarial and step < hp.g_steps
        pick = torch.randint(len(self.ly), (hp.labelled_batch,))
        batch = torch.cat([self.lx[pick], x.view(x.shape[0], -1)])
        e_real, logits = self.energy(batch)
        ce = F.cross_entropy(logits[: hp.labelled_batch], self.ly[pick])
        logs = {"ce": ce.item(), "energy_real": e_real.mean().item()}
        loss_d = ce + e_real.mean()
        if train_g:
            margin = hp.margin * max(0.0, 1.0 - step / hp.margin_decay_steps)
            fake = self.G(torch.randn(x.shape[0], hp.z_dim))
            e_fake, _ = self.energy(fake.detach())
            loss_d = loss_d + F.relu(margin - e_fake).mean()
            logs.update(energy_fake=e_fake.mean().item(), margin=margin)
        self.opt_d.zero_grad()
        loss_d.backward()
        self.opt_d.step()
        logs["loss_d"] = loss_d.item()
        if train_g:
            loss_g = self.energy(fake)[0].mean()
            self.opt_g.zero_grad()
            loss_g.backward()
            self.opt_g.step()
            logs["loss_g"] = loss_g.item()
        return logs

    def nets(self) -> dict[str, nn.Module]:
        nets = {"D": self.D}
        if self.G is not None:
            nets["G"] = self.G
        return nets
