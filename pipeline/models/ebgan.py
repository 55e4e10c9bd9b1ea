"""EBGAN with an autoencoder discriminator (Zhao, Mathieu & LeCun, ICLR 2017).

The discriminator is an energy function, the reconstruction error of an
autoencoder (Eq. 13):

    D(x) = ||Dec(Enc(x)) - x||                      (energy: norm, the paper's)
    D(x) = mean_i (Dec(Enc(x))_i - x_i)^2           (energy: mse, an option)

trained with a per-sample margin loss and a generator loss (Eqs. 1, 2):

    L_D(x, z) = D(x) + [m - D(G(z))]^+
    L_G(z)    = D(G(z)) + lambda_PT * f_PT(S)

where the hinge acts on each sample's energy before the batch mean, and the
pulling-away term (Eq. 14, G loss only) acts on the encoder codes S of the
generated batch:

    f_PT(S) = 1 / (N (N - 1)) sum_i sum_{j != i} (S_i^T S_j / (||S_i|| ||S_j||))^2.

V = E[L_D] is the quantity of Theorem 1: at a Nash equilibrium p_G = p_data and
V = m. ``loss_d`` logs it per step and ``evaluate`` reports it on held-out data.

Images are mapped to [-1, 1] (tanh output, appendix C); 2D points are used as
they are (linear output). D and G are updated alternately on one minibatch,
G reusing the noise of D's step (ours: the paper does not say).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.data.sources import DataSource
from pipeline.hparams.ebgan import EBGANHParams
from pipeline.models.base import Evaluation, Model, noise, set_requires_grad
from pipeline.nets.conv64 import ConvAutoencoder, dcgan_generator
from pipeline.nets.fc_bn import FCAutoencoder, fc_generator
from pipeline.nets.mlp import init_normal_
from pipeline.nets.optim import adam
from pipeline.profiling import phase

EVAL_SAMPLES = 1000  # held-out and generated samples for the energy statistics [ours]
PT_EPS = 1e-8


# --------------------------------------------------------------------------- losses


def reconstruction_energy(x: torch.Tensor, recon: torch.Tensor, kind: str = "norm") -> torch.Tensor:
    """Per-sample energy (N,): the L2 norm of ``recon - x`` (Eq. 13) or its mean square."""
    diff = (recon - x).flatten(1)
    if kind == "norm":
        return torch.linalg.vector_norm(diff, dim=1)
    if kind == "mse":
        return diff.pow(2).mean(1)
    raise ValueError(f"unknown energy {kind!r}; use norm or mse")


def margin_loss(energy_real: torch.Tensor, energy_fake: torch.Tensor, margin: float | torch.Tensor) -> torch.Tensor:
    """Eq. 1 averaged over the batch: mean_i (D(x_i) + [m - D(G(z_i))]^+), the hinge per sample."""
    return (energy_real + F.relu(margin - energy_fake)).mean()


def pulling_away(codes: torch.Tensor) -> torch.Tensor:
    """Eq. 14: mean squared cosine similarity over ordered pairs i != j of the rows of ``codes``."""
    n = codes.shape[0]
    if n < 2:
        raise ValueError("the pulling-away term needs at least two samples")
    s = codes.flatten(1)
    s = s / s.norm(dim=1, keepdim=True).clamp_min(PT_EPS)
    cos2 = (s @ s.t()).pow(2)
    return (cos2.sum() - cos2.diagonal().sum()) / (n * (n - 1))


@contextmanager
def frozen_batchnorm_stats(module: nn.Module) -> Iterator[None]:
    """Run in train mode (batch statistics) and restore every BatchNorm buffer afterwards."""
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [{k: v.clone() for k, v in m.named_buffers(recurse=False)} for m in norms]
    try:
        yield
    finally:
        with torch.no_grad():
            for m, buffers in zip(norms, saved):
                for k, v in m.named_buffers(recurse=False):
                    v.copy_(buffers[k])


# --------------------------------------------------------------------------- model


class EBGAN(Model):
    def __init__(self, hp: EBGANHParams, data: DataSource, device: torch.device):
        super().__init__(hp, data, device)
        spec = data.spec
        if hp.arch == "conv64":
            if not spec.is_image:
                raise ValueError("arch conv64 needs image data")
            c, h, w = spec.shape
            if h != w or h % 2 ** len(hp.enc_widths):
                raise ValueError(f"arch conv64 needs square images with sides divisible by "
                                 f"{2 ** len(hp.enc_widths)}, got {h}x{w}")
            g = dcgan_generator(hp.z_dim, c, hp.g_widths, h)
            d = ConvAutoencoder(c, hp.enc_widths, hp.dec_widths)
        else:
            g = fc_generator(hp.z_dim, hp.g_layers, hp.g_size, spec.dim, hp.batchnorm, tanh=spec.is_image)
            d = FCAutoencoder(spec.dim, hp.d_layers, hp.d_size, hp.batchnorm,
                              hp.d_dropout_rate if hp.d_dropout else 0.0)
        init_normal_(g, hp.g_init_std)
        init_normal_(d, hp.d_init_std)
        self.nets["G"], self.nets["D"] = g.to(device), d.to(device)
        self.optimizers = {k: adam(self.nets[k].parameters(), hp.lr, hp.adam_betas) for k in ("D", "G")}

    # -- data range -----------------------------------------------------------------------

    def to_model(self, x: torch.Tensor) -> torch.Tensor:
        """Images [0, 1] -> [-1, 1]; points unchanged."""
        return x * 2 - 1 if self.spec.is_image else x

    def from_model(self, x: torch.Tensor) -> torch.Tensor:
        return ((x + 1) / 2).clamp(0, 1) if self.spec.is_image else x

    def fake(self, z: torch.Tensor) -> torch.Tensor:
        """G(z) in the model's range, shaped like the data."""
        return self.nets["G"](z).view(-1, *self.spec.shape)

    def discriminate(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(per-sample energy D(x), encoder code S) of ``x`` in the model's range."""
        recon, code = self.nets["D"](x)
        return reconstruction_energy(x, recon, self.hp.energy), code

    # -- training -------------------------------------------------------------------------

    def train_step(self, x: torch.Tensor, y: torch.Tensor, step: int) -> dict[str, torch.Tensor]:
        hp, D = self.hp, self.nets["D"]
        real = self.to_model(x)
        with phase("d_step"):
            fake = self.fake(noise(real.shape[0], hp.z_dim, hp.z_dist, device=self.device))
            e_real, _ = self.discriminate(real)
            e_fake_d, _ = self.discriminate(fake.detach())
            loss_d = margin_loss(e_real, e_fake_d, hp.margin)
            self.optimizers["D"].zero_grad(set_to_none=True)
            loss_d.backward()
            self.optimizers["D"].step()

        with phase("g_step"):
            set_requires_grad(D, False)
            e_fake, code = self.discriminate(fake)
            pt = pulling_away(code)
            loss_g = e_fake.mean() + hp.pt_weight * pt
            self.optimizers["G"].zero_grad(set_to_none=True)
            loss_g.backward()
            self.optimizers["G"].step()
            set_requires_grad(D, True)
        return {
            "loss_d": loss_d.detach(),
            "loss_g": loss_g.detach(),
            "energy_real": e_real.detach().mean(),
            "energy_fake": e_fake_d.detach().mean(),
            "pt": pt.detach(),
            "fake_below_margin": (e_fake_d.detach() < hp.margin).float().mean(),
        }

    # -- sampling and evaluation ----------------------------------------------------------

    @torch.inference_mode()
    def _sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """n samples in the model's range, G in eval mode (BN running statistics)."""
        G = self.nets["G"].eval()
        out = [self.fake(noise(min(1000, n - s), self.hp.z_dim, self.hp.z_dist, generator, self.device))
               for s in range(0, n, 1000)]
        G.train()
        return torch.cat(out)

    def generate(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        return {"G": self.from_model(self._sample(n, generator)).float().cpu()}

    @torch.inference_mode()
    def evaluate(self, data: DataSource, generator: torch.Generator) -> Evaluation:
        """Energies of held-out real data and of G's samples, and V = E[L_D] (Theorem 1).

        D runs as in training (batch statistics, real and generated batches apart)
        without touching its running statistics."""
        real = data.heldout()[0][:EVAL_SAMPLES].to(self.device)
        fake = self._sample(len(real), generator)
        with frozen_batchnorm_stats(self.nets["D"]):
            e_real, _ = self.discriminate(self.to_model(real))
            e_fake, _ = self.discriminate(fake)
        v = margin_loss(e_real, e_fake, self.hp.margin).item()
        return Evaluation(metrics={
            "energy_real": e_real.mean().item(),
            "energy_fake": e_fake.mean().item(),
            "V": v,
            "V_over_m": v / self.hp.margin,
        })
