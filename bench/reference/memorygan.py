"""Reference training step of MemoryGAN (pipeline/models/memorygan.py) and its ablations
(full; -EM: lifelong memory update; -MCGN: plain G; -Memory: plain D and G).

One step: linear lr decay (``lr_decay_steps``), optional brightness / contrast
augmentation of the real images, a D step (real and fake through the inference
network separately, D(x) read from the memory and clipped to [eps, 1 - eps], or a
linear logit for -Memory; plus the mutual-information term), the memory update with
the step's real (label 1) and fake (label 0) queries, a G step with fresh z and slots,
and optionally (``update_in_g_step``) a second memory update with the G step's fake
queries.

Shared with the pipeline: the ``Memory`` module (pipeline/nets/memory.py) is the
paper's algorithm, not training-loop mechanics: the reference trains a deep copy of
the model's memory and calls its ``sample`` (slot draws c ~ h_c v_c), ``forward``
(Eq. 1-4) and ``update`` (Eq. 5 / Kaiser et al.). Everything else (augmentation,
latent sampling, losses, MI term, the step loop) is written here. The slot-prior
snapshots of the pipeline (figure bookkeeping, no random numbers) are skipped.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from bench.reference.common import adam

BRIGHTNESS = 16 / 255
CONTRAST = (0.8, 1.2)


def augment(x: torch.Tensor) -> torch.Tensor:
    b = x.shape[0]
    x = x + (torch.rand(b, 1, 1, 1) * 2 - 1) * BRIGHTNESS
    factor = CONTRAST[0] + torch.rand(b, 1, 1, 1) * (CONTRAST[1] - CONTRAST[0])
    mean = x.mean(dim=(2, 3), keepdim=True)
    return ((x - mean) * factor + mean).clamp(0, 1)


class Reference:
    def __init__(self, model):
        self.hp, self.spec = model.hp, model.spec
        self.use_memory = self.hp.discriminator == "memory"
        self.mcgn = self.hp.generator == "mcgn"
        self.G = copy.deepcopy(model.nets["G"])
        self.D = copy.deepcopy(model.nets["D"])
        self.M = copy.deepcopy(model.nets["M"]) if self.use_memory else None
        self.opt_d = adam(self.D.parameters(), self.hp.lr, self.hp.adam_betas)
        self.opt_g = adam(self.G.parameters(), self.hp.lr, self.hp.adam_betas)
        self.bce = nn.BCEWithLogitsLoss()

    def set_lr(self, step: int) -> None:
        if not self.hp.lr_decay_steps:
            return
        lr = self.hp.lr * max(0.0, 1.0 - step / self.hp.lr_decay_steps)
        for opt in (self.opt_d, self.opt_g):
            for group in opt.param_groups:
                group["lr"] = lr

    def latent(self, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        z = torch.rand(n, self.hp.z_dim) * 2 - 1
        if not self.mcgn:
            return z, None
        slots = self.M.sample(n)
        return z, self.M.keys[slots]

    def generate(self, z: torch.Tensor, keys: torch.Tensor | None) -> torch.Tensor:
        out = self.G(z if keys is None else torch.cat([z, keys], dim=1))
        return torch.sigmoid(out) if self.hp.output == "sigmoid" else torch.tanh(out)

    def d_prob(self, raw: torch.Tensor) -> torch.Tensor:
        """D(x) from the memory, clipped."""
        return self.M(F.normalize(raw, dim=1)).clamp(self.hp.eps, 1 - self.hp.eps)

    def mi(self, raw: torch.Tensor, keys: torch.Tensor | None) -> torch.Tensor:
        if keys is None:
            return torch.zeros(())
        if self.hp.mi_form == "cosine":
            return -(F.normalize(raw, dim=1) * keys).sum(1).mean()
        return F.mse_loss(raw, keys)

    def step(self, x: torch.Tensor, y: torch.Tensor, step: int) -> dict[str, float]:
        hp = self.hp
        b = x.shape[0]
        self.set_lr(step)
        if hp.augment:
            x = augment(x)
        real = x if hp.output == "sigmoid" else x * 2 - 1

        # D step
        z, keys = self.latent(b)
        fake = self.generate(z, keys).detach()
        raw_real = self.D(real)
        raw_fake = self.D(fake)
        if self.use_memory:
            d_real, d_fake = self.d_prob(raw_real), self.d_prob(raw_fake)
            loss_d = -(torch.log(d_real).mean() + torch.log(1 - d_fake).mean())
        else:
            logit_real, logit_fake = raw_real.squeeze(1), raw_fake.squeeze(1)
            loss_d = self.bce(logit_real, torch.ones_like(logit_real)) + self.bce(logit_fake, torch.zeros_like(logit_fake))
            d_real, d_fake = torch.sigmoid(logit_real), torch.sigmoid(logit_fake)
        loss_d = loss_d + hp.mi_weight * self.mi(raw_fake, keys)
        self.opt_d.zero_grad()
        loss_d.backward()
        self.opt_d.step()
        logs = {"loss_d": loss_d.item(), "d_real": d_real.mean().item(), "d_fake": d_fake.mean().item()}

        if self.use_memory:
            queries = F.normalize(torch.cat([raw_real, raw_fake]).detach(), dim=1)
            labels = torch.cat([torch.ones(b), torch.zeros(b)])
            logs["replace_rate"] = self.M.update(queries, labels).item()

        # G step
        z, keys = self.latent(b)
        raw_fake = self.D(self.generate(z, keys))
        if self.use_memory:
            d_fake = self.d_prob(raw_fake)
            if hp.g_loss == "saturating":
                loss_g = torch.log(1 - d_fake).mean()
            else:
                loss_g = -torch.log(d_fake).mean()
        else:
            logit = raw_fake.squeeze(1)
            if hp.g_loss == "saturating":
                loss_g = -self.bce(logit, torch.zeros_like(logit))
            else:
                loss_g = self.bce(logit, torch.ones_like(logit))
        mi_g = self.mi(raw_fake, keys)
        loss_g = loss_g + hp.mi_weight * mi_g
        self.opt_g.zero_grad()
        loss_g.backward()
        self.opt_g.step()
        if self.use_memory and hp.update_in_g_step:
            self.M.update(F.normalize(raw_fake.detach(), dim=1), torch.zeros(b))
        logs.update(loss_g=loss_g.item(), mi=mi_g.item())
        return logs

    def nets(self) -> dict[str, nn.Module]:
        out = {"G": self.G, "D": self.D}
        if self.M is not None:
            out["M"] = self.M
        return out
