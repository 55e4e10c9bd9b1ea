"""2D mode metrics and the sliced Wasserstein distance on samples with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.data.synthetic import grid25, ring8
from pipeline.metrics.modes import hq_expected_fraction, mode_metrics, sliced_wasserstein


def test_expected_high_quality_fraction_at_three_sigma():
    assert hq_expected_fraction(3.0) == pytest.approx(1 - math.exp(-4.5))
    assert hq_expected_fraction(3.0) == pytest.approx(0.98889, abs=1e-5)


@pytest.mark.parametrize("make", [ring8, grid25])
def test_true_mixture_samples_score_as_the_real_distribution(make):
    mix = make("dcd")
    x, _ = mix.sample(40000, np.random.default_rng(0))
    m = mode_metrics(x, mix.centres, mix.std)
    assert m["hq_fraction"] == pytest.approx(hq_expected_fraction(3.0), abs=0.003)
    assert m["modes"] == len(mix.centres)
    assert m["kl_uniform"] < 0.002


def test_collapsed_sampler_scores_as_collapsed():
    mix = ring8("dcd")
    rng = np.random.default_rng(1)
    one_mode = mix.centres[2] + mix.std * rng.standard_normal((2500, 2))
    m = mode_metrics(one_mode, mix.centres, mix.std)
    assert m["modes"] == 1
    assert m["kl_uniform"] == pytest.approx(math.log(8), abs=1e-12)
    assert m["hq_fraction"] > 0.97
    two_modes = np.concatenate([one_mode[:1000], mix.centres[5] + mix.std * rng.standard_normal((1000, 2))])
    assert mode_metrics(two_modes, mix.centres, mix.std)["kl_uniform"] == pytest.approx(math.log(4), abs=0.01)


def test_samples_off_every_mode_are_low_quality():
    mix = ring8("dcd")
    m = mode_metrics(np.zeros((100, 2)), mix.centres, mix.std)
    assert m == {"modes": 0.0, "hq_fraction": 0.0, "kl_uniform": pytest.approx(math.log(8))}


def test_mode_metrics_rejects_bad_shapes():
    with pytest.raises(ValueError):
        mode_metrics(np.zeros((10, 3)), ring8("dcd").centres, 0.1)


def test_sliced_wasserstein_zero_on_identical_and_duplicated_sets():
    x = np.random.default_rng(2).normal(size=(300, 2))
    assert sliced_wasserstein(x, x) == pytest.approx(0.0, abs=1e-12)
    # the same empirical distribution with twice the points
    assert sliced_wasserstein(np.concatenate([x, x]), x) == pytest.approx(0.0, abs=1e-12)


def test_sliced_wasserstein_of_a_translation():
    # every 1D projection moves by theta.t, so SW_2^2 = E_theta (theta.t)^2 = |t|^2 / 2
    x = np.random.default_rng(3).normal(size=(200, 2))
    t = np.array([0.3, -0.4])
    assert sliced_wasserstein(x + t, x, n_directions=64) == pytest.approx(0.5 / math.sqrt(2), rel=1e-10)


def test_sliced_wasserstein_matches_a_brute_force_quantile_integral():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(7, 2)), rng.normal(loc=0.5, size=(5, 2))
    angles = np.pi * np.arange(16) / 16
    u = (np.arange(700_000) + 0.5) / 700_000  # fine grid on (0, 1)
    w2 = []
    for th in angles:
        d = np.array([np.cos(th), np.sin(th)])
        qa, qb = np.sort(a @ d), np.sort(b @ d)
        w2.append(np.mean((qa[np.ceil(u * 7).astype(int) - 1] - qb[np.ceil(u * 5).astype(int) - 1]) ** 2))
    assert sliced_wasserstein(a, b, n_directions=16) == pytest.approx(math.sqrt(np.mean(w2)), rel=1e-4)
