"""DCD (Song, Ye, Xu & Liu 2020) report section.

1. Claims with their verdicts.
2. Table 1: the published CIFAR-10 / STL-10 IS and FID beside ours (paper profile).
3. Before / after refinement, per experiment: one row per sample set (G = the base
   generator, pixel / latent = Langevin on the base critic, finetuned = Langevin on the
   critic after contrastive fine-tuning), metrics as mean ± std [bootstrap CI] over
   seeds, and the real held-out data scored the same way.
4. Langevin trajectories: 2D samples moving over the critic's energy E = -D (contours),
   or image snapshots along the steps, from the first run's ``aux/*`` arrays.
5. Cost: extra critic / generator gradient evaluations per refined sample and the
   measured sampling-time ratio refined / plain G.
6. Sample sets side by side and training curves.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.report import figures
from pipeline.report.context import SectionContext, fmt, md_table
from pipeline.report.sections.common import curves_figure, samples_figure

SETS = ("G", "pixel", "latent", "finetuned")
SET_LABELS = {
    "G": "G (base generator)",
    "pixel": "pixel Langevin (base critic)",
    "latent": "latent Langevin (base critic)",
    "finetuned": "Langevin on the fine-tuned critic",
}
METRIC_ORDER = ("modes", "hq_fraction", "kl_uniform", "swd", "is", "is_mod", "fid", "kid", "precision", "recall")
PUBLISHED = {  # Table 1 [paper]: (IS, FID); SNGAN baseline from the SNGAN paper
    "cifar10": {"G": (8.22, 21.7), "pixel": (8.54, 21.67), "latent": (9.11, 16.24)},
    "stl10": {"G": (None, None), "pixel": (9.25, 22.25), "latent": (9.33, 17.68)},
}
PUBLISHED_LABELS = {"G": "SNGAN", "pixel": "SNGAN-DCD (pixel)", "latent": "SNGAN-DCD (latent)"}
COST_METRICS = (
    ("run/extra_critic_grads_pixel", "critic grads / sample, pixel"),
    ("run/extra_critic_grads_latent", "critic grads / sample, latent"),
    ("run/extra_generator_grads_latent", "generator grads / sample, latent"),
    ("run/time_ratio_pixel", "time ratio pixel / G"),
    ("run/time_ratio_latent", "time ratio latent / G"),
    ("run/critic_gain_pixel", "critic gain, pixel"),
    ("run/critic_gain_latent", "critic gain, latent"),
    ("run/critic_gain_finetuned", "critic gain, finetuned"),
)
SNAPSHOTS = 6  # [ours] image trajectory columns (evenly spaced steps)


def _summary_row(ctx: SectionContext, experiment: str, metric: str):
    hit = ctx.summary[(ctx.summary["experiment"] == experiment) & (ctx.summary["metric"] == metric)]
    return None if hit.empty else hit.iloc[0]


def _metric_names(ctx: SectionContext, experiment: str) -> list[str]:
    have = set(ctx.summary[ctx.summary["experiment"] == experiment]["metric"])
    return [m for m in METRIC_ORDER if any(f"{s}/{m}" in have for s in SETS)]


def before_after_table(ctx: SectionContext, experiment: str) -> str:
    """Rows: the sample sets of ``experiment`` (each with whether it learned) and the real-data
    ceiling; columns: metrics."""
    names = _metric_names(ctx, experiment)
    if not names:
        return ""
    rows = []
    for s in SETS:
        cells = [_summary_row(ctx, experiment, f"{s}/{m}") for m in names]
        if any(c is not None for c in cells):
            rows.append([SET_LABELS[s], ctx.learned([experiment], s),
                         *(ctx.stat(c) if c is not None else "" for c in cells)])
    dataset = ctx.runs_of(experiment)[0].dataset
    ceilings = [ctx.ceiling(dataset, f"G/{m}") for m in names]
    if any(c is not None for c in ceilings):
        rows.append(["real data (held-out)", "", *(fmt(c["mean"]) if c is not None else "" for c in ceilings)])
    return md_table(rows, ["sample set", "learned", *names])


def published_table(ctx: SectionContext) -> str:
    """Table 1's IS / FID beside ours (mean ± std over seeds) for CIFAR-10 and STL-10."""
    rows = []
    for kind, values in PUBLISHED.items():
        exps = list(dict.fromkeys(ctx.summary[ctx.summary["dataset_kind"] == kind]["experiment"]))
        for s, (p_is, p_fid) in values.items():
            ours = []
            for m in ("is", "fid"):
                row = _summary_row(ctx, exps[0], f"{s}/{m}") if exps else None
                ours.append(ctx.stat(row) if row is not None else f"not run at `{ctx.profile}`")
            learned = ctx.learned(exps[:1], s) if exps else ""
            rows.append([kind, PUBLISHED_LABELS[s], learned, fmt(p_is) or "—", ours[0], fmt(p_fid) or "—",
                         ours[1]])
    return md_table(rows, ["dataset", "model", "learned (ours)", "IS (published)", "IS (ours)",
                           "FID (published)", "FID (ours)"])


