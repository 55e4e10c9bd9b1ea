"""Typed hyperparameters: validation and provenance."""

from __future__ import annotations

import pytest

from pipeline.errors import ConfigError
from pipeline.hparams import build, provenance_table
from pipeline.hparams.gan import GANHParams


def test_defaults_are_the_papers_mnist_settings():
    hp = build(GANHParams, {}, "x")
    assert (hp.z_dim, hp.g_hidden, hp.d_hidden, hp.d_pieces) == (100, [1200, 1200], [240, 240], 5)
    assert (hp.lr, hp.lr_decay, hp.momentum_start, hp.momentum_end) == (0.1, 1.000004, 0.5, 0.7)


def test_ints_are_accepted_for_floats_but_not_the_reverse():
    assert build(GANHParams, {"lr": 1}, "x").lr == 1.0
    with pytest.raises(ConfigError, match="x.z_dim"):
        build(GANHParams, {"z_dim": 2.0}, "x")


def test_literal_and_list_types():
    with pytest.raises(ConfigError, match="one of"):
        build(GANHParams, {"g_loss": "wasserstein"}, "x")
    with pytest.raises(ConfigError, match=r"x.g_hidden\[1\]"):
        build(GANHParams, {"g_hidden": [10, "a"]}, "x")
    with pytest.raises(ConfigError, match="must be > 0"):
        build(GANHParams, {"g_hidden": [10, 0]}, "x")


def test_cross_field_validation():
    with pytest.raises(ConfigError, match="simultaneous"):
        build(GANHParams, {"update": "simultaneous", "k_steps": 2}, "x")


def test_provenance_marks_profile_overrides():
    hp = build(GANHParams, {"lr": 0.01, "z_dim": 100}, "x")
    rows = {r["name"]: r for r in provenance_table(hp, {"lr": 0.01, "z_dim": 100})}
    assert rows["lr"]["source"] == "profile" and rows["lr"]["default_source"] == "code"
    assert rows["z_dim"]["source"] == "code"  # overridden with the default value: still the code's
    assert rows["update"]["source"] == "ours"
    assert rows["k_steps"]["source"] == "paper"
