"""The EBGAN paper's GAN baseline: BN nets of the grid, losses, per-net optimisers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pipeline.data.sources import DataSpec, TensorSource
from pipeline.hparams import build
from pipeline.hparams.gan_bn import GANBNHParams
from pipeline.models.gan_bn import GANBN, discriminator_loss, generator_loss


def images(n: int = 32, size: int = 8, channels: int = 1) -> TensorSource:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, channels, size, size), dtype=np.uint8)
    y = rng.integers(0, 10, n)
    return TensorSource(DataSpec("toy", "mnist_offline", (channels, size, size), 10, n), x, y, x[:8], y[:8])


def model(data, **overrides) -> GANBN:
    torch.manual_seed(0)
    hp = {"z_dim": 4, "g_layers": 3, "g_size": 16, "d_layers": 3, "d_size": 8, **overrides}
    return GANBN(build(GANBNHParams, hp, "hp"), data, torch.device("cpu"))


def test_defaults_are_the_best_gan_of_the_grid():
    hp = GANBNHParams()
    assert (hp.g_layers, hp.d_layers, hp.g_size, hp.d_size, hp.d_dropout) == (5, 2, 1600, 1024, False)
    assert (hp.optimizer_d, hp.optimizer_g, hp.lr) == ("sgd", "sgd", 0.01)


def test_losses_are_the_minimax_game_with_logits():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    d = -(torch.log(torch.sigmoid(real)).mean() + torch.log(1 - torch.sigmoid(fake)).mean())
    assert discriminator_loss(real, fake).item() == pytest.approx(d.item(), rel=1e-6)
    assert generator_loss(fake, "non_saturating").item() == pytest.approx(
        -torch.log(torch.sigmoid(fake)).mean().item(), rel=1e-6)
    assert generator_loss(fake, "saturating").item() == pytest.approx(
        torch.log(1 - torch.sigmoid(fake)).mean().item(), rel=1e-6)


def test_discriminator_has_n_layers_and_no_batchnorm_on_its_input_layer():
    gan = model(images(), d_layers=4, d_dropout=True)
    D = gan.nets["D"]
    linears = [m for m in D.modules() if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in linears] == [8, 8, 8, 1]
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in D.modules()) == 2
    assert sum(isinstance(m, torch.nn.Dropout) for m in D.modules()) == 3
    assert D(torch.randn(5, 1, 8, 8)).shape == (5,)


@pytest.mark.parametrize("opt_d, opt_g", [("adam", "sgd"), ("sgd", "adam")])
def test_each_net_gets_its_own_optimiser(opt_d, opt_g):
    gan = model(images(), optimizer_d=opt_d, optimizer_g=opt_g, lr=0.001)
    kinds = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}
    assert isinstance(gan.optimizers["D"], kinds[opt_d]) and isinstance(gan.optimizers["G"], kinds[opt_g])
    assert all(g["lr"] == 0.001 for o in gan.optimizers.values() for g in o.param_groups)


def test_train_step_updates_both_nets():
    data = images()
    gan = model(data)
    before = {k: [p.detach().clone() for p in n.parameters()] for k, n in gan.nets.items()}
    out = gan.train_step(*data.batch(0, 16, 0), 0)
    assert set(out) == {"loss_d", "loss_g", "d_real", "d_fake"}
    assert all(v.dim() == 0 and math.isfinite(v.item()) for v in out.values())
    for k, net in gan.nets.items():
        assert any(not torch.equal(a, b) for a, b in zip(before[k], net.parameters())), k


def test_discriminator_learns_to_separate_real_from_fake():
    data = images()
    gan = model(data, optimizer_d="adam", optimizer_g="adam", lr=0.01, d_size=32)
    outs = [gan.train_step(*data.batch(s, 16, 0), s) for s in range(20)]
    assert outs[-1]["d_real"].item() > outs[-1]["d_fake"].item()


def test_generate_gives_images_in_the_unit_range():
    gan = model(images())
    x = gan.generate(7, torch.Generator().manual_seed(0))["G"]
    assert x.shape == (7, 1, 8, 8) and x.min() >= 0 and x.max() <= 1


def test_conv64_is_a_dcgan():
    data = images(n=8, size=64, channels=3)
    gan = model(data, arch="conv64", g_widths=[8, 8, 4, 4], d_widths=[4, 4, 8, 8])
    assert gan.nets["D"](torch.randn(2, 3, 64, 64)).shape == (2,)
    out = gan.train_step(*data.batch(0, 4, 0), 0)
    assert all(math.isfinite(v.item()) for v in out.values())