def cost_table(ctx: SectionContext, experiments: Sequence[str]) -> str:
    metrics = [(m, label) for m, label in COST_METRICS
               if any(_summary_row(ctx, e, m) is not None for e in experiments)]
    rows = []
    for exp in experiments:
        cells = [_summary_row(ctx, exp, m) for m, _ in metrics]
        if any(c is not None for c in cells):
            rows.append([exp, ctx.learned([exp]),
                         *(fmt(c["mean"], 3) + (f" ± {fmt(c['std'], 2)}" if c["n"] > 1 else "")
                           if c is not None else "" for c in cells)])
    return md_table(rows, ["experiment", "learned", *(label for _, label in metrics)]) if rows else ""


# --------------------------------------------------------------------------- trajectories


def _first_with(ctx: SectionContext, experiment: str, key: str) -> tuple[str, dict[str, np.ndarray]] | None:
    for run in ctx.runs_of(experiment):
        arrays = ctx.samples(run.id)
        if key in arrays:
            return run.name, arrays
    return None


def _energy_panel(ax, axis: np.ndarray, energy: np.ndarray, traj: np.ndarray, centres: np.ndarray | None,
                  title: str) -> None:
    ax.contourf(axis, axis, energy, levels=30, cmap="viridis")
    ax.contour(axis, axis, energy, levels=15, colors="white", linewidths=0.3, alpha=0.6)
    for i in range(traj.shape[1]):
        ax.plot(traj[:, i, 0], traj[:, i, 1], color="red", linewidth=0.6, alpha=0.8)
    ax.scatter(traj[0, :, 0], traj[0, :, 1], s=8, facecolors="none", edgecolors="white", linewidths=0.6)
    ax.scatter(traj[-1, :, 0], traj[-1, :, 1], s=8, color="red")
    if centres is not None:
        ax.scatter(centres[:, 0], centres[:, 1], marker="x", s=18, color="black", linewidths=0.8)
    ax.set_xlim(axis[0], axis[-1])
    ax.set_ylim(axis[0], axis[-1])
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=8)


def trajectory_figure_2d(ctx: SectionContext, experiment: str) -> str:
    found = _first_with(ctx, experiment, "aux/energy_base")
    if found is None:
        return ""
    name, a = found
    import matplotlib.pyplot as plt

    panels = [("energy_base", "traj_pixel", "pixel Langevin, base critic"),
              ("energy_base", "traj_latent", "latent Langevin, base critic")]
    if "aux/energy_finetuned" in a and "aux/traj_finetuned" in a:
        panels.append(("energy_finetuned", "traj_finetuned", "Langevin, fine-tuned critic"))
    mix = ctx.mixture(ctx.runs_of(experiment)[0].dataset)
    fig, axes = plt.subplots(1, len(panels), figsize=(3.3 * len(panels), 3.5), squeeze=False)
    for ax, (energy, traj, title) in zip(axes[0], panels):
        _energy_panel(ax, a["aux/grid_axis"], a[f"aux/{energy}"], a[f"aux/{traj}"],
                      mix[0] if mix else None, f"{name}: {title}")
    fig.tight_layout()
    return ctx.figure(fig, f"{experiment}_trajectories",
                      f"{experiment}: Langevin trajectories (red; hollow = start at G(z), filled = end) "
                      "over the critic's energy E = -D (dark = low energy); x = mode centres")


