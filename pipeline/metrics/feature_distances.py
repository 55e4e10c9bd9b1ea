"""Distances between generated and real images in a feature space, via torch-fidelity.

Features come from a registered torch-fidelity feature extractor
(:mod:`pipeline.metrics.extractors`): our domain classifier's penultimate layer
for digit-like data, Inception-v3's 2048-d pool features for natural images.
The arithmetic is torch-fidelity's own (its ``*_features_to_*`` functions), so
a paper-scale Inception score is the same call with another extractor.

- FID (Heusel et al. 2017, Eq. 6): fit Gaussians N(mu_g, S_g), N(mu_r, S_r) to
  the features; FID = |mu_g - mu_r|^2 + tr(S_g + S_r - 2 (S_g S_r)^(1/2)).
- KID (Binkowski et al. 2018, Eq. 2 and Sec. 4): the unbiased estimator of
  MMD^2 with the cubic kernel k(x, y) = (x.y / d + 1)^3, averaged over
  ``subsets`` random subsets of ``subset_size`` from each set.
- Precision / recall (Kynkaanniemi et al. 2019, Eqs. 1-3): the real manifold is
  the union of balls around each real feature with radius its distance to its
  k-th nearest real neighbour; precision = fraction of generated features in
  it; recall = fraction of real features in the generated manifold.

The real-data side (mu_r, S_r and the real features) is computed once by the
``reference`` stage and cached in refs/<dataset>/.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import torch
from torch_fidelity.metric_fid import (
    KEY_METRIC_FID,
    fid_features_to_statistics,
    fid_statistics_to_metric,
)
from torch_fidelity.metric_kid import KEY_METRIC_KID_MEAN, kid_features_to_metric
from torch_fidelity.metric_prc import (
    KEY_METRIC_PRECISION,
    KEY_METRIC_RECALL,
    prc_features_to_metric,
)


@dataclass(frozen=True)
class GaussianStats:
    """Mean and covariance (float64) of a feature set."""

    mu: np.ndarray
    sigma: np.ndarray


def feature_statistics(features: torch.Tensor) -> GaussianStats:
    """Sample mean and (unbiased) covariance of features (N, D)."""
    stats = fid_features_to_statistics(torch.as_tensor(features).detach().cpu().double())
    return GaussianStats(np.asarray(stats["mu"], np.float64), np.atleast_2d(np.asarray(stats["sigma"], np.float64)))


def frechet_distance(a: GaussianStats, b: GaussianStats) -> float:
    """FID between two fitted Gaussians (torch-fidelity's eigenvalue form of the trace term)."""
    return fid_statistics_to_metric({"mu": a.mu, "sigma": a.sigma}, {"mu": b.mu, "sigma": b.sigma},
                                    verbose=False)[KEY_METRIC_FID]


def fid(generated: torch.Tensor, real: GaussianStats | torch.Tensor) -> float:
    real_stats = real if isinstance(real, GaussianStats) else feature_statistics(real)
    return frechet_distance(feature_statistics(generated), real_stats)


def _subset_size(requested: int, n_generated: int, n_real: int) -> int:
    size = min(requested, n_generated, n_real)
    if size < requested:
        print(f"[kid] note: subset size {requested} exceeds the sets ({n_generated} generated, {n_real} real); "
              f"using {size} (the estimator stays unbiased, its variance grows)", file=sys.stderr)
    return size


def kid(generated: torch.Tensor, real: torch.Tensor, subsets: int = 100, subset_size: int = 1000,
        degree: int = 3, seed: int = 2020) -> float:
    """Mean over subsets of the unbiased MMD^2 with kernel (x.y / d + 1)^degree."""
    generated = torch.as_tensor(generated).detach().cpu().double()
    real = torch.as_tensor(real).detach().cpu().double()
    size = _subset_size(subset_size, len(generated), len(real))
    out = kid_features_to_metric(generated, real, kid_subsets=subsets, kid_subset_size=size, kid_kernel="poly",
                                 kid_kernel_poly_degree=degree, rng_seed=seed, verbose=False)
    return out[KEY_METRIC_KID_MEAN]


def precision_recall(generated: torch.Tensor, real: torch.Tensor, k: int = 3,
                     batch_size: int = 10000) -> tuple[float, float]:
    """(precision, recall) with k-th nearest-neighbour radii."""
    generated = torch.as_tensor(generated).detach().cpu().float()
    real = torch.as_tensor(real).detach().cpu().float()
    if min(len(generated), len(real)) <= k:
        raise ValueError(f"precision/recall with k={k} needs more than {k} samples per set")
    out = prc_features_to_metric(generated, real, prc_neighborhood=k, prc_batch_size=batch_size,
                                 save_cpu_ram=True, verbose=False)
    return out[KEY_METRIC_PRECISION], out[KEY_METRIC_RECALL]
