"""MemoryGAN (Kim, Kim & Kim, ICLR 2018) and its Table 2 ablations.

Discriminative memory network (DMN, Sec. 3.1): an inference network maps x to
a query q = normalise(f(x)); the memory (:mod:`pipeline.nets.memory`) gives
D(x) = Σ_{top-k} p(i | q) v_i (Eq. 1, 3, 4), or the exact Σ_i p(i | q) v_i over every
slot (Eq. 2, ``read: all``), which keeps a gradient for fakes whose top-k slots are all
fake (Eq. 3 gives them D(x) = 0 exactly, clipped to eps with zero gradient). Memory-conditional generator (MCGN,
Sec. 3.2): a slot c is drawn with probability ∝ h_c v_c and G sees
concat(z, K_c), z ~ U(-1, 1)^z_dim [code].

Objective (Eq. 7, 8; D(x) clipped to [eps, 1 - eps] [code]):
L_D = -E[log D(x)] - E[log(1 - D(G(z, K_c)))] + λ L_I,
L_G = E[log(1 - D(G(z, K_c)))] + λ L_I (code's default ``jsd``; or the
non-saturating -E[log D(G(z, K_c))]), with the mutual-information term
L_I = E[-cos(K_c, q(G(z, K_c)))] (Eq. 6; the code uses the MSE between the
unnormalised query and K_c). One D step then one G step per training step, each
with fresh z and slots [code]. After the D step the memory is updated with the
step's real (label 1) and fake (label 0) queries as one increment, computed
from the memory that produced D(x) (Sec. 3.1.2).

Ablations (Sec. 4.3), sharing everything else: -EM uses the life-long update
of Kaiser et al. (2017); -MCGN feeds G z only (a DCGAN with the DMN as D);
-Memory is a DCGAN whose D is the same convolutional trunk read out by a
linear layer to one logit (the code's ``base_d`` for affine-MNIST; for the other
datasets the code's ``base_d`` differs more, ours shares the trunk).

After training, :meth:`MemoryGAN.evaluate` returns the slot-prior snapshots
taken during training (Fig. 3c), samples of the most used real slots
(Fig. 3b), the z-interpolation picture within slots (Fig. 1, App. B.2) and,
with ``overhead_steps``, the time per training step of this model over that of
its -Memory DCGAN measured in the same process (Sec. 4.5).
"""

from __future__ import annotations

import copy
import dataclasses
import statistics
import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pipeline.data.sources import DataSource
from pipeline.hparams.memorygan import MemoryGANHParams
from pipeline.models.base import Evaluation, Model, set_requires_grad
from pipeline.nets.memory import Memory
from pipeline.nets.memorygan import (
    DCGANGenerator,
    DCGANInference,
    ResNetGenerator,
    ResNetInference,
    init_weights_,
)
from pipeline.nets.optim import adam
from pipeline.profiling import phase

BRIGHTNESS = 16 / 255  # [code] random_brightness max_delta
CONTRAST = (0.8, 1.2)  # [code] random_contrast bounds


def augment(x: torch.Tensor) -> torch.Tensor:
    """Random brightness then contrast per image, clipped to [0, 1] [code, ``preprocess_image``]."""
    b = x.shape[0]
    shift = (torch.rand(b, 1, 1, 1, device=x.device) * 2 - 1) * BRIGHTNESS
    x = x + shift
    factor = CONTRAST[0] + torch.rand(b, 1, 1, 1, device=x.device) * (CONTRAST[1] - CONTRAST[0])
    mean = x.mean(dim=(2, 3), keepdim=True)
    return ((x - mean) * factor + mean).clamp(0, 1)


# --------------------------------------------------------------------------- measurements


def interpolation_codes(z_dim: int, grid: int, generator: torch.Generator) -> torch.Tensor:
    """App. B.2: four random codes z1..z4 ~ U(-1, 1)^z_dim at the corners of a
    ``grid`` x ``grid`` square, bilinearly interpolated; rows go z1 -> z3, columns
    z1 -> z2. Returns (grid * grid, z_dim), row-major."""
    z1, z2, z3, z4 = torch.rand(4, z_dim, generator=generator) * 2 - 1
    t = torch.linspace(0, 1, grid)
    a, b = t[:, None, None], t[None, :, None]  # a: row weight, b: column weight
    codes = (1 - a) * (1 - b) * z1 + (1 - a) * b * z2 + a * (1 - b) * z3 + a * b * z4
    return codes.reshape(grid * grid, z_dim)


