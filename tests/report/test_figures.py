"""Figures: tiling geometry and that each figure draws what it is given."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from pipeline.report import figures


def test_tile_places_images_row_major_with_gaps():
    imgs = np.stack([np.full((1, 2, 3), i, dtype=np.uint8) for i in range(5)])
    grid = figures.tile(imgs, nrow=3)
    assert grid.shape == (2 * 3 + 1, 3 * 4 + 1, 1)
    assert grid[1, 1, 0] == 0 and grid[1, 5, 0] == 1 and grid[4, 1, 0] == 3 and grid[4, 5, 0] == 4
    assert grid[0, :, 0].tolist() == [255] * 13  # gap row
    assert grid[4, 9, 0] == 255  # the empty sixth cell stays blank


def test_sample_grids_and_scatters_have_one_panel_each():
    rng = np.random.default_rng(0)
    fig = figures.sample_grids([("a", rng.random((10, 1, 8, 8))), ("b", rng.random((10, 3, 8, 8)))])
    assert len([a for a in fig.axes if a.images]) == 2
    plt.close(fig)
    centres = np.array([[1.0, 0.0], [-1.0, 0.0]])
    fig = figures.scatters_2d([("s0", rng.normal(size=(50, 2))), ("s1", rng.normal(size=(50, 2)))], centres,
                              rng.normal(size=(20, 2)))
    assert len(fig.axes) == 2 and len(fig.axes[0].collections) == 3
    plt.close(fig)


def test_metric_bars_error_bars_are_the_ci():
    summary = pd.DataFrame({"variant": ["a", "b"], "mean": [2.0, 3.0], "ci_low": [1.5, 2.0],
                            "ci_high": [2.5, 4.5]})
    fig = figures.metric_bars(summary, ceiling=5.0)
    ax = fig.axes[0]
    assert [p.get_height() for p in ax.patches] == [2.0, 3.0]
    segments = next(c for c in ax.collections if hasattr(c, "get_segments")).get_segments()
    assert [tuple(s[:, 1]) for s in segments] == [(1.5, 2.5), (2.0, 4.5)]
    assert any(line.get_ydata()[0] == 5.0 for line in ax.lines)
    plt.close(fig)


def test_training_curves_one_panel_per_logged_column():
    log = pd.DataFrame({"step": [1, 2], "loss_d": [1.0, 0.5], "loss_g": [2.0, 1.0], "wall_s": [0.1, 0.2],
                        "images_per_s": [10, 10]})
    fig = figures.training_curves({"s0": log, "s1": log})
    titled = [a.get_title() for a in fig.axes if a.get_title()]
    assert titled == ["loss_d", "loss_g"]
    assert len(fig.axes[0].lines) == 2
    plt.close(fig)


def test_metric_hist_counts_only_finite_values():
    fig = figures.metric_hist({"a": [1.0, 2.0, float("nan")], "b": [3.0]}, bins=3)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels == ["a (n=2)", "b (n=1)"]
    plt.close(fig)
