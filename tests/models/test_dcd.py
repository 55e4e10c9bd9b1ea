"""DCD: Langevin samplers against analytic targets, phases, sample sets, evaluation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from pipeline.config import make_plan
from pipeline.data.loader import open_dataset
from pipeline.data.sources import DataSpec, TensorSource
from pipeline.errors import ConfigError
from pipeline.hparams import build
from pipeline.hparams.dcd import DCDHParams
from pipeline.models.dcd import DCD, frozen, latent_langevin, pixel_langevin

MU = torch.tensor([0.7, -0.4])


def gaussian_critic(s: float = 1.0):
    """D(x) = -|x - MU|^2 / (2 s^2): the energy -D is a Gaussian's."""
    return lambda x: -((x - MU) ** 2).sum(1) / (2 * s**2)


def moments(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return x.mean(0), x.var(0)


# Stationary-moment tests: 4000 chains in 2D, 1000 steps of size 0.01 (mixing time ~100 steps).
# Tolerance: |mean - target| < 0.05 and relative variance error < 6%; the Euler discretisation
# biases the variance by ~0.5% and the Monte-Carlo standard error of a variance estimate from
# 4000 draws is ~2.2%.
CHAINS, STEPS, EPS = 4000, 1000, 0.01


def test_pixel_langevin_samples_exp_of_critic_over_temperature():
    """x <- x + eps grad D + sigma xi targets exp(D / T), T = sigma^2 / (2 eps): with the
    Gaussian critic (s = 1) and T = 1 that is N(MU, I)."""
    gen = torch.Generator().manual_seed(0)
    sigma = math.sqrt(2 * EPS * 1.0)
    x0 = torch.zeros(CHAINS, 2)
    x, _ = pixel_langevin(x0, gaussian_critic(), STEPS, EPS, sigma, grad_clip=0.0, generator=gen)
    mean, var = moments(x)
    assert torch.allclose(mean, MU, atol=0.05)
    assert torch.allclose(var, torch.ones(2), rtol=0.06)


def test_pixel_langevin_temperature_scales_the_variance():
    """At T = 0.25 the stationary law of the same critic is N(MU, 0.25 I)."""
    gen = torch.Generator().manual_seed(1)
    sigma = math.sqrt(2 * EPS * 0.25)
    x, _ = pixel_langevin(torch.zeros(CHAINS, 2), gaussian_critic(), STEPS, EPS, sigma, generator=gen)
    mean, var = moments(x)
    assert torch.allclose(mean, MU, atol=0.05)
    assert torch.allclose(var, torch.full((2,), 0.25), rtol=0.06)


def test_latent_langevin_with_prior_samples_the_tilted_prior():
    """With G = identity, sigma = 1 (T = 1) and the prior on, the target is
    N(z; 0, I) exp(D(z)) = N(MU / 2, I / 2) for the Gaussian critic (s = 1)."""
    gen = torch.Generator().manual_seed(2)
    x, z, _ = latent_langevin(torch.zeros(CHAINS, 2), gaussian_critic(), nn.Identity(), STEPS, EPS, 1.0,
                              prior=True, generator=gen)
    mean, var = moments(z)
    assert torch.equal(x, z)
    assert torch.allclose(mean, MU / 2, atol=0.05)
    assert torch.allclose(var, torch.full((2,), 0.5), rtol=0.06)


def test_latent_langevin_without_prior_samples_exp_of_critic():
    """The DCD code's prior-free form targets exp(D(G(z)) / sigma^2) = N(MU, I) here."""
    gen = torch.Generator().manual_seed(3)
    _, z, _ = latent_langevin(torch.zeros(CHAINS, 2), gaussian_critic(), nn.Identity(), STEPS, EPS, 1.0,
                              prior=False, generator=gen)
    mean, var = moments(z)
    assert torch.allclose(mean, MU, atol=0.05)
    assert torch.allclose(var, torch.ones(2), rtol=0.06)


def test_pixel_langevin_clips_gradients_and_range():
    steep = lambda x: 1000.0 * x.sum(1)  # gradient 1000 everywhere
    x0 = torch.full((3, 2), -0.9)
    x, traj = pixel_langevin(x0, steep, 2, 0.1, 0.0, grad_clip=1.0, bounds=(-1.0, 1.0), record=True)
    assert torch.allclose(traj[1], torch.full((3, 2), -0.8))  # moved eps * clip = 0.1, not 100
    x, _ = pixel_langevin(x0, steep, 30, 0.1, 0.0, grad_clip=1.0, bounds=(-1.0, 1.0))
    assert torch.equal(x, torch.ones(3, 2))
    assert traj.shape == (3, 3, 2)


def test_samplers_draw_their_noise_from_the_given_generator():
    run = lambda seed: pixel_langevin(torch.zeros(5, 2), gaussian_critic(), 3, 0.1, 0.5,
                                      generator=torch.Generator().manual_seed(seed))[0]
    assert torch.equal(run(4), run(4)) and not torch.equal(run(4), run(5))
    latent = lambda seed: latent_langevin(torch.zeros(5, 2), gaussian_critic(), nn.Identity(), 3, 0.1, 0.5,
                                          generator=torch.Generator().manual_seed(seed))[0]
    assert torch.equal(latent(4), latent(4)) and not torch.equal(latent(4), latent(5))


def test_latent_trajectory_is_in_data_space():
    double = lambda z: 2 * z
    x, z, traj = latent_langevin(torch.ones(4, 2), gaussian_critic(), double, 5, 0.1, 0.0, record=True)
    assert traj.shape == (6, 4, 2)
    assert torch.equal(traj[0], torch.full((4, 2), 2.0)) and torch.equal(traj[-1], x) and torch.equal(x, 2 * z)


def test_frozen_restores_modes_and_gradient_flags():
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    net.train()
    net[0].bias.requires_grad_(False)
    with frozen(net):
        assert not net.training and not any(p.requires_grad for p in net.parameters())
    assert net.training and net[0].weight.requires_grad and not net[0].bias.requires_grad


# --------------------------------------------------------------------------- the model

TOY = {"arch": "mlp", "z_dim": 2, "g_hidden": [16, 16], "d_hidden": [16, 16], "g_init_std": 0.0, "n_dis": 2,
       "g_batch_factor": 1, "base_loss": "wgan", "lr": 0.002, "base_steps": 4, "finetune_steps": 3, "finetune_loss": "wgan_l2",
       "finetune_space": "pixel", "pixel_steps": 3, "latent_steps": 2, "pixel_step_size": 0.1,
       "latent_step_size": 0.1, "trajectory_n": 5, "grid_points": 7, "timing_n": 20}


@pytest.fixture
def ring8(fetched, tiny_params):
    return open_dataset(make_plan(tiny_params).datasets, "ring8", fetched / "ring8")


def toy_model(data, **overrides) -> DCD:
    torch.manual_seed(0)
    return DCD(build(DCDHParams, {**TOY, **overrides}, "hp"), data, torch.device("cpu"))


def train(model: DCD, data, steps: range) -> list[dict[str, torch.Tensor]]:
    out = []
    for step in steps:
        x, y = data.batch(step, 8 * model.hp.n_dis, 0)
        out.append(model.train_step(x, y, step))
    return out


def params(net: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in net.parameters()]


def same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b))


