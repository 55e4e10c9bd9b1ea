"""The original GAN: architecture, losses, schedules, updates."""

from __future__ import annotations

import math

import pytest
import torch

from pipeline.config import make_plan
from pipeline.data.loader import open_dataset
from pipeline.hparams import build
from pipeline.hparams.gan import GANHParams
from pipeline.models.base import generator_loss
from pipeline.models.gan import GAN
from pipeline.nets.mlp import Maxout


@pytest.fixture
def mnist(fetched, tiny_params):
    return open_dataset(make_plan(tiny_params).datasets, "mnist_subset", fetched / "mnist_subset")


def model(data, **overrides):
    torch.manual_seed(0)
    return GAN(build(GANHParams, overrides, "hp"), data, torch.device("cpu"))


def test_maxout_takes_the_max_over_pieces():
    layer = Maxout(3, units=2, pieces=4)
    x = torch.randn(5, 3)
    pre = layer.linear(x).view(5, 2, 4)
    assert torch.equal(layer(x), pre.max(-1).values)


def test_paper_architecture_and_init(mnist):
    gan = model(mnist)
    sizes = [m.out_features for m in gan.nets["G"] if isinstance(m, torch.nn.Linear)]
    assert sizes == [1200, 1200, 784]
    maxouts = [m for m in gan.nets["D"] if isinstance(m, Maxout)]
    assert [(m.units, m.pieces) for m in maxouts] == [(240, 5), (240, 5)]
    drops = [m.p for m in gan.nets["D"] if isinstance(m, torch.nn.Dropout)]
    assert drops == pytest.approx([0.2, 0.5, 0.5])
    assert gan.nets["G"][0].weight.abs().max() <= 0.05 and gan.nets["D"][2].linear.weight.abs().max() <= 0.005
    mean = mnist.train_arrays()[0].mean(0).flatten().clamp(1e-3, 1 - 1e-3)
    assert torch.allclose(torch.sigmoid(gan.nets["G"][-1].bias), mean, atol=1e-5)


def test_schedules_follow_the_pylearn2_settings(mnist):
    gan = model(mnist)
    lr0, m0 = gan.schedule(0, 100)
    assert (lr0, m0) == (0.1, 0.5)
    lr, m = gan.schedule(40 * 125, 100)  # 4000 images / 100 = 40 steps per epoch; epoch 125 of 250
    assert lr == pytest.approx(0.1 / 1.000004**5000) and m == pytest.approx(0.6)
    assert gan.schedule(40 * 300, 100)[1] == pytest.approx(0.7)
    assert gan.schedule(10**9, 100)[0] == 1e-6


@pytest.mark.parametrize("g_loss, expected", [("non_saturating", lambda l: -torch.log(torch.sigmoid(l))),
                                               ("saturating", lambda l: torch.log(1 - torch.sigmoid(l)))])
def test_generator_losses(mnist, g_loss, expected):
    gan = model(mnist, g_loss=g_loss)
    logits = torch.linspace(-4, 4, 9)
    assert torch.allclose(generator_loss(logits, gan.hp.g_loss), expected(logits).mean(), atol=1e-5)


def test_k_discriminator_steps_use_k_fresh_batches(mnist):
    gan = model(mnist, k_steps=3, g_hidden=[16], d_hidden=[8])
    assert gan.batches_per_step == 3
    steps = []
    original = gan.optimizers["D"].step
    gan.optimizers["D"].step = lambda *a, **k: (steps.append(1), original(*a, **k))
    x, y = mnist.batch(0, 3 * 10, seed=0)
    out = gan.train_step(x, y, 0)
    assert len(steps) == 3 and set(out) >= {"loss_d", "loss_g", "log_d_real", "log_1m_d_fake"}
    assert math.isclose(out["loss_d"].item(), -(out["log_d_real"] + out["log_1m_d_fake"]).item(), rel_tol=1e-5)


@pytest.mark.parametrize("update", ["alternating", "simultaneous"])
def test_a_few_steps_move_both_players(mnist, update):
    gan = model(mnist, update=update, g_hidden=[32], d_hidden=[16])
    g0, d0 = gan.nets["G"][0].weight.clone(), gan.nets["D"][2].linear.weight.clone()
    for step in range(3):
        x, y = mnist.batch(step, 20, seed=0)
        gan.train_step(x, y, step)
    assert not torch.equal(g0, gan.nets["G"][0].weight) and not torch.equal(d0, gan.nets["D"][2].linear.weight)


def test_generate_is_reproducible_and_in_range(mnist):
    gan = model(mnist, g_hidden=[32], d_hidden=[16])
    a = gan.generate(7, torch.Generator().manual_seed(1))["G"]
    b = gan.generate(7, torch.Generator().manual_seed(1))["G"]
    assert a.shape == (7, 1, 28, 28) and torch.equal(a, b) and 0 <= a.min() and a.max() <= 1


def test_mlp2d_variant_on_points(fetched, tiny_params):
    ring = open_dataset(make_plan(tiny_params).datasets, "ring8", fetched / "ring8")
    gan = model(ring, arch="mlp2d", z_dim=2, g_hidden=[16], d_hidden=[16], optimizer="adam", lr=1e-3)
    x, y = ring.batch(0, 64, 0)
    gan.train_step(x, y, 0)
    assert gan.generate(10, torch.Generator().manual_seed(0))["G"].shape == (10, 2)
    with pytest.raises(ValueError, match="mlp2d"):
        model(ring)