def trajectory_figure_images(ctx: SectionContext, experiment: str) -> str:
    found = _first_with(ctx, experiment, "aux/traj_pixel")
    if found is None or found[1]["aux/traj_pixel"].ndim != 5:
        return ""
    name, a = found
    keys = [k for k in ("traj_pixel", "traj_latent", "traj_finetuned") if f"aux/{k}" in a]
    panels = []
    for k in keys:
        traj = a[f"aux/{k}"]  # (steps + 1, M, C, H, W) in [0, 1]
        steps = np.unique(np.linspace(0, len(traj) - 1, SNAPSHOTS).round().astype(int))
        grid = traj[steps].transpose(1, 0, 2, 3, 4).reshape(-1, *traj.shape[2:])  # sample-major rows
        images = (np.clip(grid, 0, 1) * 255).round().astype(np.uint8)
        panels.append((f"{name}: {k[5:]} (steps {', '.join(map(str, steps))})", images))
    fig = figures.sample_grids(panels, n=max(len(p[1]) for p in panels), nrow=SNAPSHOTS)
    return ctx.figure(fig, f"{experiment}_trajectories",
                      f"{experiment}: each row one sample along its Langevin steps (left: G(z))")


# --------------------------------------------------------------------------- section


def render(ctx: SectionContext) -> str:
    parts = ["### Claims\n", ctx.claims_list()]
    parts += ["### Table 1: published CIFAR-10 / STL-10 numbers beside ours\n",
              ("Published values are the paper's (SNGAN baseline from the SNGAN paper; no STL-10 "
               "baseline listed). Ours are mean ± std [bootstrap CI] over seeds with Inception "
               "features, 50k samples, at the paper profile only.\n"),
              published_table(ctx)]
    exps = ctx.experiments()
    if not exps:
        return "\n".join(parts + [f"_No experiment of this paper runs at profile `{ctx.profile}`._\n"])
    parts += ["### Before and after refinement\n",
              ("All sets of a run come from the same latent codes z. Mode metrics: a sample is high "
               "quality within 3σ of its nearest mode (true-mixture samples: ≈ 98.9%); swd is the "
               "sliced Wasserstein distance to held-out points; image scores use our domain classifier "
               "(MNIST-like data) or Inception (CIFAR-10 / STL-10), so MNIST numbers compare sets "
               "with each other and with the real-data row, not with published numbers.\n")]
    for exp in exps:
        table = before_after_table(ctx, exp)
        if table:
            parts += [f"**`{exp}`**\n", table]
    parts.append("### Langevin trajectories\n")
    for exp in exps:
        link = trajectory_figure_2d(ctx, exp) or trajectory_figure_images(ctx, exp)
        if link:
            parts.append(link + "\n")
    cost = cost_table(ctx, exps)
    if cost:
        parts += ["### Cost of refinement\n",
                  ("Gradient evaluations (one forward and one backward pass) added per refined sample, "
                   "and the measured wall-time ratio of refined to plain generator sampling (minimum of 3 "
                   "timings on the training device; on a shared CPU these ratios are noisy). Critic gain: "
                   "mean D(refined) − mean D(G(z)) on the critic used for the refinement.\n"),
                  cost]
    parts.append("### Samples and training curves\n")
    for exp in exps:
        for link in (samples_figure(ctx, exp, sets=SETS, caption=f"{exp}: sample sets of the first run"),
                     curves_figure(ctx, exp)):
            if link:
                parts.append(link + "\n")
    return "\n".join(parts)
