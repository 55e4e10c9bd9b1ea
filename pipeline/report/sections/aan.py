"""AAN (Arici & Celikyilmaz 2016) report section.

1. Gibbs steps (the paper's figure): G's images along Gibbs chains of the RBM
   started at F(x) of held-out images, 1..10 steps, small vs large RBM
   (``aux/gibbs_chain`` of each experiment's first run), the measured image
   change per step (``aux/chain_change``, ``run/chain_change_per_step``) and
   the change in G's input (``run/chain_feature_change_per_step``).
2. Training balance (the paper's figure): the ratio E_data[log D(x)] /
   E[log(1 - D(G(f)))] over training from train_log.csv (``log_d_real`` /
   ``log_1m_d_fake``), AAN vs the noise-fed GAN, with ``run/balance_gap``
   (mean |ratio - 1| over the second half) and ``run/balance_ratio``.
3. Sample quality at equal budget (our question, not the paper's claim): IS,
   EBGAN's I', FID, KID, precision / recall with the real-data ceiling.
4. Sample grids and training curves of every experiment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from pipeline.report import figures
from pipeline.report.context import SectionContext, fmt
from pipeline.report.sections.common import bars_figure, curves_figure, samples_figure

SMALL, LARGE, NOISE = "rbm_small", "rbm_large", "noise_gan"
VARIANT_LABELS = {SMALL: "AAN (small RBM)", LARGE: "AAN (large RBM)", NOISE: "noise-fed GAN"}
CHAIN_METRICS = ("run/chain_change_per_step", "run/chain_feature_change_per_step")
BALANCE_METRICS = ("run/balance_gap", "run/balance_ratio")
IMAGE_METRICS = ("G/is", "G/is_mod", "G/fid", "G/kid", "G/precision", "G/recall")


# --------------------------------------------------------------------------- figures


def gibbs_chain_figure(panels: Sequence[tuple[str, np.ndarray]]) -> Figure:
    """One panel per (title, chains (N, 1 + T, C, H, W) uint8): a row per chain, the
    held-out image first, then G's image after 1..T Gibbs steps."""
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.4), squeeze=False)
    for ax, (title, chains) in zip(axes.flat, panels):
        n, cols = chains.shape[:2]
        grid = figures.tile(chains.reshape(n * cols, *chains.shape[2:]), cols)
        ax.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=255,
                  interpolation="nearest")
        ax.set_axis_off()
        ax.set_title(f"{title}\nheld-out image, then Gibbs steps 1..{cols - 1}", fontsize=7)
    fig.tight_layout(pad=0.3)
    return fig


def chain_change_figure(curves: Mapping[str, Sequence[tuple[np.ndarray, np.ndarray]]]) -> Figure:
    """Left: mean |G(f_{t+1}) - G(f_t)| per Gibbs step; right: mean |G(f_t) - G(f_1)|, the
    distance from the chain's first image. One colour per experiment, one line per run
    (label -> [(aux/chain_change, aux/chain_drift)])."""
    fig, axes = plt.subplots(1, 2, figsize=(6.6, 2.6))
    colours = sns.color_palette("deep", len(curves))
    for colour, (label, runs) in zip(colours, curves.items()):
        for i, (change, drift) in enumerate(runs):
            name = label if i == 0 else None
            axes[0].plot(np.arange(1, len(change) + 1), change, color=colour, lw=1, alpha=0.8, label=name)
            axes[1].plot(np.arange(1, len(drift) + 1), drift, color=colour, lw=1, alpha=0.8, label=name)
    axes[0].set_xlabel("Gibbs step t (change from t to t + 1)", fontsize=7)
    axes[0].set_ylabel("mean |pixel change|", fontsize=7)
    axes[1].set_xlabel("Gibbs step t", fontsize=7)
    axes[1].set_ylabel("mean |G(f_t) - G(f_1)|", fontsize=7)
    for ax in axes:
        ax.set_ylim(bottom=0)
        ax.tick_params(labelsize=6)
    axes[0].legend(fontsize=6)
    fig.tight_layout(pad=0.3)
    return fig


