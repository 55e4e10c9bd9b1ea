"""FID, KID and precision/recall (through torch-fidelity) against closed forms."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.linalg import sqrtm

from pipeline.metrics.feature_distances import (
    GaussianStats,
    feature_statistics,
    fid,
    frechet_distance,
    kid,
    precision_recall,
)


def random_spd(rng: np.random.Generator, d: int) -> np.ndarray:
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.5 * np.eye(d)


def closed_form_fid(mu1, s1, mu2, s2) -> float:
    """Frechet distance with the symmetric root tr((S1^1/2 S2 S1^1/2)^1/2) (scipy)."""
    r1 = sqrtm(s1).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(sqrtm(r1 @ s2 @ r1).real))


def test_fid_of_identical_gaussians_is_zero():
    rng = np.random.default_rng(0)
    stats = GaussianStats(rng.normal(size=6), random_spd(rng, 6))
    assert frechet_distance(stats, stats) == pytest.approx(0.0, abs=1e-8)


def test_fid_of_diagonal_gaussians_is_the_sum_of_squared_root_differences():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    v1, v2 = np.array([1.0, 4.0, 0.25]), np.array([4.0, 1.0, 1.0])
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(v1) - np.sqrt(v2)) ** 2).sum()  # = 5 + 2.25 = 7.25
    got = frechet_distance(GaussianStats(mu1, np.diag(v1)), GaussianStats(mu2, np.diag(v2)))
    assert got == pytest.approx(expected, rel=1e-10)
    assert expected == pytest.approx(7.25)


def test_fid_of_general_gaussians_matches_the_closed_form():
    rng = np.random.default_rng(1)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    s1, s2 = random_spd(rng, 5), random_spd(rng, 5)
    got = frechet_distance(GaussianStats(mu1, s1), GaussianStats(mu2, s2))
    assert got == pytest.approx(closed_form_fid(mu1, s1, mu2, s2), rel=1e-8)


def test_fid_from_samples_estimates_the_population_value():
    rng = np.random.default_rng(2)
    mu1, mu2 = np.zeros(3), np.array([1.0, 0.0, -0.5])
    s1, s2 = np.diag([1.0, 2.0, 0.5]), np.diag([2.0, 1.0, 0.5])
    x = torch.from_numpy(rng.multivariate_normal(mu1, s1, size=40000))
    y = torch.from_numpy(rng.multivariate_normal(mu2, s2, size=40000))
    assert fid(x, y) == pytest.approx(closed_form_fid(mu1, s1, mu2, s2), abs=0.03)
    assert fid(x, x) == pytest.approx(0.0, abs=1e-8)
    stats = feature_statistics(y)
    assert stats.mu.shape == (3,) and stats.sigma.shape == (3, 3)
    assert fid(x, stats) == pytest.approx(fid(x, y), rel=1e-12)


def unbiased_cubic_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """Binkowski et al. (2018) Eq. 2 with k(a, b) = (a.b / d + 1)^3, written out directly."""
    d, m = x.shape[1], len(x)
    k = lambda a, b: (a @ b.T / d + 1.0) ** 3
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    return float((kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.mean())


def test_kid_matches_the_unbiased_cubic_mmd_and_is_near_zero_on_identical_sets():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(200, 8)), rng.normal(loc=0.3, size=(200, 8))
    # one subset of the whole set: a permutation, to which the estimator is invariant
    got = kid(torch.from_numpy(x), torch.from_numpy(y), subsets=1, subset_size=200)
    assert got == pytest.approx(unbiased_cubic_mmd2(x, y), rel=1e-9)
    same = rng.normal(size=(1000, 8))
    near_zero = kid(torch.from_numpy(same), torch.from_numpy(same), subsets=20, subset_size=300)
    assert abs(near_zero) < 0.1 * got


def test_kid_clamps_the_subset_size_to_the_sets(capsys):
    rng = np.random.default_rng(4)
    x, y = torch.from_numpy(rng.normal(size=(50, 4))), torch.from_numpy(rng.normal(size=(80, 4)))
    assert np.isfinite(kid(x, y, subsets=5, subset_size=1000))
    assert "subset size 1000" in capsys.readouterr().err


def test_precision_recall_identical_disjoint_and_collapsed_sets():
    rng = np.random.default_rng(5)
    real = torch.from_numpy(rng.normal(size=(500, 4))).float()
    assert precision_recall(real, real, k=3) == (1.0, 1.0)
    far = real + 100.0
    assert precision_recall(far, real, k=3) == (0.0, 0.0)
    # a generator that reproduces only a tight cluster of real points: precise, poor recall
    collapsed = real[real[:, 0] > 1.0]
    precision, recall = precision_recall(collapsed, real, k=3)
    assert precision == 1.0 and recall < 0.5


def test_precision_recall_needs_more_points_than_k():
    with pytest.raises(ValueError, match="k=3"):
        precision_recall(torch.zeros(3, 2), torch.zeros(10, 2), k=3)
