"""Typed hyperparameters: validation and provenance."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from pipeline.errors import ConfigError
from pipeline.hparams import MAX_LR, MAX_STEPS, SEED_LIMIT, build, provenance_table
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


def _typed_fields() -> list[tuple[str, Any]]:
    """(where, field) of every model hyperparameter and dataset option: the blocks the
    schema leaves to the typed dataclasses (``scoring`` is bounded by the schema itself)."""
    from pipeline.data.kinds import KINDS
    from pipeline.registry import MODELS, hparams_class

    classes = {hparams_class(m) for m in MODELS} | {k.options for k in KINDS.values()}
    return [(f"{cls.__name__}.{f.name}", f) for cls in classes for f in dataclasses.fields(cls)]


def test_step_counts_learning_rates_and_seeds_have_their_sanity_bounds():
    """A typo like `steps: 10**12` or `lr: 1e6` fails validation, in every model."""
    checked = set()
    for where, f in _typed_fields():
        if f.name.endswith("steps") or f.name in ("lr_decay_start", "lr_decay_end"):
            assert f.metadata["le"] == MAX_STEPS, where
        elif f.name == "lr" or f.name.endswith("_lr") or f.name in ("lr_g", "lr_min"):
            assert f.metadata["le"] == MAX_LR, where
        elif f.name.endswith("seed"):
            assert f.metadata["lt"] == SEED_LIMIT, where
        else:
            continue
        checked.add(f.name)
    assert {"lr", "lr_g", "rbm_lr", "base_steps", "g_steps", "split_seed", "test_seed"} <= checked


def test_the_schema_has_the_same_bounds():
    from pipeline.config import load_schema

    defs = load_schema()["$defs"]
    assert defs["seed"]["exclusiveMaximum"] == SEED_LIMIT and defs["steps"]["maximum"] == MAX_STEPS
    assert defs["classifier"]["properties"]["lr"]["maximum"] == MAX_LR