def balance_ratio(log: pd.DataFrame) -> pd.Series:
    """E_data[log D(x)] / E[log(1 - D(G(f)))] per logged window (NaN where undefined)."""
    den = log["log_1m_d_fake"].where(log["log_1m_d_fake"] < 0)
    return log["log_d_real"] / den


def balance_figure(logs: Mapping[str, Sequence[pd.DataFrame]]) -> Figure:
    """The balance ratio over training, one colour per experiment, one line per run; the
    dashed line is the equilibrium ratio 1 (both terms log 1/2)."""
    fig, ax = plt.subplots(figsize=(4.4, 2.8))
    colours = sns.color_palette("deep", len(logs))
    for colour, (label, frames) in zip(colours, logs.items()):
        for i, log in enumerate(frames):
            ax.plot(log["step"], balance_ratio(log), color=colour, lw=1, alpha=0.8,
                    label=label if i == 0 else None)
    ax.axhline(1.0, ls="--", c="0.3", lw=1)
    ax.set_xlabel("step", fontsize=7)
    ax.set_ylabel("E log D(x) / E log(1 - D(G(f)))", fontsize=7)
    ax.tick_params(labelsize=6)
    ax.legend(fontsize=6)
    fig.tight_layout(pad=0.3)
    return fig


# --------------------------------------------------------------------------- helpers


def _experiments_by_dataset(ctx: SectionContext) -> dict[str, dict[str, list[str]]]:
    """dataset -> variant -> experiments, in params order."""
    out: dict[str, dict[str, list[str]]] = {}
    for exp in ctx.experiments():
        run = ctx.runs_of(exp)[0]
        out.setdefault(run.dataset, {}).setdefault(run.variant, []).append(exp)
    return out


def _label(ctx: SectionContext, exp: str) -> str:
    variant = ctx.runs_of(exp)[0].variant
    return f"{VARIANT_LABELS.get(variant, variant)}: {exp}"


def _present(ctx: SectionContext, metrics: Sequence[str], experiments: Sequence[str]) -> list[str]:
    have = set(ctx.summary[ctx.summary["experiment"].isin(experiments)]["metric"])
    return [m for m in metrics if m in have]


def _first_array(ctx: SectionContext, exp: str, key: str) -> tuple[str, np.ndarray] | None:
    for run in ctx.runs_of(exp):
        arrays = ctx.samples(run.id)
        if key in arrays:
            return run.name, arrays[key]
    return None


def _gibbs(ctx: SectionContext, dataset: str, exps: list[str]) -> list[str]:
    parts = [f"### Gibbs steps on `{dataset}` (paper's figure)\n",
             ("Each row starts the RBM's chain at F(x) of a held-out image (left) and shows G's image "
              "after 1, 2, … Gibbs steps, as in the paper's figure. The paper reports that the larger "
              "RBM's images change slowly (facial features change gradually) while the small RBM's "
              "chain jumps between modes. We measure it: the mean absolute pixel change between "
              "consecutive images (`run/chain_change_per_step`, pixels in [0, 1]) and the mean change "
              "of G's input per unit (`run/chain_feature_change_per_step`), over 256 held-out "
              "chains (ours).\n")]
    panels = []
    curves: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for exp in exps:
        found = _first_array(ctx, exp, "aux/gibbs_chain")
        if found is not None:
            panels.append((f"{_label(ctx, exp)} ({found[0]})", found[1]))
        arrays = [ctx.samples(r.id) for r in ctx.runs_of(exp)]
        pairs = [(a["aux/chain_change"], a["aux/chain_drift"]) for a in arrays
                 if "aux/chain_change" in a and "aux/chain_drift" in a]
        if pairs:
            curves[_label(ctx, exp)] = pairs
    if panels:
        parts.append(ctx.figure(gibbs_chain_figure(panels), f"gibbs_chain_{dataset}",
                                f"G's images along Gibbs chains, {dataset}") + "\n")
    if curves:
        parts.append(ctx.figure(chain_change_figure(curves), f"chain_change_{dataset}",
                                f"image change per Gibbs step, {dataset}") + "\n")
    metrics = _present(ctx, CHAIN_METRICS, exps)
    if metrics:
        parts.append(ctx.metric_table(metrics, exps, with_ceiling=False))
    return parts


