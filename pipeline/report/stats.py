"""Bootstrap statistics over seeds (Efron & Tibshirani 1993, percentile intervals).

For values x_1..x_n of one group, the CI of the mean is the ((1-l)/2, (1+l)/2)
quantiles of the means of B resamples drawn with replacement. For two groups A
and B the CI of mean(A) - factor * mean(B) resamples each group independently
(or, when ``paired``, resamples the shared runs and averages their differences).
Every call derives its random stream from a caller-given key, so results do not
depend on call order: the same inputs always give the same interval.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def rng_for(key: str) -> np.random.Generator:
    """A generator seeded from ``key`` (CRC32): deterministic and order-independent."""
    return np.random.default_rng(zlib.crc32(key.encode()))


def _as_array(values: Sequence[float]) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return x[np.isfinite(x)]


def _resampled_means(x: np.ndarray, samples: int, rng: np.random.Generator) -> np.ndarray:
    idx = rng.integers(0, len(x), size=(samples, len(x)))
    return x[idx].mean(axis=1)


def _quantiles(draws: np.ndarray, level: float) -> tuple[float, float]:
    lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def mean_ci(values: Sequence[float], samples: int, level: float, key: str) -> Interval:
    """Mean and bootstrap CI of the mean; NaN bounds with fewer than two finite values."""
    x = _as_array(values)
    if len(x) == 0:
        return Interval(float("nan"), float("nan"), float("nan"))
    if len(x) == 1:
        return Interval(float(x[0]), float("nan"), float("nan"))
    lo, hi = _quantiles(_resampled_means(x, samples, rng_for(key)), level)
    return Interval(float(x.mean()), lo, hi)


def diff_ci(a: Sequence[float], b: Sequence[float] | float, samples: int, level: float, key: str,
            factor: float = 1.0) -> Interval:
    """mean(a) - factor * mean(b) with a bootstrap CI; ``b`` may be a constant (no variance)."""
    xa = _as_array(a)
    rng = rng_for(key)
    da = _resampled_means(xa, samples, rng)
    if isinstance(b, (int, float)):
        draws, est = da - factor * float(b), xa.mean() - factor * float(b)
    else:
        xb = _as_array(b)
        draws = da - factor * _resampled_means(xb, samples, rng)
        est = xa.mean() - factor * xb.mean()
    lo, hi = _quantiles(draws, level)
    return Interval(float(est), lo, hi)


def paired_diff_ci(a: Sequence[float], b: Sequence[float], samples: int, level: float, key: str,
                   factor: float = 1.0) -> Interval:
    """Mean of per-run differences a_i - factor * b_i (same runs, same order) with a bootstrap CI."""
    xa, xb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    d = xa - factor * xb
    d = d[np.isfinite(d)]
    lo, hi = _quantiles(_resampled_means(d, samples, rng_for(key)), level)
    return Interval(float(d.mean()), lo, hi)


def abs_gap_ci(a: Sequence[float], b: Sequence[float] | float, target: float, samples: int,
               level: float, key: str) -> Interval:
    """|mean(b) - target| - |mean(a) - target| with a bootstrap CI (> 0: a is closer)."""
    xa = _as_array(a)
    rng = rng_for(key)
    ma = _resampled_means(xa, samples, rng)
    if isinstance(b, (int, float)):
        mb, est_b = np.full(samples, float(b)), float(b)
    else:
        xb = _as_array(b)
        mb, est_b = _resampled_means(xb, samples, rng), float(xb.mean())
    draws = np.abs(mb - target) - np.abs(ma - target)
    lo, hi = _quantiles(draws, level)
    return Interval(float(abs(est_b - target) - abs(xa.mean() - target)), lo, hi)
