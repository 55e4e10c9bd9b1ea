"""Building blocks shared by the paper sections (all drawn from pipeline outputs).

- :func:`samples_figure`  first runs' sample sets of an experiment: image grids, or 2D
  scatters over the real mixture with its mode centres
- :func:`curves_figure`   training curves (train_log.csv) of an experiment's runs
- :func:`bars_figure`     a metric's mean and bootstrap CI per experiment, with the
  real-data ceiling
- :func:`hparams_table`   an experiment's hyperparameters with each value's source
- :func:`generic`         claims, metric table, samples and curves of every experiment
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline import hparams as hparams_lib
from pipeline.registry import hparams_class
from pipeline.report import figures
from pipeline.report.context import SectionContext, fmt, md_table

REAL_POINTS_SEED = 0  # [ours] seed of the real mixture points drawn as the scatter background


def _real_mixture_points(ctx: SectionContext, dataset: str, n: int = 1000) -> np.ndarray | None:
    mix = ctx.mixture(dataset)
    if mix is None:
        return None
    centres, std = mix
    rng = np.random.default_rng(REAL_POINTS_SEED)
    k = rng.integers(0, len(centres), size=n)
    return centres[k] + std * rng.standard_normal((n, 2))


def samples_figure(ctx: SectionContext, experiment: str, sets: Sequence[str] | None = None,
                   max_runs: int = 3, caption: str = "") -> str:
    """Sample grids (images) or scatters (2D) of the first ``max_runs`` runs that have
    samples; with several sample sets (e.g. G, pixel, latent) the first run's sets side by side."""
    loaded = []
    for run in ctx.runs_of(experiment):
        arrays = {k: v for k, v in ctx.samples(run.id).items() if not k.startswith("aux/")}
        if arrays:
            loaded.append((run, arrays))
        if len(loaded) >= max_runs:
            break
    if not loaded:
        return ""
    runs = [r for r, _ in loaded]
    first = loaded[0][1]
    names = list(sets) if sets is not None else list(first)
    if len(names) > 1:
        panels = [(f"{runs[0].name}: {k}", first[k]) for k in names if k in first]
    else:
        panels = [(f"{r.name}: {names[0]}", a[names[0]]) for r, a in loaded if names[0] in a]
    if not panels:
        return ""
    dataset = runs[0].dataset
    if panels[0][1].ndim == 2:
        mix = ctx.mixture(dataset)
        fig = figures.scatters_2d(panels, mix[0] if mix else None, _real_mixture_points(ctx, dataset))
    else:
        fig = figures.sample_grids(panels)
    return ctx.figure(fig, f"{experiment}_samples", caption or f"{experiment}: samples")


def curves_figure(ctx: SectionContext, experiment: str, max_runs: int = 6, columns: Sequence[str] | None = None,
                  caption: str = "") -> str:
    logs = {}
    for r in ctx.runs_of(experiment):
        log = ctx.train_log(r.id)
        if log is not None:
            logs[r.name] = log
        if len(logs) >= max_runs:
            break
    if not logs:
        return ""
    fig = figures.training_curves(logs, columns=columns)
    return ctx.figure(fig, f"{experiment}_curves", caption or f"{experiment}: training curves")


def bars_figure(ctx: SectionContext, metric: str, experiments: Sequence[str], name: str,
                caption: str = "", label: str = "experiment") -> str:
    """Bars of ``metric`` over ``experiments`` (CI over seeds) with the first dataset's ceiling."""
    sub = ctx.summary[(ctx.summary["metric"] == metric) & ctx.summary["experiment"].isin(experiments)]
    sub = sub[np.isfinite(sub["mean"].to_numpy(float))]
    if sub.empty:
        return ""
    ceiling = ctx.ceiling(sub.iloc[0]["dataset"], metric)
    fig = figures.metric_bars(sub, label=label, title=metric, ylabel=metric,
                              ceiling=None if ceiling is None else float(ceiling["mean"]))
    return ctx.figure(fig, name, caption or metric)


def _value_text(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    return fmt(value)


def hparams_table(ctx: SectionContext, experiment: str) -> str:
    """Hyperparameters of ``experiment`` with the source of each value (paper / code / ours /
    profile, and grid for swept keys), read from the first run's train.json (from the plan
    when no run folder exists yet)."""
    runs = ctx.runs_of(experiment)
    if not runs:
        return ""
    rows = None
    for r in runs:
        info = ctx.train_json(r.id)
        if info and info.get("hparams"):
            rows = info["hparams"]
            break
    if rows is None:
        hp = hparams_lib.build(hparams_class(runs[0].model), runs[0].hparams, f"experiments.{experiment}.hparams")
        exp_hparams = (ctx.plan.params["experiments"][experiment].get("hparams") or {})
        rows = hparams_lib.provenance_table(hp, exp_hparams)
    grid = (ctx.plan.params["experiments"][experiment].get("grid") or {}).get("space", {})
    swept = {k.split(".", 1)[1]: v for k, v in grid.items() if k.startswith("hparams.")}
    table = []
    for row in rows:
        name = row["name"]
        if name in swept:
            table.append([name, _value_text(swept[name]), "grid", _value_text(row["default"]),
                          row.get("default_source", ""), row.get("note", "")])
        else:
            table.append([name, _value_text(row["value"]), row["source"], _value_text(row["default"]),
                          row.get("default_source", ""), row.get("note", "")])
    r0 = runs[0]
    seeds = sorted({r.seed for r in runs})
    budget = (f"`{experiment}` ({r0.model}, variant {r0.variant}, dataset {r0.dataset}): "
              f"{r0.train['steps']} steps × batch {r0.train['batch_size']}, seeds {seeds}, "
              f"{len(runs)} runs, {r0.sample.get('n', '')} samples per set")
    return budget + "\n\n" + md_table(table, ["hyperparameter", "value", "source", "default", "default source",
                                             "note"])


def generic(ctx: SectionContext, intro: str = "") -> str:
    """Claims, then per experiment: metric table, samples, training curves."""
    parts = [intro] if intro else []
    parts += ["### Claims\n", ctx.claims_list()]
    exps = ctx.experiments()
    if not exps:
        parts.append(f"_No experiment of this paper runs at profile `{ctx.profile}`._\n")
        return "\n".join(parts)
    for exp in exps:
        parts.append(f"### Experiment `{exp}`\n")
        metrics = ctx.scored_metrics(exp)
        if metrics:
            parts.append(ctx.metric_table(metrics, [exp]))
        for link in (samples_figure(ctx, exp), curves_figure(ctx, exp)):
            if link:
                parts.append(link + "\n")
    return "\n".join(parts)
