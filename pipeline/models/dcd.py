"""Discriminator Contrastive Divergence (Song, Ye, Xu & Liu 2020).

A WGAN-type critic D defines an energy E(x) = -D(x). Samples start at G(z) and
take Langevin steps on that energy ("semi-amortized" generation); the critic
can then be fine-tuned by contrastive divergence on real data vs the refined
samples, G frozen. (Our source of the paper is its abstract; the update rules
below follow the authors' code, tagged in pipeline/hparams/dcd.py.)

**Base model** (steps < base_steps): n_dis critic updates per G update,
hinge loss  L_D = E relu(1 - D(x)) + E relu(1 + D(G(z))),  L_G = -E D(G(z)),
or the WGAN loss  L_D = E D(G(z)) - E D(x)  of the toy code; spectral
normalisation on every critic layer keeps D Lipschitz. Each critic update scores
real and fake samples in one pass (one power iteration per update).

**Pixel-space Langevin** (code's ``langevin.py``), data scaled to [-1, 1] for images:

    x_{k+1} = clip(x_k + eps * clip(grad_x D(x_k), -c, c) + sigma * xi_k, -1, 1),  xi_k ~ N(0, I).

Without the clippings this is the Euler-Maruyama chain of dx = grad D dt + sqrt(2T) dW
with step eps and temperature T = sigma^2 / (2 eps): its stationary density is
proportional to exp(D(x) / T) up to O(eps) discretisation error. 2D points are not
range-clipped (the toy code does not clip).

**Latent-space Langevin** (code's ``langevin_z.py`` plus a prior term):

    z_{k+1} = z_k + (eps / 2) * (grad_z D(G(z_k)) - sigma^2 * z_k) + sqrt(eps) * sigma * xi_k,

i.e. Langevin with step eps * sigma^2 on log pi(z) = log N(z; 0, I) + D(G(z)) / sigma^2:
the generator's prior tilted by the critic at temperature T = sigma^2 (with sigma = 1
exactly DDLS's energy |z|^2/2 - D(G(z))). ``latent_prior: false`` drops the
-sigma^2 z term as the DCD code does (target exp(D(G(z)) / sigma^2)). We scale the
prior term by sigma^2 [ours] so that both forms target a proper tilted density at
the code's small noise (sigma = 0.005); an unscaled -z term with eps = 1 would halve
z at every step and collapse all samples.

**Contrastive fine-tuning** (steps base_steps .. base_steps + finetune_steps): a
copy D_cd of the trained critic (fresh Adam) is updated on real data vs negatives
drawn by Langevin on D_cd itself from G(z), G frozen (eval mode, so its BN
statistics stay fixed too). Losses: hinge (image code) or the toy code's
L = E D(neg) - E D(x) + l2 * (E D(neg)^2 + E D(x)^2). Per iteration n_dis
updates, reusing one negative and one real batch (image code) or drawing fresh
ones per update (toy code).

Differences from the code: the pixel step takes the gradient at x_k and then adds
noise (the image code adds the noise first and takes the gradient at the noisy point);
the toy script's noise, 0.2 sqrt(eps) scaled by |grad D|, is replaced by a constant
sigma (for a 1-Lipschitz critic the scale is at most the same).

Sample sets: ``G`` (plain generator), ``pixel`` / ``latent`` (refined on the base
critic), ``finetuned`` (refined on D_cd in ``finetune_space``; only after
fine-tuning ran), all from the same z. ``evaluate`` returns Langevin trajectories
and, for 2D data, the critic's energy on a grid (figures), the extra critic /
generator gradient evaluations per refined sample and the measured sampling-time
ratios refined / plain.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
from collections.abc import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from pipeline.data.sources import DataSource, DataSpec
from pipeline.hparams.dcd import DCDHParams
from pipeline.models.base import Evaluation, Model, noise, set_requires_grad
from pipeline.nets.mlp import init_normal_, mlp
from pipeline.nets.optim import adam
from pipeline.nets.resnet import ResNetCritic, ResNetGenerator
from pipeline.nets.sn_dcgan import DCGANCritic, DCGANGenerator
from pipeline.nets.spectral import spectral_norm_all
from pipeline.profiling import phase

Critic = Callable[[torch.Tensor], torch.Tensor]
TOY_D_INIT_STD = 1.0  # [code] toy script's spectral_norm(init=True, std=1)
TIMING_REPEATS = 3  # [ours] the minimum of 3 timings is reported
SAMPLE_CHUNK_IMAGES = 100  # [ours] samples refined per batch (memory of the Langevin backward passes)
SAMPLE_CHUNK_POINTS = 2500


# --------------------------------------------------------------------------- samplers


def _gaussian(like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """N(0, I) shaped like ``like``: from ``generator`` on the CPU when given, else the global RNG."""
    if generator is None:
        return torch.randn_like(like)
    return torch.randn(like.shape, generator=generator).to(like.device, like.dtype)


def _critic_grad(critic: Critic, x: torch.Tensor) -> torch.Tensor:
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x)
    return grad


def pixel_langevin(
    x0: torch.Tensor,
    critic: Critic,
    steps: int,
    step_size: float,
    noise_std: float,
    grad_clip: float = 0.0,
    bounds: tuple[float, float] | None = None,
    generator: torch.Generator | None = None,
    record: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Langevin steps on E = -D in data space (see the module docstring).

    Returns the final samples and, with ``record``, the trajectory (steps + 1, *x0.shape)
    on the CPU."""
    x = x0.detach()
    traj = [x.cpu()] if record else None
    for _ in range(steps):
        grad = _critic_grad(critic, x)
        if grad_clip > 0:
            grad = grad.clamp(-grad_clip, grad_clip)
        x = x + step_size * grad
        if noise_std > 0:
            x = x + noise_std * _gaussian(x, generator)
        if bounds is not None:
            x = x.clamp(*bounds)
        if traj is not None:
            traj.append(x.cpu())
    return x, (torch.stack(traj) if traj is not None else None)


