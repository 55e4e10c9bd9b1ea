"""EBGAN report section (Zhao, Mathieu & LeCun, ICLR 2017). API: :mod:`pipeline.report.context`.

- Table 1 / Figures 2-3: histograms of the modified inception score I' over every
  grid run, EBGAN vs GAN, also restricted to nLayerG, nLayerD <= 4 / <= 3 and split by
  the GAN's optimisers and learning rate; failed (diverged) runs sit in a bar of
  their own at the left, below every score ("the lowest score").
- Figure 9: samples per margin and I' against m.
- Figure 4: samples and scores of the best GAN / EBGAN / EBGAN-PT configurations.
- Table 2: semi-supervised test error of the ladder network and EBGAN-LN.
- Theorem 1: V / m of the 2D toy over training, with its samples.
- Appendix C: 64x64 CelebA / LSUN sample grids (paper profile).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from pipeline.report import figures
from pipeline.report.context import SectionContext, fmt, md_table, stat_text
from pipeline.report.sections.common import curves_figure, samples_figure

SCORE = "G/is_mod"
GRID_MODELS = {"ebgan": "EBGAN", "gan_bn": "GAN"}
BINS = 20
MARGIN_SAMPLES = 12  # samples per margin row of the Fig. 9 analogue
LABEL_COUNTS = (100, 200, 1000)
INTRO = (
    "EBGAN's discriminator is an autoencoder whose energy is the L2 norm of the "
    "reconstruction error, D(x) = ||Dec(Enc(x)) - x|| (Eq. 13; not a mean square), trained "
    "with the per-sample margin loss of Eq. 1; EBGAN-PT adds the pulling-away term on the "
    "encoder codes to G's loss. The GAN side of the grid is the same fully connected family "
    "with a logit head (model `gan_bn`). I' is the paper's modified inception score "
    "E_x KL(p(y) || p(y|x)) under our MNIST classifier.\n"
)
PUBLISHED_T2 = {  # Table 2, error in %, mean ± std over 15 seeds [paper]
    "LN bottom-layer cost (paper's reproduction)": {100: (1.36, 0.21), 200: (1.24, 0.09), 1000: (1.04, 0.06)},
    "EBGAN-LN (paper)": {100: (1.04, 0.12), 200: (0.99, 0.12), 1000: (0.89, 0.04)},
}


# --------------------------------------------------------------------------- data helpers


def _experiments_of(ctx: SectionContext, variant: str, model: str | None = None) -> list[str]:
    out = []
    for exp in ctx.experiments():
        runs = ctx.runs_of(exp)
        if runs and runs[0].variant == variant and (model is None or runs[0].model == model):
            out.append(exp)
    return out


def _metric_rows(ctx: SectionContext, experiments: Sequence[str], metric: str) -> pd.DataFrame:
    """One row per run of ``experiments``: its grid point (parsed), status and ``metric`` value
    (NaN for failed runs)."""
    rows = ctx.runs[ctx.runs["experiment"].isin(experiments)]
    rows = rows[rows["metric"] == metric].copy()
    if rows.empty:
        return rows
    rows["point"] = rows["grid_point"].map(lambda s: json.loads(s) if isinstance(s, str) and s else {})
    rows["value"] = pd.to_numeric(rows["value"], errors="coerce")
    return rows


def _grid_scores(ctx: SectionContext) -> dict[str, pd.DataFrame]:
    """model label -> rows of I' over its grid runs."""
    out = {}
    for model, label in GRID_MODELS.items():
        exps = _experiments_of(ctx, "grid", model)
        rows = _metric_rows(ctx, exps, SCORE) if exps else pd.DataFrame()
        if not rows.empty:
            out[label] = rows
    return out


def _restrict_layers(rows: pd.DataFrame, max_layers: int) -> pd.DataFrame:
    keep = rows["point"].map(lambda p: p.get("hparams.g_layers", 0) <= max_layers
                             and p.get("hparams.d_layers", 0) <= max_layers)
    return rows[keep]


def _failed(rows: pd.DataFrame) -> np.ndarray:
    return ((rows["status"] != "ok") | rows["value"].isna()).to_numpy()


# --------------------------------------------------------------------------- figures


