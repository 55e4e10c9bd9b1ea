"""EBGAN-LN and the ladder baseline: labelled subset, schedules, steps, test error."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pipeline.data.sources import DataSpec, TensorSource
from pipeline.hparams import build
from pipeline.hparams.ebgan_ssl import EBGANSSLHParams
from pipeline.models.ebgan_ssl import EBGANSSL, balanced_subset, linear_decay


def digits(n: int = 200) -> TensorSource:
    """Ten classes, each a fixed random 6x6 pattern plus noise: easy to classify."""
    rng = np.random.default_rng(0)
    patterns = rng.integers(0, 256, (10, 1, 6, 6))
    y = np.arange(n) % 10
    x = np.clip(patterns[y] + rng.normal(0, 20, (n, 1, 6, 6)), 0, 255).astype(np.uint8)
    return TensorSource(DataSpec("toy", "mnist_offline", (1, 6, 6), 10, n), x, y, x[:50], y[:50])


SMALL = {"n_labels": 20, "hidden": [16, 12], "labelled_batch": 10, "g_layers": 2, "g_size": 16, "z_dim": 4,
         "lr_decay_start": 30, "lr_decay_end": 40, "margin_decay_steps": 10, "g_steps": 10, "margin": 4.0}


def model(data, seed: int = 0, **overrides) -> EBGANSSL:
    torch.manual_seed(seed)
    return EBGANSSL(build(EBGANSSLHParams, {**SMALL, **overrides}, "hp"), data, torch.device("cpu"))


def test_defaults_follow_appendix_d():
    hp = EBGANSSLHParams()
    assert hp.hidden == [1000, 500, 250, 250, 250] and hp.recon_weight == pytest.approx(1000 / 784)
    assert (hp.margin, hp.margin_decay_steps, hp.g_steps) == (16.0, 60_000, 60_000)
    assert (hp.lr, hp.lr_g, hp.lr_decay_start, hp.lr_decay_end) == (5e-4, 2.5e-4, 120_000, 180_000)


def test_balanced_subset_takes_equal_counts_per_class_without_repeats():
    labels = torch.arange(300) % 10
    idx = balanced_subset(labels, 100, 10, torch.Generator().manual_seed(0))
    assert len(set(idx.tolist())) == 100
    assert torch.bincount(labels[idx], minlength=10).tolist() == [10] * 10
    odd = balanced_subset(labels, 23, 10, torch.Generator().manual_seed(0))
    assert torch.bincount(labels[odd], minlength=10).tolist() == [3, 3, 3] + [2] * 7
    with pytest.raises(ValueError):
        balanced_subset(labels, 400, 10, torch.Generator().manual_seed(0))


def test_labelled_subset_depends_on_the_seed_only():
    data = digits()
    a, b, c = model(data, seed=1), model(data, seed=1, adversarial=False), model(data, seed=2)
    assert torch.equal(a.labelled[1], b.labelled[1]) and torch.equal(a.labelled[0], b.labelled[0])
    assert not torch.equal(a.labelled[0], c.labelled[0])


def test_schedules_decay_linearly():
    assert [linear_decay(s, 80, 120) for s in (0, 79, 80, 100, 120, 130)] == [1, 1, 1, 0.5, 0, 0]
    m = model(digits())
    assert [m.margin_at(s) for s in (0, 5, 10, 20)] == [4.0, 2.0, 0.0, 0.0]


def test_ladder_baseline_has_no_generator_and_no_samples():
    m = model(digits(), adversarial=False)
    assert set(m.nets) == {"D"} and set(m.optimizers) == {"D"}
    out = m.train_step(*digits().batch(0, 20, 0), 0)
    assert set(out) == {"ce", "energy_real", "loss_d"}
    assert m.generate(5, torch.Generator().manual_seed(0)) == {}


def test_ebgan_ln_trains_g_until_g_steps_then_freezes_it():
    data = digits()
    m = model(data)
    out = m.train_step(*data.batch(0, 20, 0), 0)
    assert {"loss_g", "energy_fake", "margin"} <= set(out)
    assert all(math.isfinite(v.item()) for v in out.values())
    frozen = [p.detach().clone() for p in m.nets["G"].parameters()]
    out = m.train_step(*data.batch(10, 20, 0), 10)
    assert "loss_g" not in out
    assert all(torch.equal(a, b) for a, b in zip(frozen, m.nets["G"].parameters()))
    assert m.generate(4, torch.Generator().manual_seed(0))["G"].shape == (4, 1, 6, 6)


def test_learning_rates_follow_the_schedule():
    m = model(digits())
    m.train_step(*digits().batch(0, 20, 0), 35)
    assert m.optimizers["D"].param_groups[0]["lr"] == pytest.approx(5e-4 * 0.5)
    assert m.optimizers["G"].param_groups[0]["lr"] == pytest.approx(2.5e-4 * 0.5)


def test_training_lowers_the_test_error():
    data = digits()
    m = model(data, adversarial=False, lr=0.01, lr_decay_start=60, lr_decay_end=60)
    first = m.evaluate(data, torch.Generator().manual_seed(0)).metrics["test_error"]
    for s in range(60):
        m.train_step(*data.batch(s, 20, 0), s)
    metrics = m.evaluate(data, torch.Generator().manual_seed(0)).metrics
    assert set(metrics) == {"test_error", "labelled_error"}
    assert metrics["test_error"] < first and metrics["test_error"] < 0.5
