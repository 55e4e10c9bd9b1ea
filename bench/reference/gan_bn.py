"""Reference training step of EBGAN's probabilistic GAN baseline (pipeline/models/gan_bn.py):
one D update, then one G update on the same fake batch, BCE-with-logits losses; the D
step backpropagates its real and fake terms one after the other (PyTorch's DCGAN example)."""

from __future__ import annotations

import copy

import torch
from torch import nn

from bench.reference.common import adam, bce_d_step, bce_g_step, sgd


class Reference:
    def __init__(self, model):
        self.hp, self.spec = model.hp, model.spec
        self.G = copy.deepcopy(model.nets["G"])
        self.D = copy.deepcopy(model.nets["D"])
        self.opt_d = self._optimizer(self.D, self.hp.optimizer_d)
        self.opt_g = self._optimizer(self.G, self.hp.optimizer_g)
        self.bce = nn.BCEWithLogitsLoss()

    def _optimizer(self, net: nn.Module, kind: str) -> torch.optim.Optimizer:
        if kind == "adam":
            return adam(net.parameters(), self.hp.lr, self.hp.adam_betas)
        return sgd(net.parameters(), self.hp.lr, self.hp.sgd_momentum)

    def sample_z(self, n: int) -> torch.Tensor:
        if self.hp.z_dist == "normal":
            return torch.randn(n, self.hp.z_dim)
        return (torch.rand(n, self.hp.z_dim) * 2 - 1) * 3**0.5

    def step(self, x: torch.Tensor, y: torch.Tensor, step: int) -> dict[str, float]:
        real = x * 2 - 1 if self.spec.is_image else x
        fake = self.G(self.sample_z(real.shape[0])).view(-1, *self.spec.shape)
        self.opt_d.zero_grad()
        out_real, out_fake = self.D(real), self.D(fake.detach())
        loss_d = bce_d_step(self.bce, self.opt_d, out_real, out_fake)

        out = self.D(fake)
        loss_g = bce_g_step(self.bce, self.opt_g, out, self.hp.g_loss)
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item(),
                "d_real": torch.sigmoid(out_real).mean().item(), "d_fake": torch.sigmoid(out_fake).mean().item()}

    def nets(self) -> dict[str, nn.Module]:
        return {"G": self.G, "D": self.D}