def test_base_phase_trains_g_and_d_only(ring8):
    m = toy_model(ring8)
    g0, d0, cd0 = params(m.nets["G"]), params(m.nets["D"]), params(m.nets["D_cd"])
    logs = train(m, ring8, range(4))
    assert set(logs[0]) == {"loss_d", "loss_g", "d_real", "d_fake"}
    assert not same(g0, params(m.nets["G"])) and not same(d0, params(m.nets["D"]))
    assert same(cd0, params(m.nets["D_cd"])) and m.finetune_iters == 0


def test_finetuning_copies_the_critic_and_freezes_g_and_d(ring8):
    m = toy_model(ring8)
    train(m, ring8, range(4))
    g, d = params(m.nets["G"]), params(m.nets["D"])
    d_state = {k: v.clone() for k, v in m.nets["D"].state_dict().items()}
    logs = train(m, ring8, range(4, 7))
    assert set(logs[0]) == {"cd_loss", "cd_real", "cd_neg"}
    assert same(g, params(m.nets["G"])) and same(d, params(m.nets["D"]))
    assert all(torch.equal(v, m.nets["D"].state_dict()[k]) for k, v in d_state.items())  # SN buffers too
    assert not same(d, params(m.nets["D_cd"])) and m.finetune_iters == 3
    with pytest.raises(ValueError, match="base_steps \\+ finetune_steps"):
        train(m, ring8, range(7, 8))