def _balance(ctx: SectionContext, dataset: str, exps: list[str]) -> list[str]:
    parts = [f"### Training balance on `{dataset}` (paper's figure)\n",
             ("The paper monitors E_data[log D(x)] and E[log(1 − D(G(·)))]: both tend to log ½ at the "
              "global optimum, so their ratio tends to 1; in practice D wins and the ratio drifts. "
              "Its claim: the AAN keeps the ratio closer to 1 than a GAN fed uniform noise with the "
              "same nets. Curves: the ratio of the logged window means; "
              "`run/balance_gap` = mean |ratio − 1| and `run/balance_ratio` = mean ratio, per step "
              "over the second half of training (ours).\n")]
    logs: dict[str, list[pd.DataFrame]] = {}
    for exp in exps:
        frames = [ctx.train_log(r.id) for r in ctx.runs_of(exp)]
        frames = [f for f in frames if f is not None and {"log_d_real", "log_1m_d_fake"} <= set(f.columns)]
        if frames:
            logs[_label(ctx, exp)] = frames
    if logs:
        parts.append(ctx.figure(balance_figure(logs), f"balance_{dataset}",
                                f"training balance ratio, {dataset}") + "\n")
    metrics = _present(ctx, BALANCE_METRICS, exps)
    if metrics:
        parts.append(ctx.metric_table(metrics, exps, with_ceiling=False))
    return parts


def _quality(ctx: SectionContext, dataset: str, exps: list[str]) -> list[str]:
    metrics = _present(ctx, IMAGE_METRICS, exps)
    if not metrics:
        return []
    parts = [f"### Sample quality at equal budget on `{dataset}` (our question)\n",
             ("Not claimed by the paper: the question a reviewer asks. Every experiment of a dataset "
              "has the same nets, steps and batch size; G's samples come from Gibbs chains run from a "
              "random start (`sample_steps`). Scores use our domain classifier (MNIST-like data) or "
              "Inception (natural images) and compare runs with each other and with the real "
              "held-out data scored the same way (the ceiling).\n"),
             ctx.metric_table(metrics, exps)]
    ceiling = ctx.ceiling(dataset, "G/is")
    is_rows = ctx.summary[(ctx.summary["metric"] == "G/is") & ctx.summary["experiment"].isin(exps)]
    means = is_rows["mean"].to_numpy(float)
    if ceiling is not None and np.isfinite(means).any():
        parts.append(f"Best mean G/is here: {fmt(np.nanmax(means))}; real held-out data: "
                     f"{fmt(ceiling['mean'])}. A claim comparing generators gets a verdict only when "
                     "every compared group has learned (its mean G/is reaches the quality floor, "
                     "column `learned`); otherwise it is inconclusive — below the quality floor.\n")
    for m in ("G/is", "G/fid"):
        if m in metrics:
            link = bars_figure(ctx, m, exps, f"bars_{dataset}_{m.replace('/', '_')}", label="variant")
            if link:
                parts.append(link + "\n")
    return parts


def render(ctx: SectionContext) -> str:
    parts = ["### Claims\n", ctx.claims_list()]
    if not ctx.experiments():
        return "\n".join(parts + [f"_No AAN experiment runs at profile `{ctx.profile}`._\n"])
    for dataset, variants in _experiments_by_dataset(ctx).items():
        chain_exps = variants.get(SMALL, []) + variants.get(LARGE, [])
        balance_exps = variants.get(SMALL, []) + variants.get(NOISE, []) + variants.get(LARGE, [])
        all_exps = [e for v in variants.values() for e in v]
        if chain_exps:
            parts += _gibbs(ctx, dataset, chain_exps)
        parts += _balance(ctx, dataset, balance_exps or all_exps)
        parts += _quality(ctx, dataset, all_exps)
    parts.append("### Samples and training curves\n")
    for exp in ctx.experiments():
        for link in (samples_figure(ctx, exp), curves_figure(ctx, exp)):
            if link:
                parts.append(link + "\n")
    return "\n".join(parts)
