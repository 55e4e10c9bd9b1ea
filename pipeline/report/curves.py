"""Learning curves in the report: IS and FID measured during training (each run's
eval_log.csv and the ``curve`` record of its train.json, :mod:`pipeline.train_monitor`).

- :func:`curve_section`: per experiment with curves, a figure (IS and FID against the
  training step, one line per run, the quality floor and the real data's IS) with a
  caption naming experiment, dataset and seeds, and a table of when each run first
  reached the floor (step and seconds of training) and what the evaluations cost.
- :func:`write_curve_csvs`: reports/plots/curves/<experiment>/{is,fid}.csv (``step``,
  mean over the experiment's runs) for ``dvc plots`` (x: step).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.config import Plan, Run
from pipeline.io import atomic_write_text
from pipeline.metrics.registry import extractor_name
from pipeline.report import figures
from pipeline.report.context import SectionContext, fmt, md_table

EVAL_LOG = "eval_log.csv"
CURVE_COLUMNS = ("is", "fid")


def read_eval_log(folder: Path | None) -> pd.DataFrame | None:
    """A run's eval_log.csv (None when the run has none or it is empty)."""
    path = folder / EVAL_LOG if folder is not None else None
    if path is None or not path.is_file() or path.stat().st_size == 0:
        return None
    return pd.read_csv(path)


def _curves(
    ctx: SectionContext, experiment: str
) -> Iterator[tuple[Run, pd.DataFrame, dict[str, Any]]]:
    for run in ctx.runs_of(experiment):
        log = read_eval_log(ctx.run_dir(run.id))
        if log is not None:
            yield run, log, (ctx.train_json(run.id) or {}).get("curve") or {}


def _seeds_text(runs: list[Run]) -> str:
    """``seeds 0, 1, 2`` or ``12 grid configurations x seed 0``."""
    seeds = sorted({r.seed for r in runs})
    text = ("seed " if len(seeds) == 1 else "seeds ") + ", ".join(map(str, seeds))
    configs = len({r.config_index for r in runs})
    return f"{configs} grid configurations × {text}" if configs > 1 else text


def _experiment_curves(ctx: SectionContext, experiment: str) -> tuple[str, list[Any]] | None:
    """The figure link and caption of one experiment, and its table row."""
    found = list(_curves(ctx, experiment))
    if not found:
        return None
    runs = [r for r, _, _ in found]
    info = next((c for _, _, c in found if c), {})
    dataset = runs[0].dataset
    extractor = extractor_name(ctx.plan.datasets[dataset].kind)
    fig = figures.learning_curves(
        {r.name: log for r, log, _ in found},
        info.get("floor_is"),
        info.get("real_is"),
        title=f"{experiment} ({dataset})",
    )
    floor = (
        f"; dashed: the quality floor ({fmt(info.get('floor_fraction'), 3)} × the real "
        f"held-out IS = {fmt(info.get('floor_is'), 3)}), dotted: the real held-out IS"
        if info
        else ""
    )
    caption = (
        f"{experiment} on {dataset}, {_seeds_text(runs)}: IS and FID ({extractor}) of "
        f"{info.get('eval_n', '?')} samples of G from a fixed latent draw, every "
        f"{info.get('eval_every', '?')} training steps{floor}."
    )
    link = ctx.figure(fig, f"{experiment}_learning", caption)
    reached = [(r.name, c.get("floor_step"), c.get("floor_wall_s")) for r, _, c in found]
    hits = [x for x in reached if x[1] is not None]
    eval_s = [c.get("eval_s_mean") for _, _, c in found if c.get("eval_s_mean") is not None]
    row = [
        experiment,
        dataset,
        f"{len(hits)}/{len(found)}",
        ", ".join(f"{name}: {step}" for name, step, _ in hits) or "—",
        ", ".join(f"{name}: {fmt(s, 3)}" for name, _, s in hits) or "—",
        fmt(sum(eval_s) / len(eval_s), 3) if eval_s else "",
    ]
    return f"{link}\n\n_{caption}_\n", row


def curve_section(ctx: SectionContext) -> str:
    """``### Learning curves`` of the paper's experiments with curves ('' when none has)."""
    drawn = [c for c in (_experiment_curves(ctx, exp) for exp in ctx.experiments()) if c]
    if not drawn:
        return ""
    table = md_table(
        [row for _, row in drawn],
        [
            "experiment",
            "dataset",
            "runs at the floor",
            "first step at the floor",
            "seconds of training to the floor",
            "seconds per evaluation",
        ],
    )
    return "\n".join(
        [
            "### Learning curves\n",
            (
                "IS and FID of each run's generator measured during training (evaluation "
                "time excluded from training time). A run reaches the quality floor at the "
                "first evaluated step whose IS is at least the floor.\n"
            ),
            *[figure for figure, _ in drawn],
            table,
        ]
    )


def write_curve_csvs(plan: Plan, runs_root: Path, plots_dir: Path) -> list[Path]:
    """reports/plots/curves/<experiment>/<is|fid>.csv: ``step,<metric>``, the mean over the
    experiment's runs at every evaluated step."""
    written = []
    for exp in dict.fromkeys(j.experiment for j in plan.jobs):
        folders = [
            runs_root / Path(job.out).relative_to("runs") / run.name
            for job in plan.jobs
            if job.experiment == exp
            for run in job.runs
        ]
        frames = [log for log in map(read_eval_log, folders) if log is not None]
        if not frames:
            continue
        mean = pd.concat(frames).groupby("step", as_index=False)[list(CURVE_COLUMNS)].mean()
        for col in CURVE_COLUMNS:
            path = plots_dir / "curves" / exp / f"{col}.csv"
            atomic_write_text(path, mean[["step", col]].to_csv(index=False))
            written.append(path)
    return written