def test_finetuning_starts_from_the_trained_critic(ring8):
    m = toy_model(ring8, finetune_lr=1e-12, lr_decay="none")
    train(m, ring8, range(5))  # one fine-tuning step with a negligible learning rate
    for a, b in zip(params(m.nets["D"]), params(m.nets["D_cd"])):
        assert torch.allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("loss", ["hinge", "wgan_l2"])
def test_contrastive_losses(ring8, loss):
    m = toy_model(ring8, finetune_loss=loss, finetune_l2=10.0)
    real, neg = torch.tensor([0.5, 2.0]), torch.tensor([-0.5, 0.2])
    expected = {"hinge": (0.5 + 0.0) / 2 + (0.5 + 1.2) / 2,
                "wgan_l2": ((-0.5 - 0.5 + 10 * (0.25 + 0.25)) + (0.2 - 2.0 + 10 * (0.04 + 4.0))) / 2}[loss]
    assert m._cd_loss(real, neg).item() == pytest.approx(expected)


def test_linear_lr_decay_per_phase(ring8):
    m = toy_model(ring8, base_steps=10, finetune_steps=4, lr=0.01, finetune_lr=0.1)
    m._set_lr(("G", "D"), 0.01, 5, 10)
    m._set_lr(("D_cd",), 0.1, 3, 4)
    assert m.optimizers["G"].param_groups[0]["lr"] == pytest.approx(0.005)
    assert m.optimizers["D_cd"].param_groups[0]["lr"] == pytest.approx(0.025)


def test_generate_sets_share_z_and_finetuned_appears_after_finetuning(ring8):
    m = toy_model(ring8)
    train(m, ring8, range(4))
    sets = m.generate(30, torch.Generator().manual_seed(0))
    assert set(sets) == {"G", "pixel", "latent"}
    assert all(v.shape == (30, 2) and v.dtype == torch.float32 for v in sets.values())
    again = m.generate(30, torch.Generator().manual_seed(0))
    assert all(torch.equal(sets[k], again[k]) for k in sets)
    z = torch.randn(30, 2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(sets["G"], m.nets["G"].eval()(z))
    train(m, ring8, range(4, 7))
    assert set(m.generate(30, torch.Generator().manual_seed(0))) == {"G", "pixel", "latent", "finetuned"}


def test_refinement_ascends_the_critic(ring8):
    m = toy_model(ring8, pixel_noise=0.0, latent_noise=0.0, pixel_steps=20, latent_steps=20)
    train(m, ring8, range(4))
    ev = m.evaluate(ring8, torch.Generator().manual_seed(0))
    assert ev.metrics["critic_gain_pixel"] > 0 and ev.metrics["critic_gain_latent"] > 0


def test_evaluate_reports_costs_trajectories_and_energy_grid(ring8):
    m = toy_model(ring8)
    train(m, ring8, range(7))
    ev = m.evaluate(ring8, torch.Generator().manual_seed(0))
    assert ev.metrics["extra_critic_grads_pixel"] == 3 and ev.metrics["extra_generator_grads_latent"] == 2
    assert ev.metrics["time_ratio_pixel"] > 0 and ev.metrics["time_ratio_latent"] > 0
    assert ev.metrics["finetune_iters"] == 3 and "critic_gain_finetuned" in ev.metrics
    a = ev.arrays
    assert a["traj_pixel"].shape == (4, 5, 2) and a["traj_latent"].shape == (3, 5, 2)
    assert a["traj_finetuned"].shape == (4, 5, 2)
    assert a["grid_axis"].shape == (7,) and a["energy_base"].shape == a["energy_finetuned"].shape == (7, 7)
    with torch.no_grad():  # energy_base[i, j] = -D(axis[j], axis[i])
        pt = torch.tensor([[a["grid_axis"][2], a["grid_axis"][5]]])
        assert a["energy_base"][5, 2] == pytest.approx(-m.nets["D"].eval()(pt).item(), abs=1e-5)


def test_state_round_trip_keeps_the_phase(ring8):
    m = toy_model(ring8)
    train(m, ring8, range(6))
    other = toy_model(ring8)
    other.load_state_dict(m.state_dict())
    assert other.finetune_iters == 2
    g = torch.Generator
    assert all(torch.equal(a, b) for a, b in zip(m.generate(10, g().manual_seed(1)).values(),
                                                 other.generate(10, g().manual_seed(1)).values()))


def image_source(shape: tuple[int, int, int]) -> TensorSource:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (40, *shape), dtype=np.uint8)
    spec = DataSpec("img", "mnist_offline", shape, 10, 32)
    return TensorSource(spec, x[:32], np.zeros(32, np.int64), x[32:], np.zeros(8, np.int64))


