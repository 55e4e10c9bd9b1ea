"""The original GAN (Goodfellow et al. 2014).

Value function (Eq. 1): min_G max_D V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))].
D is trained on k fresh minibatches per G update (Algorithm 1). G minimises
either log(1 - D(G(z))) (``saturating``, Eq. 1 as written) or -log D(G(z))
(``non_saturating``, the paper's practical advice in Sec. 3). With D = sigmoid(l):
log D = -softplus(-l) and log(1 - D) = -softplus(l).

MNIST architecture per the authors' pylearn2 configuration: G is
z(100) -> 1200 ReLU -> 1200 ReLU -> 784 sigmoid; D is maxout(240x5) ->
maxout(240x5) -> sigmoid with dropout (keep 0.8 on the input, 0.5 on hidden
units). SGD with momentum rising linearly from 0.5 to 0.7 over epochs 1..250
and the learning rate divided by 1.000004 every update (floor 1e-6).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from pipeline.data.sources import DataSource
from pipeline.hparams.gan import GANHParams
from pipeline.models.base import Model, generator_loss, minimax_terms, noise, set_requires_grad
from pipeline.nets.mlp import Maxout, init_uniform_, mlp
from pipeline.nets.optim import adam, sgd
from pipeline.profiling import phase

STEPS_PER_EPOCH_INFINITE = 100  # "epoch" for the momentum ramp on infinite (2D) data [ours]


def maxout_discriminator(dim: int, units: list[int], pieces: int, keep_in: float, keep_hidden: float) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Flatten(), nn.Dropout(1 - keep_in)]
    width = dim
    for u in units:
        layers += [Maxout(width, u, pieces), nn.Dropout(1 - keep_hidden)]
        width = u
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


class GAN(Model):
    def __init__(self, hp: GANHParams, data: DataSource, device: torch.device):
        super().__init__(hp, data, device)
        spec = data.spec
        self.batches_per_step = hp.k_steps
        if hp.arch == "maxout_mlp":
            if not spec.is_image:
                raise ValueError("arch maxout_mlp needs image data; use arch: mlp2d for 2D data")
            g = mlp([hp.z_dim, *hp.g_hidden, spec.dim])
            d = maxout_discriminator(spec.dim, hp.d_hidden, hp.d_pieces, hp.d_input_keep, hp.d_hidden_keep)
        else:
            g = mlp([hp.z_dim, *hp.g_hidden, spec.dim])
            d = nn.Sequential(nn.Flatten(), mlp([spec.dim, *hp.d_hidden, 1]))
        init_uniform_(g, hp.g_init_range)
        init_uniform_(d, hp.d_init_range)
        if spec.is_image and hp.g_output_bias_from_data and data.train_arrays() is not None:
            mean = data.train_arrays()[0].float().mean(0).flatten().clamp(1e-3, 1 - 1e-3)
            with torch.no_grad():
                g[-1].bias.copy_(torch.log(mean / (1 - mean)).to(g[-1].bias))
        self.nets["G"], self.nets["D"] = g.to(device), d.to(device)
        self.optimizers = {k: self._optimizer(self.nets[k]) for k in ("D", "G")}

    def _optimizer(self, net: nn.Module) -> torch.optim.Optimizer:
        hp = self.hp
        if hp.optimizer == "adam":
            return adam(net.parameters(), hp.lr, hp.adam_betas)
        return sgd(net.parameters(), hp.lr, hp.momentum_start)

    # -- schedules ------------------------------------------------------------------------

    def schedule(self, step: int, batch_size: int) -> tuple[float, float]:
        """(lr, momentum) at G update ``step``: lr = max(lr0 / decay^step, lr_min);
        momentum = m0 + (m1 - m0) min(1, epoch / ramp_epochs) over completed epochs."""
        hp = self.hp
        lr = max(hp.lr * math.exp(-step * math.log(hp.lr_decay)), hp.lr_min)
        n = self.spec.n_train
        per_epoch = STEPS_PER_EPOCH_INFINITE if n is None else max(1, n // (batch_size * self.batches_per_step))
        ramp = min(1.0, (step // per_epoch) / hp.momentum_ramp_epochs)
        return lr, hp.momentum_start + (hp.momentum_end - hp.momentum_start) * ramp

    def _apply_schedule(self, step: int, batch_size: int) -> None:
        lr, momentum = self.schedule(step, batch_size)
        for opt in self.optimizers.values():
            for group in opt.param_groups:
                group["lr"] = lr
                if self.hp.optimizer == "sgd":
                    group["momentum"] = momentum

    # -- losses ---------------------------------------------------------------------------

    def _sample_z(self, n: int) -> torch.Tensor:
        return noise(n, self.hp.z_dim, self.hp.z_dist, device=self.device)

    def _fake(self, z: torch.Tensor) -> torch.Tensor:
        out = self.nets["G"](z)
        if self.spec.is_image:
            out = torch.sigmoid(out)
        return out.view(-1, *self.spec.shape)

    def train_step(self, x: torch.Tensor, y: torch.Tensor, step: int) -> dict[str, torch.Tensor]:
        D = self.nets["D"]
        batch = x.shape[0] // self.batches_per_step
        self._apply_schedule(step, batch)
        if self.hp.update == "simultaneous":
            return self._simultaneous_step(x)
        with phase("d_step"):
            for real in x.split(batch):
                with torch.no_grad():
                    fake = self._fake(self._sample_z(batch))
                real_logits, fake_logits = D(real), D(fake)
                log_d_real, log_1m_d_fake = minimax_terms(real_logits, fake_logits)
                loss_d = -(log_d_real + log_1m_d_fake)
                self.optimizers["D"].zero_grad(set_to_none=True)
                loss_d.backward()
                self.optimizers["D"].step()
        with phase("g_step"):
            set_requires_grad(D, False)
            loss_g = generator_loss(D(self._fake(self._sample_z(batch))), self.hp.g_loss)
            self.optimizers["G"].zero_grad(set_to_none=True)
            loss_g.backward()
            self.optimizers["G"].step()
            set_requires_grad(D, True)
        return {
            "loss_d": loss_d.detach(),
            "loss_g": loss_g.detach(),
            "log_d_real": log_d_real.detach(),
            "log_1m_d_fake": log_1m_d_fake.detach(),
        }

    def _simultaneous_step(self, real: torch.Tensor) -> dict[str, torch.Tensor]:
        """The authors' code: D's and G's gradients from one minibatch, applied together."""
        G, D = self.nets["G"], self.nets["D"]
        fake = self._fake(self._sample_z(real.shape[0]))
        real_logits, fake_logits = D(real), D(fake)
        log_d_real, log_1m_d_fake = minimax_terms(real_logits, fake_logits)
        loss_d = -(log_d_real + log_1m_d_fake)
        loss_g = generator_loss(fake_logits, self.hp.g_loss)
        d_params, g_params = list(D.parameters()), list(G.parameters())
        grads_d = torch.autograd.grad(loss_d, d_params, retain_graph=True)
        grads_g = torch.autograd.grad(loss_g, g_params)
        for params, grads in ((d_params, grads_d), (g_params, grads_g)):
            for p, g in zip(params, grads):
                p.grad = g
        self.optimizers["D"].step()
        self.optimizers["G"].step()
        return {
            "loss_d": loss_d.detach(),
            "loss_g": loss_g.detach(),
            "log_d_real": log_d_real.detach(),
            "log_1m_d_fake": log_1m_d_fake.detach(),
        }

    @torch.inference_mode()
    def generate(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        G = self.nets["G"].eval()
        out = []
        for start in range(0, n, 1000):
            z = noise(min(1000, n - start), self.hp.z_dim, self.hp.z_dist, generator, self.device)
            out.append(self._fake(z).float().cpu())
        G.train()
        return {"G": torch.cat(out)}