def _hist_panel(ax: plt.Axes, groups: Mapping[str, pd.DataFrame], edges: np.ndarray, title: str) -> None:
    """Percentage of each group's runs per I' bin; failed runs in a bar left of the first bin."""
    width = edges[1] - edges[0]
    for i, (label, rows) in enumerate(groups.items()):
        n = len(rows)
        if n == 0:
            continue
        failed = _failed(rows)
        counts, _ = np.histogram(rows["value"].to_numpy(float)[~failed], bins=edges)
        color = f"C{i}"
        ax.bar(edges[:-1], 100 * counts / n, width=width, align="edge", alpha=0.55, color=color,
               label=f"{label} (n={n}, failed {int(failed.sum())})")
        ax.bar(edges[0] - 1.5 * width, 100 * failed.sum() / n, width=width, align="edge", alpha=0.55,
               color=color, hatch="//")
    ax.axvline(edges[0] - 0.25 * width, color="0.5", lw=0.6)
    ax.set_title(title, fontsize=7)
    ax.set_xlabel("I' (hatched: failed runs)", fontsize=6)
    ax.set_ylabel("% of runs", fontsize=6)
    ax.tick_params(labelsize=6)
    ax.legend(fontsize=5)


def _edges(groups: Mapping[str, pd.DataFrame]) -> np.ndarray:
    values = np.concatenate([g["value"].to_numpy(float) for g in groups.values()])
    values = values[np.isfinite(values)]
    lo = min(0.0, float(values.min())) if values.size else 0.0  # I' can dip below 0 by rounding
    hi = float(values.max()) if values.size else 1.0
    return np.linspace(lo, lo + max(hi - lo, 1e-3) * 1.0001, BINS + 1)


def grid_histograms(ctx: SectionContext, scores: Mapping[str, pd.DataFrame]) -> str:
    """Figure 2 analogue: all runs, nLayer <= 4, nLayer <= 3."""
    edges = _edges(scores)
    fig, axes = plt.subplots(1, 3, figsize=(9.6, 2.8))
    panels = [("all grid runs", None), ("nLayerG, nLayerD <= 4", 4), ("nLayerG, nLayerD <= 3", 3)]
    for ax, (title, cap) in zip(axes, panels):
        groups = {k: v if cap is None else _restrict_layers(v, cap) for k, v in scores.items()}
        _hist_panel(ax, groups, edges, title)
    fig.tight_layout(pad=0.4)
    return ctx.figure(fig, "grid_histograms", "I' over the grid, EBGAN vs GAN (Fig. 2 analogue)")


def optimiser_histograms(ctx: SectionContext, scores: Mapping[str, pd.DataFrame]) -> str:
    """Figure 3 analogue: one panel per (optimD, optimG, lr) of the GAN grid, EBGAN as reference."""
    gan, ebgan = scores.get("GAN"), scores.get("EBGAN")
    if gan is None or ebgan is None:
        return ""
    keys = gan["point"].map(lambda p: (p.get("hparams.optimizer_d", ""), p.get("hparams.optimizer_g", ""),
                                       p.get("hparams.lr", "")))
    subgrids = sorted(set(keys), key=str)
    edges = _edges(scores)
    ncol = min(4, len(subgrids))
    nrow = -(-len(subgrids) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(2.5 * ncol, 2.1 * nrow), squeeze=False)
    for ax, key in zip(axes.flat, subgrids):
        _hist_panel(ax, {"EBGAN": ebgan, "GAN": gan[keys == key]}, edges,
                    f"GAN optimD {key[0]}, optimG {key[1]}, lr {fmt(key[2])}")
    for ax in list(axes.flat)[len(subgrids):]:
        ax.set_axis_off()
    fig.tight_layout(pad=0.4)
    return ctx.figure(fig, "grid_by_optimiser", "I' by the GAN's optimisers and lr (Fig. 3 analogue)")


def grid_table(ctx: SectionContext, scores: Mapping[str, pd.DataFrame]) -> str:
    """Runs, failures, whether G learned and I' statistics per model and layer subset."""
    rows = []
    subsets = [("all", None), ("nLayer <= 4", 4), ("nLayer <= 3", 3)]
    for label, rows_all in scores.items():
        for name, cap in subsets:
            sub = rows_all if cap is None else _restrict_layers(rows_all, cap)
            if sub.empty:
                continue
            failed = _failed(sub)
            v = sub["value"].to_numpy(float)[~failed]
            rows.append([label, name, len(sub), int(failed.sum()),
                         ctx.learned(sub["experiment"].unique(), run_ids=sub["run_id"]),
                         fmt(np.median(v)) if v.size else "", fmt(v.mean()) if v.size else "",
                         fmt(np.quantile(v, 0.9)) if v.size else ""])
    return md_table(rows, ["model", "subset", "runs", "failed", "learned", "median I'", "mean I'",
                           "90th pct I'"])


