"""Bootstrap intervals: deterministic, centred on the estimate, right sign."""

from __future__ import annotations

import math

import numpy as np

from pipeline.report import stats


def test_mean_ci_is_deterministic_and_brackets_the_mean():
    x = [1.0, 2.0, 3.0, 4.0, 10.0]
    a = stats.mean_ci(x, 500, 0.95, "k")
    b = stats.mean_ci(x, 500, 0.95, "k")
    assert a == b
    assert a.estimate == np.mean(x)
    assert min(x) <= a.low < a.estimate < a.high <= max(x)


def test_mean_ci_matches_an_independent_percentile_bootstrap():
    x = np.array([0.5, 1.5, 2.0, 4.0])
    rng = stats.rng_for("key")
    means = x[rng.integers(0, 4, size=(300, 4))].mean(axis=1)
    lo, hi = np.quantile(means, [0.05, 0.95])
    ci = stats.mean_ci(x, 300, 0.90, "key")
    assert math.isclose(ci.low, lo) and math.isclose(ci.high, hi)


def test_mean_ci_degenerate_inputs():
    one = stats.mean_ci([3.0, float("nan")], 100, 0.95, "k")
    assert one.estimate == 3.0 and math.isnan(one.low) and math.isnan(one.high)
    assert math.isnan(stats.mean_ci([], 100, 0.95, "k").estimate)


def test_diff_ci_sign_and_constant():
    a, b = [10.0, 11.0, 12.0], [1.0, 2.0, 3.0]
    d = stats.diff_ci(a, b, 500, 0.95, "d")
    assert d.estimate == 9.0 and d.low > 0
    assert stats.diff_ci(b, a, 500, 0.95, "d").high < 0
    c = stats.diff_ci(a, 11.0, 500, 0.95, "c")
    assert c.estimate == 0.0 and c.low < 0 < c.high
    assert stats.diff_ci(a, 5.0, 500, 0.95, "f", factor=2.0).estimate == 1.0


def test_paired_diff_removes_shared_run_variation():
    base = np.array([1.0, 50.0, 100.0, 150.0])
    unpaired = stats.diff_ci(base + 1, base, 500, 0.95, "p")
    paired = stats.paired_diff_ci(base + 1, base, 500, 0.95, "p")
    assert unpaired.low < 0 < unpaired.high
    assert paired.low == paired.high == 1.0


def test_abs_gap_ci_positive_when_a_is_closer():
    gap = stats.abs_gap_ci([0.95, 1.0, 1.05], [2.0, 2.1, 1.9], 1.0, 500, 0.95, "g")
    assert gap.low > 0
