"""The probabilistic GAN baseline of the EBGAN paper's grid (Zhao et al. 2017, Table 1).

Goodfellow et al.'s game, D maximising E_x[log D(x)] + E_z[log(1 - D(G(z)))]
with D = sigmoid(l), so log D = -softplus(-l) and log(1 - D) = -softplus(l);
G minimises -log D(G(z)) (``non_saturating``) or log(1 - D(G(z))). The nets
are EBGAN's fully connected family (appendix C: BN, ReLU, tanh output, data
in [-1, 1]) with a logit head, or DCGAN at 64x64 (``arch: conv64``); D and G
each get Adam or SGD (optimD / optimG) with one learning rate. One D update,
then one G update on the same noise, per minibatch (as the EBGAN model).

This is a separate model rather than an option of ``gan`` (the 2014 paper's
maxout model): it differs in data range, output, normalisation, init and in
having one optimiser choice per net.
"""

from __future__ import annotations

import torch
from torch import nn

from pipeline.data.sources import DataSource
from pipeline.hparams.gan_bn import GANBNHParams
from pipeline.models.base import Model, generator_loss, minimax_terms, noise, set_requires_grad
from pipeline.nets.conv64 import DCGANDiscriminator, dcgan_generator
from pipeline.nets.fc_bn import FCDiscriminator, fc_generator
from pipeline.nets.mlp import init_normal_
from pipeline.nets.optim import adam, sgd
from pipeline.profiling import phase


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-(E[log D(x)] + E[log(1 - D(G(z)))])."""
    log_d_real, log_1m_d_fake = minimax_terms(real_logits, fake_logits)
    return -(log_d_real + log_1m_d_fake)


class GANBN(Model):
    def __init__(self, hp: GANBNHParams, data: DataSource, device: torch.device):
        super().__init__(hp, data, device)
        spec = data.spec
        if hp.arch == "conv64":
            if not spec.is_image:
                raise ValueError("arch conv64 needs image data")
            c, h, _ = spec.shape
            g = dcgan_generator(hp.z_dim, c, hp.g_widths, h)
            d = DCGANDiscriminator(c, hp.d_widths, h)
        else:
            g = fc_generator(hp.z_dim, hp.g_layers, hp.g_size, spec.dim, hp.batchnorm, tanh=spec.is_image)
            d = FCDiscriminator(spec.dim, hp.d_layers, hp.d_size, hp.batchnorm,
                                hp.d_dropout_rate if hp.d_dropout else 0.0)
        init_normal_(g, hp.g_init_std)
        init_normal_(d, hp.d_init_std)
        self.nets["G"], self.nets["D"] = g.to(device), d.to(device)
        self.optimizers = {
            "D": self._optimizer(d, hp.optimizer_d),
            "G": self._optimizer(g, hp.optimizer_g),
        }

    def _optimizer(self, net: nn.Module, kind: str) -> torch.optim.Optimizer:
        if kind == "adam":
            return adam(net.parameters(), self.hp.lr, self.hp.adam_betas)
        return sgd(net.parameters(), self.hp.lr, self.hp.sgd_momentum)

    def fake(self, z: torch.Tensor) -> torch.Tensor:
        return self.nets["G"](z).view(-1, *self.spec.shape)

    def train_step(self, x: torch.Tensor, y: torch.Tensor, step: int) -> dict[str, torch.Tensor]:
        hp, D = self.hp, self.nets["D"]
        real = x * 2 - 1 if self.spec.is_image else x
        with phase("d_step"):
            fake = self.fake(noise(real.shape[0], hp.z_dim, hp.z_dist, device=self.device))
            real_logits, fake_logits = D(real), D(fake.detach())
            loss_d = discriminator_loss(real_logits, fake_logits)
            self.optimizers["D"].zero_grad(set_to_none=True)
            loss_d.backward()
            self.optimizers["D"].step()

        with phase("g_step"):
            set_requires_grad(D, False)
            loss_g = generator_loss(D(fake), hp.g_loss)
            self.optimizers["G"].zero_grad(set_to_none=True)
            loss_g.backward()
            self.optimizers["G"].step()
            set_requires_grad(D, True)
        return {
            "loss_d": loss_d.detach(),
            "loss_g": loss_g.detach(),
            "d_real": torch.sigmoid(real_logits.detach()).mean(),
            "d_fake": torch.sigmoid(fake_logits.detach()).mean(),
        }

    @torch.inference_mode()
    def generate(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        G = self.nets["G"].eval()
        out = [self.fake(noise(min(1000, n - s), self.hp.z_dim, self.hp.z_dist, generator, self.device))
               for s in range(0, n, 1000)]
        G.train()
        x = torch.cat(out)
        x = ((x + 1) / 2).clamp(0, 1) if self.spec.is_image else x
        return {"G": x.float().cpu()}