def latent_langevin(
    z0: torch.Tensor,
    critic: Critic,
    gen: Callable[[torch.Tensor], torch.Tensor],
    steps: int,
    step_size: float,
    noise_std: float,
    prior: bool = True,
    generator: torch.Generator | None = None,
    record: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Langevin steps in latent space on log N(z; 0, I) [if ``prior``] + D(G(z)) / sigma^2.

    Returns (G(z_K), z_K, trajectory of G(z_k) for k = 0..K on the CPU when ``record``)."""
    z = z0.detach()
    traj = [] if record else None
    for _ in range(steps):
        z = z.requires_grad_(True)
        x = gen(z)
        (grad,) = torch.autograd.grad(critic(x).sum(), z)
        z = z.detach()
        if traj is not None:
            traj.append(x.detach().cpu())
        drift = grad - noise_std**2 * z if prior else grad
        z = z + 0.5 * step_size * drift
        if noise_std > 0:
            z = z + math.sqrt(step_size) * noise_std * _gaussian(z, generator)
    with torch.no_grad():
        x = gen(z)
    if traj is not None:
        traj.append(x.cpu())
    return x, z, (torch.stack(traj) if traj is not None else None)


@contextlib.contextmanager
def frozen(*nets: nn.Module) -> Iterator[None]:
    """Eval mode and no parameter gradients inside the block (spectral-norm power
    iterations and BN statistics stay fixed, so normalised weights are cached);
    restores both afterwards."""
    saved = [(n, n.training, [p.requires_grad for p in n.parameters()]) for n in nets]
    for n in nets:
        n.eval()
        set_requires_grad(n, False)
    try:
        with parametrize.cached():  # spectrally normalised weights computed once per block
            yield
    finally:
        for n, training, flags in saved:
            n.train(training)
            for p, flag in zip(n.parameters(), flags):
                p.requires_grad_(flag)


# --------------------------------------------------------------------------- networks


def build_generator(hp: DCDHParams, spec: DataSpec) -> nn.Module:
    """G: z -> model space ([-1, 1] images, or 2D points)."""
    if hp.arch == "resnet":
        c, h, _ = _image_shape(spec, hp.arch)
        return ResNetGenerator(hp.z_dim, hp.g_channels, c, h, hp.bottom_width)
    if hp.arch == "dcgan":
        c, h, _ = _image_shape(spec, hp.arch)
        return DCGANGenerator(hp.z_dim, hp.g_channels, c, h, hp.bottom_width)
    net = mlp([hp.z_dim, *hp.g_hidden, spec.dim])
    if hp.g_init_std > 0:
        init_normal_(net, hp.g_init_std)
    if spec.is_image:
        return nn.Sequential(net, nn.Tanh(), nn.Unflatten(1, spec.shape))
    return net


def build_critic(hp: DCDHParams, spec: DataSpec) -> nn.Module:
    """D: model space -> R, shape (N,), spectrally normalised."""
    if hp.arch == "resnet":
        c, h, _ = _image_shape(spec, hp.arch)
        return ResNetCritic(c, hp.d_channels, h)
    if hp.arch == "dcgan":
        c, h, _ = _image_shape(spec, hp.arch)
        return DCGANCritic(c, hp.d_channels, h, hp.bottom_width)
    net = mlp([spec.dim, *hp.d_hidden, 1])
    init_normal_(net, TOY_D_INIT_STD)
    return nn.Sequential(nn.Flatten(), spectral_norm_all(net), nn.Flatten(0))


def _image_shape(spec: DataSpec, arch: str) -> tuple[int, int, int]:
    if not spec.is_image or spec.shape[1] != spec.shape[2]:
        raise ValueError(f"arch {arch} needs square images, got shape {spec.shape}; use arch: mlp for 2D data")
    return spec.shape  # type: ignore[return-value]


# --------------------------------------------------------------------------- model


class DCD(Model):
    def __init__(self, hp: DCDHParams, data: DataSource, device: torch.device):
        super().__init__(hp, data, device)
        self.batches_per_step = hp.n_dis
        self.bounds = (-1.0, 1.0) if self.spec.is_image else None
        self.chunk = SAMPLE_CHUNK_IMAGES if self.spec.is_image else SAMPLE_CHUNK_POINTS
        self.nets["G"] = build_generator(hp, self.spec).to(device)
        self.nets["D"] = build_critic(hp, self.spec).to(device)
        self.nets["D_cd"] = build_critic(hp, self.spec).to(device)
        betas = tuple(hp.adam_betas)
        self.optimizers = {
            "G": adam(self.nets["G"].parameters(), hp.lr, betas),
            "D": adam(self.nets["D"].parameters(), hp.lr, betas),
            "D_cd": adam(self.nets["D_cd"].parameters(), hp.finetune_lr, betas),
        }
        self.finetune_iters = 0

    # -- state ----------------------------------------------------------------------------

    def extra_state(self) -> dict[str, int]:
        return {"finetune_iters": self.finetune_iters}

    def load_extra_state(self, state: dict[str, int]) -> None:
        self.finetune_iters = int(state["finetune_iters"])

    # -- helpers --------------------------------------------------------------------------

    def _to_model(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2 - 1 if self.spec.is_image else x

    def _to_data(self, x: torch.Tensor) -> torch.Tensor:
        return (x + 1) / 2 if self.spec.is_image else x

    def _z(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return noise(n, self.hp.z_dim, "normal", generator, self.device)

    def _set_lr(self, names: tuple[str, ...], lr: float, t: int, horizon: int) -> None:
        """Linear decay lr * (1 - t / horizon) within a phase (code: LinearShift to 0)."""
        if self.hp.lr_decay == "linear":
            lr = lr * max(0.0, 1.0 - t / max(horizon, 1))
        for name in names:
            for group in self.optimizers[name].param_groups:
                group["lr"] = lr

    def _d_loss(self, d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
        if self.hp.base_loss == "hinge":
            return F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
        return d_fake.mean() - d_real.mean()

    def _cd_loss(self, d_real: torch.Tensor, d_neg: torch.Tensor) -> torch.Tensor:
        if self.hp.finetune_loss == "hinge":
            return F.relu(1 - d_real).mean() + F.relu(1 + d_neg).mean()
        return (d_neg - d_real + self.hp.finetune_l2 * (d_neg**2 + d_real**2)).mean()

    def refine(self, critic: nn.Module, space: str, z: torch.Tensor, generator: torch.Generator | None = None,
               record: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Langevin-refined samples from G(z) on ``critic`` in ``space`` (model scale),
        and the trajectory in data space when ``record``."""
        hp, G = self.hp, self.nets["G"]
        with frozen(G, critic):
            if space == "pixel":
                with torch.no_grad():
                    x0 = G(z)
                x, traj = pixel_langevin(x0, critic, hp.pixel_steps, hp.pixel_step_size, hp.pixel_noise,
                                         hp.pixel_grad_clip, self.bounds, generator, record)
            else:
                x, _, traj = latent_langevin(z, critic, G, hp.latent_steps, hp.latent_step_size, hp.latent_noise,
                                             hp.latent_prior, generator, record)
        return x.detach(), (self._to_data(traj) if traj is not None else None)

    # -- training -------------------------------------------------------------------------

    def train_step(self, x: torch.Tensor, y: torch.Tensor, step: int) -> dict[str, torch.Tensor]:
        hp = self.hp
        if step < hp.base_steps:
            return self._base_step(x, step)
        t = step - hp.base_steps
        if t >= hp.finetune_steps:
            raise ValueError(
                f"step {step} is past base_steps + finetune_steps = {hp.base_steps + hp.finetune_steps}; "
                "set train.steps to that sum"
            )
        if t == 0:
            self.nets["D_cd"].load_state_dict(self.nets["D"].state_dict())
        return self._finetune_step(x, t)

    def _base_step(self, x: torch.Tensor, step: int) -> dict[str, torch.Tensor]:
        hp = self.hp
        G, D = self.nets["G"], self.nets["D"]
        batch = x.shape[0] // hp.n_dis
        self._set_lr(("G", "D"), hp.lr, step, hp.base_steps)
        with phase("d_step"):
            for real in self._to_model(x).split(batch):
                with torch.no_grad():
                    fake = G(self._z(batch))
                d_real, d_fake = D(torch.cat([real, fake])).split(batch)
                loss_d = self._d_loss(d_real, d_fake)
                self.optimizers["D"].zero_grad(set_to_none=True)
                loss_d.backward()
                self.optimizers["D"].step()
        with phase("g_step"):
            set_requires_grad(D, False)
            loss_g = -D(G(self._z(batch * hp.g_batch_factor))).mean()
            self.optimizers["G"].zero_grad(set_to_none=True)
            loss_g.backward()
            self.optimizers["G"].step()
            set_requires_grad(D, True)
        return {
            "loss_d": loss_d.detach(),
            "loss_g": loss_g.detach(),
            "d_real": d_real.mean().detach(),
            "d_fake": d_fake.mean().detach(),
        }

    def _finetune_step(self, x: torch.Tensor, t: int) -> dict[str, torch.Tensor]:
        hp = self.hp
        D = self.nets["D_cd"]
        batch = x.shape[0] // hp.n_dis
        self._set_lr(("D_cd",), hp.finetune_lr, t, hp.finetune_steps)
        reals = self._to_model(x).split(batch)
        real, neg = reals[0], None
        for i in range(hp.n_dis):
            if neg is None or hp.finetune_fresh_negatives:
                real = reals[i]
                with phase("langevin"):
                    neg, _ = self.refine(D, hp.finetune_space, self._z(batch))
            with phase("d_step"):
                d_real, d_neg = D(torch.cat([real, neg])).split(batch)
                loss = self._cd_loss(d_real, d_neg)
                self.optimizers["D_cd"].zero_grad(set_to_none=True)
                loss.backward()
                self.optimizers["D_cd"].step()
        self.finetune_iters += 1
        return {"cd_loss": loss.detach(), "cd_real": d_real.mean().detach(), "cd_neg": d_neg.mean().detach()}

    # -- sampling -------------------------------------------------------------------------

    def _refiners(self) -> dict[str, tuple[nn.Module, str]]:
        """Refined sample sets: name -> (critic, space)."""
        out = {"pixel": (self.nets["D"], "pixel"), "latent": (self.nets["D"], "latent")}
        if self.finetune_iters > 0:
            out["finetuned"] = (self.nets["D_cd"], self.hp.finetune_space)
        return out

    def _plain(self, z: torch.Tensor) -> torch.Tensor:
        G = self.nets["G"]
        with frozen(G), torch.no_grad():
            return G(z)

    def generate(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """Sets ``G``, ``pixel``, ``latent`` (and ``finetuned``), all refined from the same z."""
        refiners = self._refiners()
        out: dict[str, list[torch.Tensor]] = {"G": [], **{k: [] for k in refiners}}
        for start in range(0, n, self.chunk):
            z = self._z(min(self.chunk, n - start), generator)
            out["G"].append(self._to_data(self._plain(z)).float().cpu())
            for name, (critic, space) in refiners.items():
                x, _ = self.refine(critic, space, z, generator)
                out[name].append(self._to_data(x).float().cpu())
        return {k: torch.cat(v) for k, v in out.items()}

    def _chunked(self, fn: Callable[[torch.Tensor], torch.Tensor], z: torch.Tensor) -> torch.Tensor:
        return torch.cat([fn(part) for part in z.split(self.chunk)])

    def _refine_all(self, critic: nn.Module, space: str, z: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        return self._chunked(lambda part: self.refine(critic, space, part, rng)[0], z)

    # -- evaluation -----------------------------------------------------------------------

    def _timed(self, fn: Callable[[], torch.Tensor]) -> tuple[float, torch.Tensor]:
        best, out = math.inf, None
        for _ in range(TIMING_REPEATS):
            if self.device.type == "cuda":
                torch.cuda.synchronize(self.device)
            t0 = time.perf_counter()
            out = fn()
            if self.device.type == "cuda":
                torch.cuda.synchronize(self.device)
            best = min(best, time.perf_counter() - t0)
        return best, out

    def _critic_mean(self, critic: nn.Module, x: torch.Tensor) -> float:
        with frozen(critic), torch.no_grad():
            return float(critic(x).mean())

    def evaluate(self, data: DataSource, generator: torch.Generator) -> Evaluation:
        hp = self.hp
        metrics: dict[str, float] = {
            "finetune_iters": float(self.finetune_iters),
            "extra_critic_grads_pixel": float(hp.pixel_steps),
            "extra_critic_grads_latent": float(hp.latent_steps),
            "extra_generator_grads_latent": float(hp.latent_steps),
        }
        arrays: dict[str, np.ndarray] = {}
        refiners = self._refiners()

        z = self._z(hp.timing_n, generator)
        t_plain, x0 = self._timed(lambda: self._chunked(self._plain, z))
        for name, (critic, space) in refiners.items():
            rng = torch.Generator().manual_seed(int(torch.randint(0, 2**62, (1,), generator=generator)))
            t_ref, x = self._timed(functools.partial(self._refine_all, critic, space, z, rng))
            metrics[f"critic_gain_{name}"] = self._critic_mean(critic, x) - self._critic_mean(critic, x0)
            if name != "finetuned":
                metrics[f"time_ratio_{name}"] = t_ref / max(t_plain, 1e-9)

        m = hp.trajectory_images if self.spec.is_image else hp.trajectory_n
        z_traj = self._z(m, generator)
        for name, (critic, space) in refiners.items():
            _, traj = self.refine(critic, space, z_traj, generator, record=True)
            arrays[f"traj_{name}"] = traj.float().numpy()

        if not self.spec.is_image:
            axis = torch.linspace(-hp.grid_range, hp.grid_range, hp.grid_points)
            gx, gy = torch.meshgrid(axis, axis, indexing="xy")
            points = torch.stack([gx.flatten(), gy.flatten()], 1).to(self.device)
            arrays["grid_axis"] = axis.numpy()
            for name, critic in (("base", self.nets["D"]), ("finetuned", self.nets["D_cd"])):
                if name == "finetuned" and self.finetune_iters == 0:
                    continue
                with frozen(critic), torch.no_grad():
                    energy = -critic(points).view(hp.grid_points, hp.grid_points)
                arrays[f"energy_{name}"] = energy.float().cpu().numpy()
        return Evaluation(metrics, arrays)