def perplexity(weights: torch.Tensor) -> float:
    """exp of the entropy of the normalised non-negative ``weights`` (effective number of slots)."""
    p = weights.double().clamp_min(0)
    p = p[p > 0] / p.sum()
    return float(torch.exp(-(p * p.log()).sum()))


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """Images in [0, 1] -> uint8 in [0, 255] (as samples.npz stores them)."""
    return images.clamp(0, 1).mul(255).round().to(torch.uint8).numpy()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def overhead_ratio(
    model: Model, baseline: Model, data: DataSource, batch_size: int, steps: int
) -> dict[str, float]:
    """Median time of one training step of a copy of ``model`` over that of ``baseline``
    (its -Memory DCGAN) on the same batches, alternating which goes first; one warm-up
    step each is not counted. The paper's per-epoch ratio (135 s / 124 s on CIFAR-10)
    is the same ratio when both train on the same number of batches. Neither the
    trained model nor the global RNG streams are changed. Names start with ``time_``: the
    aggregate stage files them with the machine-dependent timings."""
    timed = {"model": copy.deepcopy(model), "baseline": baseline}
    times: dict[str, list[float]] = {"model": [], "baseline": []}
    devices = [model.device] if model.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        for i in range(steps + 1):
            x, y = data.batch(i, batch_size, 0)
            order = ("model", "baseline") if i % 2 == 0 else ("baseline", "model")
            for name in order:
                _sync(model.device)
                t0 = time.perf_counter()
                timed[name].train_step(x, y, i)
                _sync(model.device)
                if i:
                    times[name].append(time.perf_counter() - t0)
    t_model, t_base = statistics.median(times["model"]), statistics.median(times["baseline"])
    return {
        "time_overhead_ratio": t_model / t_base,
        "time_step_s": t_model,
        "time_step_s_dcgan": t_base,
    }


# --------------------------------------------------------------------------- model