@pytest.mark.parametrize("arch, shape, extra", [
    ("dcgan", (1, 28, 28), {"bottom_width": 7, "g_channels": 8, "d_channels": 4}),
    ("resnet", (3, 32, 32), {"bottom_width": 4, "g_channels": 8, "d_channels": 8}),
    ("mlp", (1, 28, 28), {"g_hidden": [16], "d_hidden": [16]}),
])
def test_image_models_map_to_unit_range_and_clip_pixels(arch, shape, extra):
    data = image_source(shape)
    hp = build(DCDHParams, {"arch": arch, "z_dim": 8, "n_dis": 1, "base_steps": 1, "finetune_steps": 1,
                            "pixel_steps": 2, "latent_steps": 2, "timing_n": 4, "trajectory_images": 2, **extra}, "hp")
    torch.manual_seed(0)
    m = DCD(hp, data, torch.device("cpu"))
    train(m, data, range(2))
    sets = m.generate(6, torch.Generator().manual_seed(0))
    assert set(sets) == {"G", "pixel", "latent", "finetuned"}
    for x in sets.values():
        assert x.shape == (6, *shape) and x.min() >= 0 and x.max() <= 1
    ev = m.evaluate(data, torch.Generator().manual_seed(0))
    assert ev.arrays["traj_pixel"].shape == (3, 2, *shape) and "energy_base" not in ev.arrays


def test_architecture_checks():
    with pytest.raises(ValueError, match="square images"):
        DCD(build(DCDHParams, {"arch": "resnet"}, "hp"), image_source((1, 28, 14)), torch.device("cpu"))
    with pytest.raises(ValueError, match="power of two"):
        DCD(build(DCDHParams, {"arch": "dcgan", "bottom_width": 4}, "hp"), image_source((1, 28, 28)),
            torch.device("cpu"))
    with pytest.raises(ConfigError, match="adam_betas"):
        build(DCDHParams, {"adam_betas": [0.5]}, "hp")


def test_resuming_mid_finetuning_matches_an_uninterrupted_run(ring8):
    straight = toy_model(ring8)
    train(straight, ring8, range(7))
    first = toy_model(ring8)
    train(first, ring8, range(5))
    state, rng = first.state_dict(), torch.get_rng_state()
    resumed = toy_model(ring8)
    resumed.load_state_dict(state)
    torch.set_rng_state(rng)
    train(resumed, ring8, range(5, 7))
    for name in ("G", "D", "D_cd"):
        assert same(params(straight.nets[name]), params(resumed.nets[name])), name
