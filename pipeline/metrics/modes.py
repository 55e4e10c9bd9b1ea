"""Sample quality on 2D toy data (numpy only).

Mode metrics for Gaussian mixtures with K known centres mu_k and common std s
(the protocol of VEEGAN, Srivastava et al. 2017, Sec. 5.1, used by PacGAN and
DCD's toy experiments): assign each sample to its nearest centre; it is *high
quality* when that distance is at most ``n_sigmas`` * s (3 std). Then

- ``hq_fraction`` = high-quality samples / all samples. For samples of the true
  isotropic mixture, |x - mu|^2 / s^2 ~ chi^2_2, so the expected fraction is
  1 - exp(-n_sigmas^2 / 2) = 0.98889 at 3 std (when modes are far apart);
- ``modes`` = centres with at least one high-quality sample;
- ``kl_uniform`` = KL(p_hat || U_K) = sum_k p_hat_k log(K p_hat_k), p_hat the
  histogram of high-quality samples over centres (0 log 0 = 0). With no
  high-quality sample p_hat is undefined; we report log K, the KL of a point
  mass on one mode, the largest value any histogram can take (ours).

For 2D data without modes (the Swiss roll) the sliced 2-Wasserstein distance
to held-out real points (Bonneel et al. 2015, Eq. 3; ours as the metric):
SW_2(P, Q)^2 = E_theta W_2^2(theta.P, theta.Q) over unit directions theta,
averaged here over ``n_directions`` evenly spaced angles in [0, pi) (exact for
the quadratic moments, no sampling noise). Each 1D W_2^2 between empirical
distributions of sizes n and m is computed exactly from the quantile functions
(piecewise constant on the merged grid {i/n} U {j/m}).
"""

from __future__ import annotations

import math

import numpy as np


def hq_expected_fraction(n_sigmas: float = 3.0) -> float:
    """P(|x - mu| <= n_sigmas s) for x ~ N(mu, s^2 I_2): 1 - exp(-n_sigmas^2 / 2)."""
    return 1.0 - math.exp(-(n_sigmas**2) / 2)


def mode_metrics(points: np.ndarray, centres: np.ndarray, std: float, n_sigmas: float = 3.0) -> dict[str, float]:
    """``modes``, ``hq_fraction`` and ``kl_uniform`` of samples (N, 2) for centres (K, 2)."""
    points = np.asarray(points, np.float64)
    centres = np.asarray(centres, np.float64)
    if points.ndim != 2 or points.shape[1] != centres.shape[1] or len(points) == 0:
        raise ValueError(f"points must be (N, {centres.shape[1]}) with N > 0, got {points.shape}")
    d2 = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
    nearest = d2.argmin(axis=1)
    hq = d2[np.arange(len(points)), nearest] <= (n_sigmas * std) ** 2
    counts = np.bincount(nearest[hq], minlength=len(centres)).astype(np.float64)
    k = len(centres)
    if counts.sum() == 0:
        kl = math.log(k)
    else:
        p = counts / counts.sum()
        nz = p > 0
        kl = float((p[nz] * np.log(k * p[nz])).sum())
    return {"modes": float((counts > 0).sum()), "hq_fraction": float(hq.mean()), "kl_uniform": kl}


def _quantile_grid(n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Widths of the pieces of [0, 1] on which both empirical quantile functions are
    constant, and the order-statistic index of each piece for sizes n and m."""
    edges = np.union1d(np.arange(1, n + 1) / n, np.arange(1, m + 1) / m)
    widths = np.diff(np.concatenate([[0.0], edges]))
    mids = edges - widths / 2
    return widths, np.minimum((mids * n).astype(np.int64), n - 1), np.minimum((mids * m).astype(np.int64), m - 1)


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, n_directions: int = 256) -> float:
    """SW_2 between point sets a (N, 2) and b (M, 2)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != 2 or b.shape[1] != 2 or not len(a) or not len(b):
        raise ValueError(f"need two non-empty (N, 2) point sets, got {a.shape} and {b.shape}")
    angles = np.pi * np.arange(n_directions) / n_directions
    directions = np.stack([np.cos(angles), np.sin(angles)])  # (2, L)
    pa, pb = np.sort(a @ directions, axis=0), np.sort(b @ directions, axis=0)
    widths, ia, ib = _quantile_grid(len(a), len(b))
    w2 = (widths[:, None] * (pa[ia] - pb[ib]) ** 2).sum(axis=0)
    return float(np.sqrt(w2.mean()))
