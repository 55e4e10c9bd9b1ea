"""Reference training step of Discriminator Contrastive Divergence (pipeline/models/dcd.py).

Base phase (steps < base_steps): n_dis critic updates, each on its own slice of the
batch with fresh fakes, real and fake scored in one pass (one spectral-norm power
iteration per update), hinge or WGAN loss; then one G update on g_batch_factor x batch
samples; lr decays linearly to 0 over the phase.

Fine-tuning phase (base_steps .. base_steps + finetune_steps): at its first step the
critic is copied into D_cd (fresh Adam); each step draws Langevin negatives from G(z)
on D_cd (G and D_cd in eval mode: BN statistics and spectral-norm vectors fixed) in
pixel or latent space, reused for the n_dis updates or fresh per update
(``finetune_fresh_negatives``), with the hinge or wgan_l2 contrastive loss; its lr
decays linearly over the phase.

Shared with the pipeline: the Langevin samplers ``pixel_langevin`` / ``latent_langevin``
of pipeline/models/dcd.py (the paper's sampling algorithm). Unlike the pipeline, which
runs them inside ``frozen(G, critic)`` (no parameter gradients, spectrally normalised
weights cached once per chain), the reference only switches both nets to eval mode:
parameters keep requiring gradients and W / sigma(W) is recomputed at every forward
(eval-mode spectral norm does no power iteration, so the numbers are the same).
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from bench.reference.common import adam
from pipeline.models.dcd import latent_langevin, pixel_langevin


class Reference:
    def __init__(self, model):
        self.hp, self.spec = model.hp, model.spec
        self.is_image = self.spec.is_image
        self.G = copy.deepcopy(model.nets["G"])
        self.D = copy.deepcopy(model.nets["D"])
        self.D_cd = copy.deepcopy(model.nets["D_cd"])
        hp = self.hp
        self.opt_g = adam(self.G.parameters(), hp.lr, hp.adam_betas)
        self.opt_d = adam(self.D.parameters(), hp.lr, hp.adam_betas)
        self.opt_cd = adam(self.D_cd.parameters(), hp.finetune_lr, hp.adam_betas)

    def set_lr(self, opts, lr: float, t: int, horizon: int) -> None:
        if self.hp.lr_decay == "linear":
            lr = lr * max(0.0, 1.0 - t / max(horizon, 1))
        for opt in opts:
            for group in opt.param_groups:
                group["lr"] = lr

    def sample_z(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.hp.z_dim)

    # -- base GAN -----------------------------------------------------------------------------

    def base_step(self, x: torch.Tensor, step: int) -> dict[str, float]:
        hp = self.hp
        batch = x.shape[0] // hp.n_dis
        self.set_lr((self.opt_g, self.opt_d), hp.lr, step, hp.base_steps)
        if self.is_image:
            x = x * 2 - 1
        for i in range(hp.n_dis):
            real = x[i * batch:(i + 1) * batch]
            fake = self.G(self.sample_z(batch)).detach()
            out = self.D(torch.cat([real, fake]))
            d_real, d_fake = out[:batch], out[batch:]
            if hp.base_loss == "hinge":
                loss_d = F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
            else:
                loss_d = d_fake.mean() - d_real.mean()
            self.opt_d.zero_grad()
            loss_d.backward()
            self.opt_d.step()
        loss_g = -self.D(self.G(self.sample_z(batch * hp.g_batch_factor))).mean()
        self.opt_g.zero_grad()
        loss_g.backward()
        self.opt_g.step()
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item(),
                "d_real": d_real.mean().item(), "d_fake": d_fake.mean().item()}

    # -- contrastive fine-tuning ----------------------------------------------------------------

    def negatives(self, n: int) -> torch.Tensor:
        hp = self.hp
        z = self.sample_z(n)
        self.G.eval()
        self.D_cd.eval()
        if hp.finetune_space == "pixel":
            x0 = self.G(z).detach()
            bounds = (-1.0, 1.0) if self.is_image else None
            x, _ = pixel_langevin(x0, self.D_cd, hp.pixel_steps, hp.pixel_step_size, hp.pixel_noise,
                                  hp.pixel_grad_clip, bounds)
        else:
            x, _, _ = latent_langevin(z, self.D_cd, self.G, hp.latent_steps, hp.latent_step_size,
                                      hp.latent_noise, hp.latent_prior)
        self.G.train()
        self.D_cd.train()
        return x.detach()

    def finetune_step(self, x: torch.Tensor, t: int) -> dict[str, float]:
        hp = self.hp
        if t == 0:
            self.D_cd.load_state_dict(self.D.state_dict())
        batch = x.shape[0] // hp.n_dis
        self.set_lr((self.opt_cd,), hp.finetune_lr, t, hp.finetune_steps)
        if self.is_image:
            x = x * 2 - 1
        neg = None
        for i in range(hp.n_dis):
            if neg is None or hp.finetune_fresh_negatives:
                real = x[i * batch:(i + 1) * batch]
                neg = self.negatives(batch)
            out = self.D_cd(torch.cat([real, neg]))
            d_real, d_neg = out[:batch], out[batch:]
            if hp.finetune_loss == "hinge":
                loss = F.relu(1 - d_real).mean() + F.relu(1 + d_neg).mean()
            else:
                loss = (d_neg - d_real + hp.finetune_l2 * (d_neg**2 + d_real**2)).mean()
            self.opt_cd.zero_grad()
            loss.backward()
            self.opt_cd.step()
        return {"cd_loss": loss.item(), "cd_real": d_real.mean().item(), "cd_neg": d_neg.mean().item()}

    # -------------------------------------------------------------------------------------------

    def step(self, x: torch.Tensor, y: torch.Tensor, step: int) -> dict[str, float]:
        hp = self.hp
        if step < hp.base_steps:
            return self.base_step(x, step)
        t = step - hp.base_steps
        if t >= hp.finetune_steps:
            raise ValueError(f"step {step} is past base_steps + finetune_steps")
        return self.finetune_step(x, t)

    def nets(self) -> dict[str, nn.Module]:
        return {"G": self.G, "D": self.D, "D_cd": self.D_cd}
