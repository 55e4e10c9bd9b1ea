"""Figures drawn only from pipeline outputs (samples.npz, train_log.csv, the aggregate).

Every function returns a matplotlib Figure (Agg backend, no display); the report
context saves it (``SectionContext.figure``) and closes it.

- :func:`sample_grids`    images (N, C, H, W) -> tiled grids, one panel per run or set
- :func:`scatters_2d`     2D samples over real data with the mode centres, one panel each
- :func:`metric_bars`     mean per group with its bootstrap CI (over seeds) and
                          an optional real-data ceiling line
- :func:`metric_hist`     distribution of a metric over many runs (e.g. a grid)
- :func:`training_curves` logged losses against steps, one line per run
- :func:`learning_curves` IS and FID during training (eval_log.csv), one line per run,
                          with the quality floor and the real-data IS
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

sns.set_theme(style="whitegrid", context="paper")
NON_LOSS_COLUMNS = ("step", "wall_s", "images_per_s")


def tile(images: np.ndarray, nrow: int) -> np.ndarray:
    """(N, C, H, W) -> (rows*H + gaps, nrow*W + gaps, C) with 1-pixel gaps (value 255)."""
    n, c, h, w = images.shape
    rows = math.ceil(n / nrow)
    canvas = np.full((rows * (h + 1) + 1, nrow * (w + 1) + 1, c), 255, dtype=images.dtype)
    for i in range(n):
        r, k = divmod(i, nrow)
        canvas[1 + r * (h + 1): 1 + r * (h + 1) + h, 1 + k * (w + 1): 1 + k * (w + 1) + w] = (
            images[i].transpose(1, 2, 0))
    return canvas


def _as_uint8(images: np.ndarray, n: int) -> np.ndarray:
    x = np.asarray(images[:n])
    if x.dtype != np.uint8:
        x = (np.clip(x, 0, 1) * 255).round().astype(np.uint8)
    return x[:, None] if x.ndim == 3 else x


def sample_grids(panels: Sequence[tuple[str, np.ndarray]], n: int = 64, nrow: int = 8) -> Figure:
    """One tiled grid of the first ``n`` images (uint8, or floats in [0, 1]) per panel
    (title, images), side by side."""
    fig, axes = plt.subplots(1, len(panels), figsize=(2.6 * len(panels), 2.95), squeeze=False,
                             layout="constrained")
    for ax, (title, images) in zip(axes.flat, panels):
        x = _as_uint8(images, n)
        grid = tile(x, min(nrow, len(x)))
        ax.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=255,
                  interpolation="nearest")
        ax.set_axis_off()
        ax.set_title(title, fontsize=7)
    return fig


def scatters_2d(panels: Sequence[tuple[str, np.ndarray]], centres: np.ndarray | None = None,
                real: np.ndarray | None = None) -> Figure:
    """Generated 2D points (blue) over real points (grey) with mode centres (red crosses),
    one panel per (title, points), sharing the axis limits of the real data."""
    fig, axes = plt.subplots(1, len(panels), figsize=(2.5 * len(panels), 2.9), squeeze=False)
    anchors = [a for a in (centres, real) if a is not None]
    ref = np.concatenate(anchors) if anchors else np.concatenate([p for _, p in panels])
    limit = float(np.abs(ref).max()) * 1.35
    for ax, (title, points) in zip(axes.flat, panels):
        if real is not None:
            ax.scatter(real[:, 0], real[:, 1], s=2, c="0.75", label="real", linewidths=0)
        ax.scatter(points[:, 0], points[:, 1], s=2, c="tab:blue", alpha=0.5, label="generated", linewidths=0)
        if centres is not None:
            ax.scatter(centres[:, 0], centres[:, 1], marker="x", s=25, c="tab:red", linewidths=1,
                       label="mode centres")
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-limit, limit)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=6)
        ax.set_title(title, fontsize=7)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.tight_layout(pad=0.4, rect=(0, 0.08, 1, 1))
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=6, markerscale=2, frameon=False,
               bbox_to_anchor=(0.5, 0.0))
    return fig


def metric_bars(summary: pd.DataFrame, label: str = "variant", title: str = "",
                ceiling: float | None = None, ylabel: str = "") -> Figure:
    """Bars of ``summary['mean']`` per ``summary[label]`` with asymmetric CI error bars
    (ci_low, ci_high); a dashed line marks the real-data ceiling."""
    labels = [str(v) for v in summary[label]]
    means = summary["mean"].to_numpy(float)
    lo = np.nan_to_num(means - summary["ci_low"].to_numpy(float), nan=0.0)
    hi = np.nan_to_num(summary["ci_high"].to_numpy(float) - means, nan=0.0)
    fig, ax = plt.subplots(figsize=(max(2.6, 0.9 * len(labels) + 1.2), 2.6))
    colours = sns.color_palette("deep", len(labels))
    ax.bar(range(len(labels)), means, yerr=[lo, hi], capsize=4, color=colours)
    ax.set_xticks(range(len(labels)), labels, rotation=20 if len(labels) > 3 else 0, ha="right"
                  if len(labels) > 3 else "center", fontsize=7)
    if ceiling is not None and math.isfinite(ceiling):
        ax.axhline(ceiling, ls="--", c="0.3", lw=1, label="real data")
        ax.legend(fontsize=6)
    ax.set_ylabel(ylabel, fontsize=7)
    if title:
        ax.set_title(title, fontsize=8)
    fig.tight_layout(pad=0.3)
    return fig


def metric_hist(values: Mapping[str, Sequence[float]], title: str = "", xlabel: str = "",
                bins: int = 20) -> Figure:
    """Overlaid histograms of a metric over runs, one per named group (NaNs dropped)."""
    fig, ax = plt.subplots(figsize=(3.6, 2.6))
    finite = {k: np.asarray(v, float)[np.isfinite(np.asarray(v, float))] for k, v in values.items()}
    pooled = np.concatenate([v for v in finite.values() if len(v)] or [np.zeros(1)])
    edges = np.histogram_bin_edges(pooled, bins=bins)
    for name, v in finite.items():
        ax.hist(v, bins=edges, alpha=0.55, label=f"{name} (n={len(v)})")
    ax.set_xlabel(xlabel, fontsize=7)
    ax.set_ylabel("runs", fontsize=7)
    ax.legend(fontsize=6)
    if title:
        ax.set_title(title, fontsize=8)
    fig.tight_layout(pad=0.3)
    return fig


def loss_columns(log: pd.DataFrame) -> list[str]:
    return [c for c in log.columns if c not in NON_LOSS_COLUMNS]


def training_curves(logs: Mapping[str, pd.DataFrame], title: str = "", columns: Sequence[str] | None = None
                    ) -> Figure:
    """One panel per logged quantity, one line per run (label -> train_log.csv frame)."""
    frames = {k: v for k, v in logs.items() if not v.empty and "step" in v}
    cols = list(columns) if columns is not None else sorted(
        {c for v in frames.values() for c in loss_columns(v)}, key=lambda c: (not c.startswith("loss"), c))
    cols = cols or ["step"]
    ncol = min(len(cols), 4)
    nrows = math.ceil(len(cols) / ncol)
    fig, axes = plt.subplots(nrows, ncol, figsize=(2.6 * ncol + 0.4, 2.0 * nrows + 0.4), squeeze=False,
                             layout="constrained")
    for ax, col in zip(axes.flat, cols):
        for label, log in frames.items():
            if col in log:
                ax.plot(log["step"], log[col], lw=1, label=label)
        ax.set_title(col, fontsize=7)
        ax.tick_params(labelsize=6)
        ax.set_xlabel("step", fontsize=6)
    for ax in list(axes.flat)[len(cols):]:
        ax.set_axis_off()
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 6), fontsize=6,
                   frameon=False)
    if title:
        fig.suptitle(title, fontsize=8)
    return fig


def learning_curves(logs: Mapping[str, pd.DataFrame], floor: float | None = None,
                    real_is: float | None = None, title: str = "", max_legend: int = 8) -> Figure:
    """IS (left) and FID (right; log scale when it spans a factor 10) against the training
    step, one line per run (label -> eval_log.csv frame); dashed: the quality floor, dotted:
    the real data's IS. Runs beyond ``max_legend`` are drawn but not listed in the legend."""
    frames = {k: v for k, v in logs.items() if not v.empty and "step" in v}
    fig, (ax_is, ax_fid) = plt.subplots(1, 2, figsize=(6.4, 2.6), layout="constrained")
    for i, (label, log) in enumerate(frames.items()):
        name = label if i < max_legend else None
        ax_is.plot(log["step"], log["is"], lw=1, marker=".", ms=3, label=name)
        ax_fid.plot(log["step"], log["fid"], lw=1, marker=".", ms=3)
    if floor is not None and math.isfinite(floor):
        ax_is.axhline(floor, ls="--", c="tab:red", lw=1, label=f"quality floor {floor:.3g}")
    if real_is is not None and math.isfinite(real_is):
        ax_is.axhline(real_is, ls=":", c="0.3", lw=1, label=f"real data {real_is:.3g}")
    fids = pd.concat([f["fid"] for f in frames.values()]).dropna() if frames else pd.Series()
    if len(fids) and fids.min() > 0 and fids.max() >= 10 * fids.min():
        ax_fid.set_yscale("log")  # FID falls by orders of magnitude while G learns
    for ax, name in ((ax_is, "IS"), (ax_fid, "FID")):
        ax.set_xlabel("training step", fontsize=7)
        ax.set_ylabel(name, fontsize=7)
        ax.tick_params(labelsize=6)
    ax_is.legend(fontsize=6)
    if title:
        fig.suptitle(title, fontsize=8)
    return fig
