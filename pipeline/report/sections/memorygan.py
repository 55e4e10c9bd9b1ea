"""MemoryGAN (Kim, Kim & Kim, ICLR 2018) report section.

1. Table 2, the ablation: per dataset the Inception Score of MemoryGAN, -EM,
   -MCGN and -Memory, published beside ours (mean ± std [bootstrap CI]), the
   claim's verdict, the real-data ceiling and the other image metrics; bars of
   G/is per variant.
2. Training-time overhead (Sec. 4.5): ``run/time_overhead_ratio``, the time of a
   training step of the trained MemoryGAN over that of its -Memory DCGAN,
   measured in the same process after training (``time_step_s``,
   ``time_step_s_dcgan``), beside the paper's 135 s / 124 s per CIFAR-10 epoch.
3. The memory: the slot prior over training (Fig. 3c, ``aux/prior_snapshots``)
   with the effective number of real slots (``run/real_prior_perplexity``),
   samples of the most used real slots (Fig. 3b, ``aux/slot_samples``), and
   the learned-cluster picture (Fig. 1 / App. B.2, ``aux/interp``): a bilinear
   z grid within fixed slots for MemoryGAN, over z alone for the -Memory DCGAN.
4. Sample grids and training curves of every experiment.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.figure import Figure

from pipeline.report import figures
from pipeline.report.context import SectionContext, fmt, md_table, stat_text
from pipeline.report.sections.common import bars_figure, curves_figure, samples_figure

VARIANTS = ("full", "no_em", "no_mcgn", "no_memory")
LABELS = {"full": "MemoryGAN", "no_em": "(-EM)", "no_mcgn": "(-MCGN)", "no_memory": "(-Memory)"}
DATASETS = {"affine_mnist": "affine-MNIST", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10"}
ABLATION_CLAIM = {"affine_mnist": "memorygan-t2-ablation-affine-mnist",
                  "fashion_mnist": "memorygan-t2-ablation-fashion-mnist", "cifar10": "memorygan-t2-ablation-cifar10"}
OVERHEAD_CLAIM = "memorygan-overhead"
IMAGE_METRICS = ("G/is", "G/is_mod", "G/fid", "G/kid", "G/precision", "G/recall")
MEMORY_METRICS = ("run/real_prior_perplexity", "run/real_slot_fraction")
TIMING_METRICS = ("run/time_overhead_ratio", "run/time_step_s", "run/time_step_s_dcgan")
PUBLISHED_EPOCH_S = (135.0, 124.0)  # [paper] Sec. 4.5: MemoryGAN vs DCGAN, seconds per CIFAR-10 epoch


# --------------------------------------------------------------------------- figures


def prior_figure(panels: Sequence[tuple[str, np.ndarray, np.ndarray]]) -> Figure:
    """Fig. 3(c): one panel per (title, steps (S,), priors (S, N)); each snapshot's prior
    sorted in decreasing order against the slot rank, coloured by training step."""
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 2.8), squeeze=False)
    for ax, (title, steps, priors) in zip(axes.flat, panels):
        colours = plt.cm.viridis(np.linspace(0, 1, len(steps)))
        for colour, step, p in zip(colours, steps, priors):
            ax.plot(np.arange(1, len(p) + 1), np.sort(p)[::-1], color=colour, lw=1, label=f"step {int(step)}")
        ax.set_yscale("log")
        ax.set_xlabel("slot rank", fontsize=7)
        ax.set_ylabel("prior p(i)", fontsize=7)
        ax.set_title(title, fontsize=7)
        ax.tick_params(labelsize=6)
        handles, labels = ax.get_legend_handles_labels()
        keep = sorted({0, len(handles) // 2, len(handles) - 1})
        ax.legend([handles[i] for i in keep], [labels[i] for i in keep], fontsize=6)
    fig.tight_layout(pad=0.3)
    return fig


def image_rows_figure(panels: Sequence[tuple[str, np.ndarray, Sequence[str]]]) -> Figure:
    """One panel per (title, images (R, M, C, H, W) uint8, row labels): a row of M images
    per slot (samples per slot, or a z row of the interpolation grid)."""
    fig, axes = plt.subplots(1, len(panels), figsize=(3.0 * len(panels), 3.2), squeeze=False)
    for ax, (title, rows, row_labels) in zip(axes.flat, panels):
        r, m = rows.shape[:2]
        grid = figures.tile(rows.reshape(r * m, *rows.shape[2:]), m)
        ax.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=255,
                  interpolation="nearest")
        h = rows.shape[-2] + 1
        ax.set_yticks([1 + h * i + h / 2 for i in range(r)] if row_labels else [])
        ax.set_yticklabels(row_labels, fontsize=6)
        ax.set_xticks([])
        ax.set_title(title, fontsize=7)
    fig.tight_layout(pad=0.3)
    return fig


def interp_figure(panels: Sequence[tuple[str, np.ndarray]]) -> Figure:
    """Fig. 1: one panel per (title, grid (G, G, C, H, W) uint8) of images along a bilinear
    interpolation between four codes z at the corners."""
    fig, axes = plt.subplots(1, len(panels), figsize=(2.6 * len(panels), 2.8), squeeze=False)
    for ax, (title, grid) in zip(axes.flat, panels):
        g = grid.shape[0]
        image = figures.tile(grid.reshape(g * g, *grid.shape[2:]), g)
        ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray", vmin=0, vmax=255,
                  interpolation="nearest")
        ax.set_axis_off()
        ax.set_title(title, fontsize=7)
    fig.tight_layout(pad=0.2)
    return fig


def overhead_figure(values: dict[str, Sequence[float]], published: float) -> Figure:
    """Per-run overhead ratios per experiment (points) with the published ratio and the
    claimed 1.10 bound (dashed)."""
    fig, ax = plt.subplots(figsize=(3.8, 2.4))
    palette = sns.color_palette("deep", len(values))
    for i, (colour, (label, vals)) in enumerate(zip(palette, values.items())):
        ax.scatter(np.full(len(vals), i), vals, color=colour, s=14)
    ax.axhline(published, ls=":", c="0.2", lw=1, label=f"paper {published:.3f}")
    ax.axhline(1.10, ls="--", c="0.5", lw=1, label="claimed bound 1.10")
    ax.set_xticks(range(len(values)))
    ax.set_xticklabels(list(values), fontsize=6)
    ax.set_ylabel("time per step / DCGAN's", fontsize=7)
    ax.tick_params(labelsize=6)
    ax.legend(fontsize=6)
    fig.tight_layout(pad=0.3)
    return fig


# --------------------------------------------------------------------------- helpers


def _by_kind(ctx: SectionContext) -> dict[str, dict[str, list[str]]]:
    """dataset kind -> variant -> experiments, in params order."""
    out: dict[str, dict[str, list[str]]] = {}
    for exp in ctx.experiments():
        run = ctx.runs_of(exp)[0]
        kind = ctx.plan.datasets[run.dataset].kind
        out.setdefault(kind, {}).setdefault(run.variant, []).append(exp)
    return out


def _summary_row(ctx: SectionContext, experiments: Sequence[str], metric: str):
    rows = ctx.summary[ctx.summary["experiment"].isin(experiments) & (ctx.summary["metric"] == metric)]
    return None if rows.empty else rows.iloc[0]


def _claim(ctx: SectionContext, claim_id: str):
    return next((r for r in ctx.claims if r.claim.id == claim_id), None)


def _first(ctx: SectionContext, experiments: Sequence[str], key: str) -> tuple[str, dict[str, np.ndarray]] | None:
    for exp in experiments:
        for run in ctx.runs_of(exp):
            arrays = ctx.samples(run.id)
            if key in arrays:
                return run.name, arrays
    return None


def _present(ctx: SectionContext, metrics: Sequence[str], experiments: Sequence[str]) -> list[str]:
    have = set(ctx.summary[ctx.summary["experiment"].isin(experiments)]["metric"])
    return [m for m in metrics if m in have]


# --------------------------------------------------------------------------- parts


def _ablation(ctx: SectionContext, kind: str, variants: dict[str, list[str]]) -> list[str]:
    name = DATASETS.get(kind, kind)
    exps = [e for v in VARIANTS for e in variants.get(v, [])]
    parts = [f"### Table 2 on {name}: the ablation\n",
             ("Inception Score of G's samples per variant (published ± the paper's error; ours: mean ± std "
              "[bootstrap CI] over seeds). All variants share nets, budget and seeds; the paper's "
              "affine-MNIST / Fashion-MNIST classifiers are unknown, so ours replaces them and only the "
              "ordering is comparable there.\n")]
    result = _claim(ctx, ABLATION_CLAIM.get(kind, ""))
    published = {g.label: g for g in result.groups} if result else {}
    rows = []
    for v in VARIANTS:
        row = _summary_row(ctx, variants.get(v, []), "G/is")
        pub = published.get({"full": "full", "no_em": "-EM", "no_mcgn": "-MCGN", "no_memory": "-Memory"}[v])
        pub_text = stat_text(pub.published, pub.published_err) if pub and pub.published is not None else ""
        ours = ctx.stat(row, with_n=True) if row is not None else "not run"
        learned = ctx.learned(variants[v]) if v in variants else ""
        rows.append([LABELS[v], ", ".join(variants.get(v, [])), learned, pub_text, ours])
    dataset = ctx.runs_of(exps[0])[0].dataset if exps else ""
    ceiling = ctx.ceiling(dataset, "G/is") if dataset else None
    if ceiling is not None:
        rows.append(["real held-out data", "", "", "", stat_text(ceiling["mean"], ceiling["std"])])
    parts.append(md_table(rows, ["variant", "experiment", "learned", "published IS", "ours G/is"]))
    if result is not None:
        parts.append(f"Claimed order full > -EM > -MCGN > -Memory: **{result.verdict}** ({result.reason}).\n")
    link = bars_figure(ctx, "G/is", exps, f"ablation_{kind}_is", f"G/is per variant, {name}", label="variant")
    if link:
        parts.append(link + "\n")
    metrics = _present(ctx, IMAGE_METRICS, exps)
    if metrics:
        parts.append("All image metrics of the variants (our classifier / Inception features):\n")
        parts.append(ctx.metric_table(metrics, exps))
    return parts


def _overhead(ctx: SectionContext) -> list[str]:
    exps = [e for e in ctx.experiments() if _summary_row(ctx, [e], TIMING_METRICS[0]) is not None]
    if not exps:
        return []
    ratio = PUBLISHED_EPOCH_S[0] / PUBLISHED_EPOCH_S[1]
    parts = ["### Training-time overhead (Sec. 4.5)\n",
             (f"The paper: {fmt(PUBLISHED_EPOCH_S[0])} s vs {fmt(PUBLISHED_EPOCH_S[1])} s per CIFAR-10 epoch "
              f"(ratio {ratio:.3f}) on a GPU. Ours: after training, the trained MemoryGAN and a -Memory "
              "DCGAN built from the same hyperparameters take turns on the same batches in the same process; "
              "the ratio of their median step times is `run/time_overhead_ratio` (a machine-dependent timing, "
              "kept out of runs.csv). Steps per epoch are equal, so it is the paper's per-epoch ratio.\n")]
    rows = []
    values: dict[str, list[float]] = {}
    for exp in exps:
        cells = [exp, ctx.runs_of(exp)[0].dataset, ctx.learned([exp])]
        for m in TIMING_METRICS:
            row = _summary_row(ctx, [exp], m)
            cells.append(ctx.stat(row, with_n=m == TIMING_METRICS[0]) if row is not None else "")
        rows.append(cells)
        vals = ctx.runs[(ctx.runs["experiment"] == exp) & (ctx.runs["metric"] == TIMING_METRICS[0])]["value"]
        values[exp] = [float(v) for v in vals.dropna()]
    parts.append(md_table(rows, ["experiment", "dataset", "learned", "time ratio", "s/step MemoryGAN",
                                 "s/step DCGAN"]))
    result = _claim(ctx, OVERHEAD_CLAIM)
    if result is not None:
        parts.append(f"Claim \"less than 10% slower\": **{result.verdict}** ({result.reason}).\n")
    if any(values.values()):
        parts.append(ctx.figure(overhead_figure(values, ratio), "overhead", "training-time ratio per run") + "\n")
    return parts


def _memory(ctx: SectionContext, kind: str, variants: dict[str, list[str]]) -> list[str]:
    name = DATASETS.get(kind, kind)
    memory_exps = [e for v in ("full", "no_em", "no_mcgn") for e in variants.get(v, [])]
    parts = [f"### The memory on {name} (Fig. 1, Fig. 3)\n"]
    panels = []
    for v in ("full", "no_em", "no_mcgn"):
        found = _first(ctx, variants.get(v, []), "aux/prior_snapshots")
        if found is not None:
            run, arrays = found
            panels.append((f"{LABELS[v]} ({run})", arrays["aux/prior_steps"], arrays["aux/prior_snapshots"]))
    if panels:
        parts.append("Slot prior p(i) ∝ h_i + β during training, sorted per snapshot (Fig. 3c: the prior "
                     "spreads over the slots as training proceeds). `run/real_prior_perplexity` is "
                     "exp(entropy) of the MCGN's slot distribution h·v at the end: the effective number of "
                     "real slots G draws from.\n")
        parts.append(ctx.figure(prior_figure(panels), f"prior_{kind}", f"slot prior over training, {name}") + "\n")
    metrics = _present(ctx, MEMORY_METRICS, memory_exps)
    if metrics:
        parts.append(ctx.metric_table(metrics, memory_exps, with_ceiling=False))
    found = _first(ctx, variants.get("full", []) + variants.get("no_em", []), "aux/slot_samples")
    if found is not None:
        run, arrays = found
        labels = [f"slot {int(i)}: p={p:.2g}" for i, p in zip(arrays["aux/slot_ids"], arrays["aux/slot_prior"])]
        parts.append("Samples of the real slots with the largest histogram, one row per slot, z random "
                     "(Fig. 3b):\n")
        parts.append(ctx.figure(image_rows_figure([(f"MemoryGAN ({run})", arrays["aux/slot_samples"], labels)]),
                                f"slot_samples_{kind}", f"samples per slot, {name}") + "\n")
    grids = []
    for v in ("full", "no_memory"):
        found = _first(ctx, variants.get(v, []), "aux/interp")
        if found is None:
            continue
        run, arrays = found
        for i, grid in enumerate(arrays["aux/interp"]):
            title = f"{LABELS[v]} ({run}): slot {i + 1}" if v == "full" else f"{LABELS[v]} ({run}): z only"
            grids.append((title, grid))
    if grids:
        parts.append("Images along a bilinear interpolation between four random codes z at the corners "
                     "(Fig. 1 / App. B.2): MemoryGAN with its memory slot fixed, per slot, and the -Memory "
                     "DCGAN over z alone. The paper's claim: within a slot only style changes, while the "
                     "DCGAN passes through unrealistic images between classes.\n")
        parts.append(ctx.figure(interp_figure(grids), f"interp_{kind}", f"latent interpolation, {name}") + "\n")
    return parts


def render(ctx: SectionContext) -> str:
    parts = ["### Claims\n", ctx.claims_list()]
    if not ctx.experiments():
        return "\n".join(parts + [f"_No MemoryGAN experiment runs at profile `{ctx.profile}`._\n"])
    by_kind = _by_kind(ctx)
    for kind, variants in by_kind.items():
        parts += _ablation(ctx, kind, variants)
    parts += _overhead(ctx)
    for kind, variants in by_kind.items():
        parts += _memory(ctx, kind, variants)
    parts.append("### Samples and training curves\n")
    for exp in ctx.experiments():
        for link in (samples_figure(ctx, exp), curves_figure(ctx, exp)):
            if link:
                parts.append(link + "\n")
    return "\n".join(parts)
