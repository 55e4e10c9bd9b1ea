"""The API a paper's report section is written against.

A section is ``pipeline/report/sections/<paper>.py`` exposing

.. code-block:: python

    def render(ctx: SectionContext) -> str:   # markdown, without the paper's heading
        ...

The framework writes the heading (the claims file's title) and, after the
section's markdown, the hyperparameter table of each of the paper's
experiments. The context holds that paper's slice of the pipeline outputs and
small helpers, so a section never parses files itself:

- ``ctx.runs`` / ``ctx.summary``: the paper's rows of runs.csv / summary.csv
  (columns in :mod:`pipeline.report.aggregate`); ``ctx.ceilings``: summary
  rows of the real-data references (variant ``real data``, metrics ``real/*``)
  of every dataset; ``ctx.claims``: the paper's :class:`ClaimResult` list.
- ``ctx.plan``: the expanded params (``ctx.experiments()``, ``ctx.runs_of(exp)``
  give the planned runs); ``ctx.profile``; ``ctx.settings`` (bootstrap).
- ``ctx.run_dir(run_id)``, ``ctx.samples(run_id)``, ``ctx.train_log(run_id)``,
  ``ctx.train_json(run_id)``: a run's folder and files (None when absent).
- ``ctx.figure(fig, name, caption)``: save a matplotlib figure under
  ``figures/<paper>/<name>.png`` and get its markdown image link.
- ``ctx.table(frame)``, ``ctx.metric_table(metrics)``, ``ctx.claims_list()``,
  ``ctx.stat(...)``: markdown building blocks.
- ``ctx.learned(experiments, sample_set)``: the ``learned`` cell every experiment
  table shows (``yes 3/3``, ``no (IS 1.02 < 5.98)``, ``n/a``; the quality floor,
  :mod:`pipeline.report.floor`); ``ctx.metric_table`` includes it.
- ``ctx.mixture(dataset)``: mode centres and std of a 2D mixture dataset.

Sections must not write anywhere else and must cope with absent experiments
(a profile may not run them): check ``ctx.experiments()`` before drawing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.config import Plan, Run
from pipeline.report import floor
from pipeline.report.aggregate import LEARNED
from pipeline.report.claims import ClaimResult, Settings

FIGURE_DPI = 110


def fmt(x: Any, digits: int = 4) -> str:
    """A number with ``digits`` significant digits; empty for missing values."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return ""
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        return f"{float(x):.{digits}g}"
    return str(x)


def stat_text(mean: float, std: float | None = None, low: float | None = None, high: float | None = None,
              n: int | None = None) -> str:
    """``mean ± std [low, high] (n=…)``, leaving out what is missing."""
    if mean is None or not math.isfinite(mean):
        return "—"
    text = fmt(mean)
    if std is not None and math.isfinite(std):
        text += f" ± {fmt(std, 2)}"
    if low is not None and high is not None and math.isfinite(low) and math.isfinite(high):
        text += f" [{fmt(low)}, {fmt(high)}]"
    if n is not None:
        text += f" (n={n})"
    return text


