"""EBGAN: energy, per-sample margin loss, pulling-away term, nets and a tiny train step."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

from pipeline.data.sources import DataSpec, TensorSource
from pipeline.hparams import build
from pipeline.hparams.ebgan import EBGANHParams
from pipeline.models.ebgan import EBGAN, margin_loss, pulling_away, reconstruction_energy


def images(n: int = 64, size: int = 8, channels: int = 1, seed: int = 0) -> TensorSource:
    """Copies of four random prototype images (easy to reconstruct), with random labels."""
    rng = np.random.default_rng(seed)
    prototypes = rng.integers(0, 256, (4, channels, size, size), dtype=np.uint8)
    x = prototypes[rng.integers(0, 4, n)]
    y = rng.integers(0, 10, n)
    spec = DataSpec("toy", "mnist_offline", (channels, size, size), 10, n)
    return TensorSource(spec, x, y, x[:16], y[:16])


TINY = {"z_dim": 4, "g_layers": 3, "g_size": 16, "d_layers": 3, "d_size": 8}


def model(data, **overrides) -> EBGAN:
    torch.manual_seed(0)
    return EBGAN(build(EBGANHParams, {**TINY, **overrides}, "hp"), data, torch.device("cpu"))


# --------------------------------------------------------------------------- losses


def test_energy_is_the_l2_norm_of_the_reconstruction_error():
    x = torch.zeros(2, 1, 2, 2)
    recon = torch.tensor([[3.0, 4.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]]).view(2, 1, 2, 2)
    assert torch.allclose(reconstruction_energy(x, recon), torch.tensor([5.0, 2.0]))
    assert torch.allclose(reconstruction_energy(x, recon, "mse"), torch.tensor([25 / 4, 1.0]))
    with pytest.raises(ValueError):
        reconstruction_energy(x, recon, "l1")


def test_energy_gradient_is_finite_at_a_perfect_reconstruction():
    x = torch.ones(3, 4, requires_grad=True)
    reconstruction_energy(x, torch.ones(3, 4)).sum().backward()
    assert torch.isfinite(x.grad).all()


def test_margin_loss_applies_the_hinge_per_sample_not_to_the_batch_mean():
    real = torch.tensor([1.0, 3.0])
    fake = torch.tensor([0.0, 20.0])  # mean 10 = m: a batch-mean hinge would give 0
    loss = margin_loss(real, fake, 10.0)
    assert loss.item() == pytest.approx((1 + 10 + 3 + 0) / 2)
    assert loss.item() != pytest.approx(real.mean().item() + max(0.0, 10 - fake.mean().item()))


def test_margin_loss_gradient_vanishes_for_fakes_above_the_margin():
    fake = torch.tensor([2.0, 12.0], requires_grad=True)
    margin_loss(torch.zeros(2), fake, 10.0).backward()
    assert fake.grad.tolist() == [-0.5, 0.0]


def test_pulling_away_term_is_zero_for_orthogonal_and_one_for_identical_codes():
    assert pulling_away(torch.eye(5) * 3.0).item() == pytest.approx(0.0, abs=1e-7)
    same = torch.randn(1, 7).repeat(6, 1)
    assert pulling_away(same).item() == pytest.approx(1.0, abs=1e-6)
    scaled = same * torch.arange(1.0, 7.0)[:, None]  # cosine ignores each row's scale
    assert pulling_away(scaled).item() == pytest.approx(1.0, abs=1e-6)


def test_pulling_away_term_matches_eq_14_on_random_codes():
    s = torch.randn(5, 3)
    n = len(s)
    terms = [(s[i] @ s[j] / (s[i].norm() * s[j].norm())) ** 2 for i in range(n) for j in range(n) if i != j]
    assert pulling_away(s).item() == pytest.approx(sum(terms).item() / (n * (n - 1)), rel=1e-5)
    with pytest.raises(ValueError):
        pulling_away(s[:1])


# --------------------------------------------------------------------------- nets


def test_fc_nets_follow_table_1_layer_counts_and_appendix_c_batchnorm():
    ebgan = model(images(), g_layers=4, g_size=16, d_layers=4, d_size=8)
    G, D = ebgan.nets["G"], ebgan.nets["D"]
    g_linears = [m for m in G if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in g_linears] == [16, 16, 16, 64]
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in G) == 3  # none after the output layer
    assert isinstance(G[-1], torch.nn.Tanh)
    enc = [m for m in D.encoder if isinstance(m, torch.nn.Linear)]
    assert len(enc) == 3 and D.decoder.out_features == 64  # nLayerD = 3 encoder layers + 1 decoder
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in D.modules()) == 2  # none on D's input layer
    assert isinstance(D.encoder[2], torch.nn.ReLU)  # Flatten, Linear, ReLU: the first layer has no BN


def test_init_follows_appendix_c():
    ebgan = model(images(), g_size=400, d_size=400)
    g_std = torch.cat([m.weight.flatten() for m in ebgan.nets["G"] if isinstance(m, torch.nn.Linear)]).std()
    d_std = ebgan.nets["D"].decoder.weight.std()
    assert g_std.item() == pytest.approx(0.02, rel=0.05) and d_std.item() == pytest.approx(0.002, rel=0.05)


def test_dropout_acts_in_the_encoder_but_the_code_is_taken_before_it():
    ebgan = model(images(), d_dropout=True, d_layers=3)
    D = ebgan.nets["D"]
    drops = [m for m in D.modules() if isinstance(m, torch.nn.Dropout)]
    assert len(drops) == 2 and all(d.p == 0.5 for d in drops)
    assert isinstance(D.encoder[-1], torch.nn.ReLU) and isinstance(D.dropout, torch.nn.Dropout)
    x = torch.randn(8, 1, 8, 8)
    D.eval()
    assert torch.equal(D(x)[1], D(x)[1])
    D.train()
    torch.manual_seed(1)
    recon_a, _ = D(x)
    torch.manual_seed(2)
    recon_b, _ = D(x)
    assert not torch.equal(recon_a, recon_b)


def test_conv64_nets_map_64x64_images():
    data = images(n=8, size=64, channels=3)
    ebgan = model(data, arch="conv64", g_widths=[8, 8, 4, 4], enc_widths=[4, 8, 8], dec_widths=[8, 4])
    x = torch.rand(4, 3, 64, 64) * 2 - 1
    recon, code = ebgan.nets["D"](x)
    assert recon.shape == x.shape and code.shape == (4, 8 * 8 * 8)
    fake = ebgan.fake(torch.randn(4, 4))
    assert fake.shape == (4, 3, 64, 64) and fake.abs().max() <= 1
    out = ebgan.train_step(data.batch(0, 4, 0)[0], None, 0)
    assert all(math.isfinite(v.item()) for v in out.values())


def test_conv64_rejects_points_and_odd_sizes():
    spec = DataSpec("pts", "ring8", (2,), 8, None)
    pts = TensorSource(spec, np.zeros((4, 2), np.float32), np.zeros(4), np.zeros((4, 2), np.float32), np.zeros(4))
    with pytest.raises(ValueError):
        model(pts, arch="conv64")
    with pytest.raises(ValueError):
        model(images(size=36), arch="conv64")


# --------------------------------------------------------------------------- training


def test_a_train_step_updates_both_nets_and_returns_detached_scalars():
    data = images()
    ebgan = model(data, pt_weight=0.1)
    before = {k: [p.detach().clone() for p in net.parameters()] for k, net in ebgan.nets.items()}
    x, y = data.batch(0, 16, 0)
    out = ebgan.train_step(x, y, 0)
    assert set(out) == {"loss_d", "loss_g", "energy_real", "energy_fake", "pt", "fake_below_margin"}
    assert all(v.dim() == 0 and not v.requires_grad and math.isfinite(v.item()) for v in out.values())
    assert 0 <= out["pt"].item() <= 1
    for k, net in ebgan.nets.items():
        assert any(not torch.equal(a, b) for a, b in zip(before[k], net.parameters())), k
    assert all(p.requires_grad for p in ebgan.nets["D"].parameters())


def test_pulling_away_term_enters_the_generator_loss_only():
    data = images()
    x, y = data.batch(0, 16, 0)
    plain, with_pt = model(data), model(data, pt_weight=0.5)
    for m in (plain, with_pt):
        torch.manual_seed(1)  # same noise for both
        m.train_step(x, y, 0)
    for a, b in zip(plain.nets["D"].state_dict().values(), with_pt.nets["D"].state_dict().values()):
        assert torch.equal(a, b)
    assert any(not torch.equal(a, b) for a, b in zip(plain.nets["G"].parameters(), with_pt.nets["G"].parameters()))


def test_discriminator_learns_to_reconstruct_real_data():
    data = images()
    ebgan = model(data, d_size=32)
    energies = [ebgan.train_step(*data.batch(s, 32, 0), s)["energy_real"].item() for s in range(40)]
    assert np.mean(energies[-5:]) < 0.5 * np.mean(energies[:5])


def test_generate_and_evaluate_leave_the_model_unchanged():
    data = images()
    ebgan = model(data)
    for s in range(3):
        ebgan.train_step(*data.batch(s, 16, 0), s)
    state = {k: v.clone() for k, v in ebgan.nets.state_dict().items()}
    a = ebgan.generate(10, torch.Generator().manual_seed(3))["G"]
    b = ebgan.generate(10, torch.Generator().manual_seed(3))["G"]
    assert torch.equal(a, b) and a.shape == (10, 1, 8, 8) and 0 <= a.min() and a.max() <= 1
    ev = ebgan.evaluate(data, torch.Generator().manual_seed(0))
    assert ev.metrics["V_over_m"] == pytest.approx(ev.metrics["V"] / 10.0)
    assert ev.metrics["V"] >= ev.metrics["energy_real"]
    for k, v in ebgan.nets.state_dict().items():
        assert torch.equal(v, state[k]), k


def test_points_use_a_linear_output_and_the_raw_range():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(64, 2)).astype(np.float32) * 3
    spec = DataSpec("pts", "ring8", (2,), 8, 64)
    data = TensorSource(spec, pts, np.zeros(64), pts[:16], np.zeros(16))
    ebgan = model(data, batchnorm=False)
    assert not any(isinstance(m, torch.nn.Tanh) for m in ebgan.nets["G"].modules())
    assert torch.equal(ebgan.to_model(data.batch(0, 8, 0)[0]), data.batch(0, 8, 0)[0])
    ebgan.train_step(*data.batch(0, 16, 0), 0)
    assert ebgan.generate(5, torch.Generator().manual_seed(0))["G"].shape == (5, 2)


def test_state_round_trip_restores_optimisers():
    data = images()
    a = model(data)
    a.train_step(*data.batch(0, 16, 0), 0)
    b = model(data)
    b.load_state_dict(copy.deepcopy(a.state_dict()))  # as through a checkpoint file
    torch.manual_seed(5)
    out_a = a.train_step(*data.batch(1, 16, 0), 1)
    torch.manual_seed(5)
    out_b = b.train_step(*data.batch(1, 16, 0), 1)
    assert all(torch.equal(out_a[k], out_b[k]) for k in out_a)
