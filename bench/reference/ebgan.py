"""Reference training step of EBGAN (pipeline/models/ebgan.py): autoencoder energy
||Dec(Enc(x)) - x|| (or its mean square), per-sample hinge for D, energy plus
pulling-away term on the encoder codes for G, one D and one G update on one fake batch."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from bench.reference.common import adam


class Reference:
    def __init__(self, model):
        self.hp, self.spec = model.hp, model.spec
        self.G = copy.deepcopy(model.nets["G"])
        self.D = copy.deepcopy(model.nets["D"])
        self.opt_d = adam(self.D.parameters(), self.hp.lr, self.hp.adam_betas)
        self.opt_g = adam(self.G.parameters(), self.hp.lr, self.hp.adam_betas)

    def sample_z(self, n: int) -> torch.Tensor:
        if self.hp.z_dist == "normal":
            return torch.randn(n, self.hp.z_dim)
        return (torch.rand(n, self.hp.z_dim) * 2 - 1) * 3**0.5

    def energy(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        recon, code = self.D(x)
        diff = (recon - x).view(x.shape[0], -1)
        if self.hp.energy == "norm":
            return diff.norm(dim=1), code
        return (diff**2).mean(dim=1), code

    @staticmethod
    def pulling_away(code: torch.Tensor) -> torch.Tensor:
        n = code.shape[0]
        s = code.view(n, -1)
        s = s / s.norm(dim=1, keepdim=True).clamp(min=1e-8)
        similarity = (s @ s.t()) ** 2
        return (similarity.sum() - similarity.diag().sum()) / (n * (n - 1))

    def step(self, x: torch.Tensor, y: torch.Tensor, step: int) -> dict[str, float]:
        hp = self.hp
        real = x * 2 - 1 if self.spec.is_image else x
        fake = self.G(self.sample_z(real.shape[0])).view(-1, *self.spec.shape)
        e_real, _ = self.energy(real)
        e_fake_d, _ = self.energy(fake.detach())
        loss_d = (e_real + F.relu(hp.margin - e_fake_d)).mean()
        self.opt_d.zero_grad()
        loss_d.backward()
        self.opt_d.step()

        e_fake, code = self.energy(fake)
        pt = self.pulling_away(code)
        loss_g = e_fake.mean() + hp.pt_weight * pt
        self.opt_g.zero_grad()
        loss_g.backward()
        self.opt_g.step()
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item(), "energy_real": e_real.mean().item(),
                "energy_fake": e_fake_d.mean().item(), "pt": pt.item(),
                "fake_below_margin": (e_fake_d < hp.margin).float().mean().item()}

    def nets(self) -> dict[str, nn.Module]:
        return {"G": self.G, "D": self.D}