def md_escape(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def md_table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    """A GitHub-style markdown table (cells escaped)."""
    if not rows:
        return ""
    lines = ["| " + " | ".join(md_escape(h) for h in headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


@dataclass
class SectionContext:
    paper: str
    title: str
    profile: str
    plan: Plan
    runs: pd.DataFrame
    summary: pd.DataFrame
    ceilings: pd.DataFrame
    claims: list[ClaimResult]
    runs_root: Path
    out_dir: Path
    settings: Settings
    figures_written: list[Path] = field(default_factory=list)
    _run_dirs: dict[str, Path] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ plan and run files

    def experiments(self) -> list[str]:
        """This paper's experiments in params order."""
        seen: list[str] = []
        for job in self.plan.jobs:
            if job.paper == self.paper and job.experiment not in seen:
                seen.append(job.experiment)
        return seen

    def runs_of(self, experiment: str) -> list[Run]:
        return [r for r in self.plan.runs() if r.experiment == experiment]

    def run_dir(self, run_id: str) -> Path | None:
        if not self._run_dirs:
            self._run_dirs = {run.id: self.runs_root / Path(job.out).relative_to("runs") / run.name
                              for job in self.plan.jobs for run in job.runs}
        path = self._run_dirs.get(run_id)
        return path if path is not None and path.is_dir() else None

    def samples(self, run_id: str) -> dict[str, np.ndarray]:
        """Arrays of a run's samples.npz (empty when absent or the run diverged)."""
        folder = self.run_dir(run_id)
        if folder is None or not (folder / "samples.npz").is_file():
            return {}
        with np.load(folder / "samples.npz") as data:
            return {k: data[k] for k in data.files}

    def train_log(self, run_id: str) -> pd.DataFrame | None:
        folder = self.run_dir(run_id)
        path = folder / "train_log.csv" if folder else None
        if path is None or not path.is_file() or path.stat().st_size == 0:
            return None
        return pd.read_csv(path)

    def train_json(self, run_id: str) -> dict[str, Any] | None:
        folder = self.run_dir(run_id)
        path = folder / "train.json" if folder else None
        return json.loads(path.read_text()) if path is not None and path.is_file() else None

    def mixture(self, dataset: str) -> tuple[np.ndarray, float] | None:
        """(centres, std) of a ring8 / grid25 dataset, else None."""
        cfg = self.plan.datasets.get(dataset)
        if cfg is None or cfg.kind not in ("ring8", "grid25"):
            return None
        from pipeline.data.synthetic import mixture

        m = mixture(cfg.kind, cfg.options.get("geometry", "dcd"))
        return m.centres, m.std

    # ------------------------------------------------------------------ figures

    def figure(self, fig: Any, name: str, caption: str = "") -> str:
        """Save ``fig`` as figures/<paper>/<name>.png (closing it); return the markdown link."""
        import matplotlib.pyplot as plt

        rel = Path("figures") / self.paper / f"{name}.png"
        path = self.out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=FIGURE_DPI)
        plt.close(fig)
        self.figures_written.append(path)
        return f"![{md_escape(caption or name)}]({rel.as_posix()})"

    # ------------------------------------------------------------------ markdown helpers

    @staticmethod
    def table(frame: pd.DataFrame, columns: Sequence[str] | None = None,
              headers: Sequence[str] | None = None) -> str:
        cols = list(columns or frame.columns)
        rows = [[fmt(v) for v in row] for row in frame[cols].itertuples(index=False)]
        return md_table(rows, headers or cols)

    @staticmethod
    def stat(row: Any, with_n: bool = False) -> str:
        """``mean ± std [CI]`` of a summary row."""
        return stat_text(row["mean"], row["std"], row["ci_low"], row["ci_high"],
                         int(row["n"]) if with_n else None)

    def ceiling(self, dataset: str, metric: str) -> pd.Series | None:
        """The real-data summary row matching ``metric`` (``G/is`` -> ``real/is``)."""
        name = "real/" + metric.split("/", 1)[-1]
        rows = self.ceilings[(self.ceilings["dataset"] == dataset) & (self.ceilings["metric"] == name)]
        return None if rows.empty else rows.iloc[0]

    def learned(self, experiments: Sequence[str], sample_set: str = floor.MAIN_SET,
                run_ids: Collection[str] | None = None) -> str:
        """The ``learned`` cell of the runs of ``experiments`` (only those in ``run_ids`` when
        given) on ``sample_set``: ``yes 3/3``, ``no (IS 1.02 < 5.98)`` or ``n/a``."""
        rows = self.runs[self.runs["experiment"].isin(list(experiments))]
        ids = set(rows["run_id"]) if run_ids is None else set(rows["run_id"]) & set(run_ids)
        standing = floor.statuses(self.runs, floor.floors(self.ceilings, "mean"), ids, sample_set)
        return floor.learned_text(standing)

    def metric_table(self, metrics: Iterable[str], experiments: Sequence[str] | None = None,
                     with_ceiling: bool = True) -> str:
        """Rows: experiments (and the real-data ceiling of their datasets); columns: metrics
        as mean ± std [CI]; plus runs and failed-run counts and whether G learned."""
        metrics = list(metrics)
        exps = list(experiments) if experiments is not None else self.experiments()
        rows = []
        for exp in exps:
            sub = self.summary[self.summary["experiment"] == exp]
            if sub.empty:
                continue
            first = sub.iloc[0]
            cells = [exp, first["variant"], first["dataset"], int(sub["n_runs"].max()), int(sub["n_failed"].max()),
                     self.learned([exp])]
            for m in metrics:
                hit = sub[sub["metric"] == m]
                cells.append(self.stat(hit.iloc[0]) if not hit.empty else "")
            rows.append(cells)
        if with_ceiling:
            datasets = list(dict.fromkeys(r[2] for r in rows))
            for ds in datasets:
                cells = ["real data (held-out)", "real data", ds, "", "", ""]
                found = False
                for m in metrics:
                    c = self.ceiling(ds, m)
                    found |= c is not None
                    cells.append(stat_text(c["mean"], c["std"]) if c is not None else "")
                if found:
                    rows.append(cells)
        return md_table(rows, ["experiment", "variant", "dataset", "runs", "failed", "learned", *metrics])

    def claims_list(self) -> str:
        """One bullet per claim: verdict, source, statement."""
        if not self.claims:
            return "_No claims listed._\n"
        return "\n".join(f"- **{r.verdict_text}** ({md_escape(r.claim.source)}, `{r.claim.id}`): "
                         f"{md_escape(r.claim.statement)}" for r in self.claims) + "\n"

    def scored_metrics(self, experiment: str | None = None) -> list[str]:
        """Metrics of the summary other than training timings and ``<set>/learned`` (the
        tables' own ``learned`` column), in a stable order."""
        sub = self.summary if experiment is None else self.summary[self.summary["experiment"] == experiment]
        names = [m for m in dict.fromkeys(sub["metric"])
                 if not str(m).startswith(("train/", "score/")) and not str(m).endswith(f"/{LEARNED}")]
        return sorted(names, key=lambda m: (m.startswith("run/"), m))
