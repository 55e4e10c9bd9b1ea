"""Inception Score and EBGAN's I' against known answers and direct formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.special import rel_entr, softmax

from pipeline.metrics.classifier_scores import inception_score, modified_inception_score

BIG = 50.0  # logit gap: p(other classes) ~ 2e-22, one-hot to 1e-20


def one_hot_logits(labels: np.ndarray, classes: int) -> torch.Tensor:
    logits = torch.full((len(labels), classes), -BIG, dtype=torch.float64)
    logits[torch.arange(len(labels)), torch.as_tensor(labels)] = 0.0
    return logits


def test_uniform_classifier_output_gives_is_one_and_is_mod_zero():
    logits = torch.zeros(1000, 10)
    mean, std = inception_score(logits, splits=10)
    assert mean == pytest.approx(1.0, abs=1e-12) and std == pytest.approx(0.0, abs=1e-12)
    assert modified_inception_score(logits, splits=10)[0] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("classes", [2, 10, 37])
def test_one_hot_evenly_spread_gives_is_equal_to_the_number_of_classes(classes):
    labels = np.tile(np.arange(classes), 40)
    assert inception_score(one_hot_logits(labels, classes), splits=1)[0] == pytest.approx(classes, rel=1e-12)
    # unshuffled splits that each hold every class equally often: every split scores C
    mean, std = inception_score(one_hot_logits(labels, classes), splits=4, shuffle=False)
    assert mean == pytest.approx(classes, rel=1e-12) and std == pytest.approx(0.0, abs=1e-9)


def test_collapsed_generator_scores_one():
    labels = np.full(500, 3)
    assert inception_score(one_hot_logits(labels, 10), splits=5)[0] == pytest.approx(1.0, abs=1e-12)


def test_is_matches_direct_formula_on_random_logits():
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=3.0, size=(400, 7))
    p = softmax(logits, axis=1)
    expected = math.exp(rel_entr(p, p.mean(0, keepdims=True)).sum(1).mean())
    assert inception_score(torch.from_numpy(logits), splits=1)[0] == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("clip", [1e-6, 1e-3])
def test_is_mod_of_one_hot_outputs_has_the_closed_form(clip):
    # p(y) = 1/C; each x: log max(p(y|x), clip) = 0 for its class, log clip for the C - 1 others
    classes = 10
    labels = np.tile(np.arange(classes), 50)
    expected = -math.log(classes) - (classes - 1) / classes * math.log(clip)
    got = modified_inception_score(one_hot_logits(labels, classes), splits=1, clip=clip)[0]
    assert got == pytest.approx(expected, rel=1e-12)


def test_is_mod_matches_direct_formula_with_clipping():
    rng = np.random.default_rng(1)
    logits = rng.normal(scale=8.0, size=(300, 5))
    p = softmax(logits, axis=1)
    marginal = p.mean(0)
    clip = 1e-4
    expected = (marginal * (np.log(marginal) - np.log(np.maximum(p, clip)))).sum(1).mean()
    assert modified_inception_score(torch.from_numpy(logits), splits=1, clip=clip)[0] == pytest.approx(expected)
    # without effective clipping it is the swapped-order KL, >= 0
    assert modified_inception_score(torch.from_numpy(logits), splits=3, clip=1e-300)[0] >= 0


def test_splits_must_fit_the_samples():
    with pytest.raises(ValueError, match="splits"):
        inception_score(torch.zeros(5, 3), splits=10)
    with pytest.raises(ValueError, match="splits"):
        modified_inception_score(torch.zeros(5, 3), splits=0)


def test_feature_scores_split_fewer_samples_at_the_protocols_split_size():
    from pipeline.metrics.scoring import RealContext, feature_scores
    from pipeline.metrics.settings import load_settings

    logits = torch.randn(500, 10, generator=torch.Generator().manual_seed(0)) * 3
    ctx = RealContext(load_settings({"n_samples": 2000, "is_splits": 10}))
    got = feature_scores({"logits": logits}, ("is",), ctx)["is"]
    assert got == pytest.approx(inception_score(logits, 2, seed=ctx.settings.rng_seed)[0])
    assert got != pytest.approx(inception_score(logits, 10, seed=ctx.settings.rng_seed)[0])
