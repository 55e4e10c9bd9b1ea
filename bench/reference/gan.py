"""Reference training step of the original GAN (pipeline/models/gan.py): Algorithm 1 with
k D steps on fresh minibatches, BCE-with-logits losses, the momentum / lr schedule. The D
step backpropagates its real and fake terms one after the other, as PyTorch's DCGAN
example (the template of most public GAN ports) does."""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from bench.reference.common import adam, bce_d_step, bce_g_step, sgd

STEPS_PER_EPOCH_INFINITE = 100


class Reference:
    def __init__(self, model):
        self.hp, self.spec = model.hp, model.spec
        self.G = copy.deepcopy(model.nets["G"])
        self.D = copy.deepcopy(model.nets["D"])
        make = (lambda p: adam(p, self.hp.lr, self.hp.adam_betas)) if self.hp.optimizer == "adam" else (
            lambda p: sgd(p, self.hp.lr, self.hp.momentum_start))
        self.opt_d, self.opt_g = make(self.D.parameters()), make(self.G.parameters())
        self.bce = nn.BCEWithLogitsLoss()

    def sample_z(self, n: int) -> torch.Tensor:
        if self.hp.z_dist == "normal":
            return torch.randn(n, self.hp.z_dim)
        return (torch.rand(n, self.hp.z_dim) * 2 - 1) * math.sqrt(3)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        out = self.G(z)
        if self.spec.is_image:
            out = torch.sigmoid(out)
        return out.view(-1, *self.spec.shape)

    def set_schedule(self, step: int, batch: int) -> None:
        hp = self.hp
        lr = max(hp.lr / hp.lr_decay**step, hp.lr_min)
        per_epoch = STEPS_PER_EPOCH_INFINITE if self.spec.n_train is None else max(1, self.spec.n_train // (batch * hp.k_steps))
        ramp = min(1.0, (step // per_epoch) / hp.momentum_ramp_epochs)
        for opt in (self.opt_d, self.opt_g):
            for group in opt.param_groups:
                group["lr"] = lr
                if hp.optimizer == "sgd":
                    group["momentum"] = hp.momentum_start + (hp.momentum_end - hp.momentum_start) * ramp

    def step(self, x: torch.Tensor, y: torch.Tensor, step: int) -> dict[str, float]:
        if self.hp.update != "alternating":
            raise ValueError("the reference implements alternating updates only")
        batch = x.shape[0] // self.hp.k_steps
        self.set_schedule(step, batch)
        for i in range(self.hp.k_steps):
            real = x[i * batch:(i + 1) * batch]
            fake = self.generate(self.sample_z(batch))
            self.opt_d.zero_grad()
            out_real = self.D(real)
            out_fake = self.D(fake.detach())
            loss_d = bce_d_step(self.bce, self.opt_d, out_real, out_fake)
        out = self.D(self.generate(self.sample_z(batch)))
        loss_g = bce_g_step(self.bce, self.opt_g, out, self.hp.g_loss)
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item(),
                "d_real": torch.sigmoid(out_real).mean().item(), "d_fake": torch.sigmoid(out_fake).mean().item()}

    def nets(self) -> dict[str, nn.Module]:
        return {"G": self.G, "D": self.D}