def margin_figures(ctx: SectionContext, experiment: str) -> str:
    """Figure 9 analogue: one row of samples per margin (first seed), and I' against m."""
    runs = sorted(ctx.runs_of(experiment), key=lambda r: (float(r.grid_point.get("hparams.margin", 0)), r.seed))
    first: dict[float, np.ndarray] = {}
    for r in runs:
        m = float(r.grid_point.get("hparams.margin", r.hparams["margin"]))
        if m not in first:
            g = ctx.samples(r.id).get("G")
            if g is not None:
                first[m] = g[:MARGIN_SAMPLES]
    parts = []
    if first:
        fig, axes = plt.subplots(len(first), 1, figsize=(0.55 * MARGIN_SAMPLES, 0.62 * len(first)), squeeze=False)
        for ax, (m, imgs) in zip(axes.flat, first.items()):
            x = figures._as_uint8(imgs, MARGIN_SAMPLES)
            grid = figures.tile(x, len(x))
            ax.imshow(grid[..., 0], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
            ax.set_axis_off()
            ax.set_title(f"m = {fmt(m)}", fontsize=6, loc="left", pad=1)
        fig.tight_layout(pad=0.2)
        parts.append(ctx.figure(fig, "margin_samples", "samples per margin m (Fig. 9 analogue)"))
    rows = _metric_rows(ctx, [experiment], SCORE)
    if not rows.empty:
        rows["m"] = rows["point"].map(lambda p: float(p.get("hparams.margin", np.nan)))
        fig, ax = plt.subplots(figsize=(3.6, 2.4))
        ax.plot(rows["m"], rows["value"], "o", alpha=0.6, label="runs")
        means = rows.groupby("m")["value"].mean()
        ax.plot(means.index, means.to_numpy(), "-", lw=1, label="mean over seeds")
        failed = rows[_failed(rows)]
        if not failed.empty:
            ax.plot(failed["m"], np.zeros(len(failed)), "x", color="C3", label="failed")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("margin m", fontsize=7)
        ax.set_ylabel("I'", fontsize=7)
        ax.tick_params(labelsize=6)
        ax.legend(fontsize=6)
        fig.tight_layout(pad=0.3)
        parts.append(ctx.figure(fig, "margin_score", "I' against the margin m"))
        table = [[fmt(m), len(g), int(_failed(g).sum()), ctx.learned([experiment], run_ids=g["run_id"]),
                  stat_text(g["value"].mean(), g["value"].std())] for m, g in rows.groupby("m")]
        parts.append(md_table(table, ["m", "runs", "failed", "learned", "I' (mean ± std)"]))
    return "\n\n".join(parts)


def first_samples_figure(ctx: SectionContext, experiments: Sequence[str], name: str, caption: str) -> str:
    """The first run's G samples of each experiment, side by side (e.g. Figure 4's three panels)."""
    panels = []
    for exp in experiments:
        for run in ctx.runs_of(exp):
            g = ctx.samples(run.id).get("G")
            if g is not None:
                panels.append((f"{run.variant} ({run.name})", g))
                break
    if not panels:
        return ""
    return ctx.figure(figures.sample_grids(panels), name, caption)


def ssl_table(ctx: SectionContext) -> str:
    """Table 2 analogue: test error (%) per label count, ours (mean ± std over seeds) and published."""
    rows = []
    for variant, label in (("ln", "LN bottom-layer cost (ours)"), ("ebgan_ln", "EBGAN-LN (ours)")):
        exps = _experiments_of(ctx, variant)
        data = _metric_rows(ctx, exps, "run/test_error") if exps else pd.DataFrame()
        if data.empty:
            continue
        data["n_labels"] = data["point"].map(lambda p: p.get("hparams.n_labels"))
        cells = [label, ctx.learned(exps)]
        for k in LABEL_COUNTS:
            v = 100 * data.loc[data["n_labels"] == k, "value"].dropna().to_numpy(float)
            cells.append(stat_text(v.mean(), v.std(ddof=1) if v.size > 1 else None, n=v.size) if v.size else "")
        rows.append(cells)
    if not rows:
        return ""
    for label, values in PUBLISHED_T2.items():
        rows.append([label, ""] + [f"{values[k][0]} ± {values[k][1]}" for k in LABEL_COUNTS])
    return md_table(rows, ["model", "learned", *[f"{k} labels: error %" for k in LABEL_COUNTS]])


def theorem1_figure(ctx: SectionContext, experiment: str) -> str:
    """V / m over training (train_log's loss_d is V's minibatch estimate) for each seed."""
    runs = ctx.runs_of(experiment)
    fig, ax = plt.subplots(figsize=(3.6, 2.4))
    drawn = 0
    for r in runs:
        log = ctx.train_log(r.id)
        if log is None or "loss_d" not in log:
            continue
        ax.plot(log["step"], log["loss_d"] / float(r.hparams["margin"]), lw=1, label=f"seed {r.seed}")
        drawn += 1
    if not drawn:
        plt.close(fig)
        return ""
    ax.axhline(1.0, color="k", lw=0.8, ls="--", label="V = m (Theorem 1)")
    ax.set_xlabel("step", fontsize=7)
    ax.set_ylabel("V / m", fontsize=7)
    ax.tick_params(labelsize=6)
    ax.legend(fontsize=6)
    fig.tight_layout(pad=0.3)
    return ctx.figure(fig, "theorem1_v_over_m", "V / m during training on the 2D toy")


# --------------------------------------------------------------------------- section


def render(ctx: SectionContext) -> str:
    parts = [
        INTRO,
        "### Claims\n",
        ctx.claims_list(),
    ]
    exps = ctx.experiments()
    if not exps:
        parts.append(f"_No experiment of this paper runs at profile `{ctx.profile}`._\n")
        return "\n".join(parts)

    scores = _grid_scores(ctx)
    if scores:
        parts += ["### Grid search (Table 1, Figures 2-3)\n", grid_table(ctx, scores), grid_histograms(ctx, scores),
                  optimiser_histograms(ctx, scores)]

    for exp in _experiments_of(ctx, "margin"):
        parts += [f"### Margin sweep (Figure 9): `{exp}`\n", margin_figures(ctx, exp)]

    best = [e for v in ("best_gan", "best_ebgan", "best_ebgan_pt") for e in _experiments_of(ctx, v)]
    if best:
        parts += ["### Best configurations (Figure 4)\n",
                  ctx.metric_table(["G/is_mod", "G/is", "G/fid", "G/kid", "G/precision", "G/recall"], best)]
        parts.append(first_samples_figure(ctx, best, "best_configs_samples",
                                          "samples of the best GAN, EBGAN and EBGAN-PT configurations (Fig. 4)"))

    if _experiments_of(ctx, "ln") or _experiments_of(ctx, "ebgan_ln"):
        parts += ["### Semi-supervised permutation-invariant MNIST (Table 2)\n", ssl_table(ctx)]
        parts += [samples_figure(ctx, e, max_runs=1, caption=f"{e}: EBGAN-LN samples")
                  for e in _experiments_of(ctx, "ebgan_ln")]

    for exp in _experiments_of(ctx, "theorem1"):
        parts += [f"### Theorem 1 on a 2D toy: `{exp}`\n",
                  ctx.metric_table(["run/V_over_m", "run/V", "run/energy_real", "run/energy_fake",
                                    "G/modes", "G/hq_fraction"], [exp], with_ceiling=False),
                  theorem1_figure(ctx, exp), samples_figure(ctx, exp, caption=f"{exp}: samples")]

    by_dataset: dict[str, list[str]] = {}
    for variant in ("ebgan", "ebgan_pt", "dcgan"):
        for exp in _experiments_of(ctx, variant):
            by_dataset.setdefault(ctx.runs_of(exp)[0].dataset, []).append(exp)
    for dataset, group in by_dataset.items():
        parts += [f"### 64x64 {dataset}: EBGAN, EBGAN-PT, DCGAN (appendix C)\n",
                  ctx.metric_table(ctx.scored_metrics(group[0]), group),
                  first_samples_figure(ctx, group, f"{dataset}_64_samples", f"{dataset}: samples"),
                  *[curves_figure(ctx, exp) for exp in group]]
    return "\n\n".join(p for p in parts if p)