class MemoryGAN(Model):
    def __init__(self, hp: MemoryGANHParams, data: DataSource, device: torch.device):
        super().__init__(hp, data, device)
        if not self.spec.is_image:
            raise ValueError("MemoryGAN needs image data")
        c, h, w = self.spec.shape
        if h != w:
            raise ValueError(f"MemoryGAN needs square images, got {h}x{w}")
        self.use_memory = hp.discriminator == "memory"
        g_in = hp.z_dim + (hp.key_dim if hp.generator == "mcgn" else 0)
        query_dim = hp.key_dim if self.use_memory else None
        if hp.arch == "dcgan":
            infer = DCGANInference(c, h, hp.d_channels, hp.pointwise, query_dim, hp.query_batchnorm)
            g = DCGANGenerator(g_in, c, h, hp.g_channels, hp.pointwise, hp.g_fc_hidden)
        else:
            infer = ResNetInference(c, hp.resnet_width, query_dim)
            g = ResNetGenerator(g_in, c, h, hp.resnet_width)
        if not self.use_memory:
            readout = nn.Linear(infer.out_features, 1)
            init_weights_(readout)
            infer = nn.Sequential(infer, readout)
        self.nets["G"] = g.to(device)
        self.nets["D"] = infer.to(device)
        if self.use_memory:
            self.nets["M"] = Memory(
                hp.memory_size,
                hp.key_dim,
                hp.top_k,
                kappa=hp.kappa,
                alpha=hp.alpha,
                beta=hp.beta,
                em_iters=hp.em_iters,
                em_form=hp.em_form,
                rule=hp.memory_update,
                correct_in_top=hp.correct_in_top,
                read_all=hp.read == "all",
            ).to(device)
        self.optimizers = {
            k: adam(self.nets[k].parameters(), hp.lr, hp.adam_betas)
            for k in ("D", "G")
        }
        self.batch_size: int | None = None
        self.steps_done = 0
        self.prior_steps: list[int] = []
        self.prior_snapshots: list[torch.Tensor] = []

    # -- pieces ---------------------------------------------------------------------------

    @property
    def memory(self) -> Memory:
        return self.nets["M"]

    def to_net(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.hp.output == "sigmoid" else x * 2 - 1

    def from_net(self, raw: torch.Tensor) -> torch.Tensor:
        """G's raw output -> images in [0, 1] (sigmoid, or tanh rescaled)."""
        return torch.sigmoid(raw) if self.hp.output == "sigmoid" else (torch.tanh(raw) + 1) / 2

    def _latent(
        self, n: int, generator: torch.Generator | None = None, slots: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """z ~ U(-1, 1)^z_dim and, for the MCGN, the keys K_c of slots c ~ h_c v_c."""
        z = (
            torch.rand(n, self.hp.z_dim, generator=generator)
            if generator is not None
            else torch.rand(n, self.hp.z_dim, device=self.device)
        )
        z = z.to(self.device) * 2 - 1
        if self.hp.generator != "mcgn":
            return z, None
        with phase("memory"):
            if slots is None:
                slots = self.memory.sample(n, generator)
            return z, self.memory.keys[slots]

    def _fake(self, z: torch.Tensor, keys: torch.Tensor | None) -> torch.Tensor:
        """Generated images in the networks' range."""
        g_in = z if keys is None else torch.cat([z, keys], dim=1)
        out = self.nets["G"](g_in)
        return out.sigmoid() if self.hp.output == "sigmoid" else out.tanh()

    def _discriminate(
        self, x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(log D(x), log(1 - D(x)), D(x), raw inference output) per example."""
        out = self.nets["D"](x)
        if self.use_memory:
            with phase("memory"):
                d = self.memory(F.normalize(out, dim=1)).clamp(self.hp.eps, 1 - self.hp.eps)
            return d.log(), (1 - d).log(), d, out
        logit = out.squeeze(1)
        return -F.softplus(-logit), -F.softplus(logit), torch.sigmoid(logit), out

    def _mi(self, raw_query: torch.Tensor, keys: torch.Tensor | None) -> torch.Tensor:
        """L_I of Eq. 6: E[-cos(K_c, q)] (keys are unit or 0), or the code's MSE."""
        if keys is None:
            return raw_query.new_zeros(())
        if self.hp.mi_form == "cosine":
            return -(F.normalize(raw_query, dim=1) * keys).sum(1).mean()
        return F.mse_loss(raw_query, keys)

    def generator_adversarial_loss(
        self, log_d_fake: torch.Tensor, log_1m_d_fake: torch.Tensor
    ) -> torch.Tensor:
        """E[log(1 - D(G(z)))] (``saturating``, Eq. 8) or -E[log D(G(z))] (``non_saturating``)."""
        return log_1m_d_fake.mean() if self.hp.g_loss == "saturating" else -log_d_fake.mean()

    def _set_lr(self, step: int) -> None:
        if not self.hp.lr_decay_steps:
            return
        lr = self.hp.lr * max(0.0, 1.0 - step / self.hp.lr_decay_steps)
        for opt in self.optimizers.values():
            for group in opt.param_groups:
                group["lr"] = lr

    # -- training -------------------------------------------------------------------------

    def train_step(self, x: torch.Tensor, y: torch.Tensor, step: int) -> dict[str, torch.Tensor]:
        hp = self.hp
        D = self.nets["D"]
        b = x.shape[0]
        self.batch_size, self.steps_done = b, step + 1
        self._set_lr(step)
        if self.use_memory and step % hp.prior_snapshot_every == 0:
            self.prior_steps.append(step)
            self.prior_snapshots.append(self.memory.prior().detach().clone())
        real = self.to_net(augment(x) if hp.augment else x)

        # D step: real and fake through the inference network separately (batch norm per set)
        with phase("d_step"):
            with torch.no_grad():
                z, keys = self._latent(b)
                fake = self._fake(z, keys)
            log_d_real, _, d_real, raw_real = self._discriminate(real)
            _, log_1m_d_fake, d_fake, raw_fake = self._discriminate(fake)
            mi_d = self._mi(raw_fake, keys)
            loss_d = -(log_d_real.mean() + log_1m_d_fake.mean()) + hp.mi_weight * mi_d
            self.optimizers["D"].zero_grad(set_to_none=True)
            loss_d.backward()
            self.optimizers["D"].step()
        logs = {
            "loss_d": loss_d.detach(),
            "d_real": d_real.mean().detach(),
            "d_fake": d_fake.mean().detach(),
        }
        if self.use_memory:
            with phase("memory"):
                queries = F.normalize(torch.cat([raw_real, raw_fake]).detach(), dim=1)
                labels = torch.cat([torch.ones(b, device=x.device), torch.zeros(b, device=x.device)])
                logs["replace_rate"] = self.memory.update(queries, labels)

        with phase("g_step"):
            set_requires_grad(D, False)
            z, keys = self._latent(b)
            log_d_fake, log_1m_d_fake, _, raw_fake = self._discriminate(self._fake(z, keys))
            mi_g = self._mi(raw_fake, keys)
            loss_g = self.generator_adversarial_loss(log_d_fake, log_1m_d_fake) + hp.mi_weight * mi_g
            self.optimizers["G"].zero_grad(set_to_none=True)
            loss_g.backward()
            self.optimizers["G"].step()
        set_requires_grad(D, True)
        if self.use_memory and hp.update_in_g_step:
            with phase("memory"):
                self.memory.update(F.normalize(raw_fake.detach(), dim=1), torch.zeros(b, device=x.device))
        logs.update(loss_g=loss_g.detach(), mi=mi_g.detach())
        return logs

    # -- sampling -------------------------------------------------------------------------

    @torch.inference_mode()
    def _images(self, z: torch.Tensor, keys: torch.Tensor | None) -> torch.Tensor:
        G = self.nets["G"].eval()
        out = [
            self.from_net(G(zc if keys is None else torch.cat([zc, kc], 1))).float().cpu()
            for zc, kc in zip(
                z.split(1000), keys.split(1000) if keys is not None else [None] * len(z)
            )
        ]
        G.train()
        return torch.cat(out)

    def generate(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        z, keys = self._latent(n, generator)
        return {"G": self._images(z, keys)}

    # -- evaluation -----------------------------------------------------------------------

    def top_real_slots(self, n: int) -> torch.Tensor:
        """The ``n`` real slots with the largest histogram (most sampled by the MCGN)."""
        weights = (self.memory.hist * self.memory.values).cpu()
        return weights.argsort(descending=True, stable=True)[: min(n, int((weights > 0).sum()))]

    def evaluate(self, data: DataSource, generator: torch.Generator) -> Evaluation:
        hp = self.hp
        metrics: dict[str, float] = {}
        arrays: dict[str, np.ndarray] = {}
        corners = interpolation_codes(hp.z_dim, hp.interp_grid, generator)  # (G*G, z_dim)
        if hp.generator == "mcgn":
            slots = self.top_real_slots(hp.figure_slots).to(self.device)
            m = hp.samples_per_slot
            z, _ = self._latent(len(slots) * m, generator)
            imgs = self._images(z, self.memory.keys[slots.repeat_interleave(m)])
            arrays["slot_ids"] = slots.cpu().numpy()
            arrays["slot_prior"] = self.memory.prior()[slots].cpu().numpy()
            arrays["slot_samples"] = to_uint8(imgs.view(len(slots), m, *self.spec.shape))
            interp_slots = slots[: hp.interp_slots]
            zz = corners.to(self.device).repeat(len(interp_slots), 1)
            imgs = self._images(zz, self.memory.keys[interp_slots.repeat_interleave(len(corners))])
            arrays["interp"] = to_uint8(
                imgs.view(len(interp_slots), hp.interp_grid, hp.interp_grid, *self.spec.shape)
            )
        else:
            imgs = self._images(corners.to(self.device), None)
            arrays["interp"] = to_uint8(
                imgs.view(1, hp.interp_grid, hp.interp_grid, *self.spec.shape)
            )
        if self.use_memory:
            steps = [*self.prior_steps, self.steps_done]
            snaps = torch.stack([*self.prior_snapshots, self.memory.prior()]).cpu()
            arrays["prior_steps"] = np.asarray(steps, dtype=np.int64)
            arrays["prior_snapshots"] = snaps.numpy().astype(np.float32)
            real_weights = (self.memory.hist * self.memory.values).cpu()
            metrics["real_prior_perplexity"] = perplexity(real_weights)
            metrics["real_slot_fraction"] = float(self.memory.values.mean())
        if hp.overhead_steps and self.use_memory and self.batch_size:
            baseline = MemoryGAN(
                dataclasses.replace(hp, discriminator="plain", generator="plain"), data, self.device
            )
            metrics.update(overhead_ratio(self, baseline, data, self.batch_size, hp.overhead_steps))
        return Evaluation(metrics, arrays)

    # -- state ----------------------------------------------------------------------------

    def extra_state(self) -> dict[str, Any]:
        return {
            "batch_size": self.batch_size,
            "steps_done": self.steps_done,
            "prior_steps": list(self.prior_steps),
            "prior_snapshots": [s.cpu() for s in self.prior_snapshots],
        }

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.batch_size, self.steps_done = state["batch_size"], state["steps_done"]
        self.prior_steps = list(state["prior_steps"])
        self.prior_snapshots = [s.to(self.device) for s in state["prior_snapshots"]]
