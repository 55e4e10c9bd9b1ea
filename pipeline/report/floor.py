"""The quality floor read back from the aggregate: has a group of runs learned?

The aggregate (:mod:`pipeline.report.aggregate`) writes each dataset's floor in IS
units (``real/is_floor`` = ``scoring.floor_for(dataset)`` x the real held-out IS)
and each run's ``<set>/learned``. Claims and report tables judge a *group* of runs
(a claim's group, an experiment, a grid subset) on one sample set:

- The set of a metric: ``<set>/<name>`` -> ``<set>`` (``G/fid`` -> ``G``,
  ``latent/is`` -> ``latent``); a metric that is not per sample set (``run/...``,
  ``train/...``, ``score/...``) -> ``G``, the run's main set; ``real/...`` -> none
  (the real data is the ceiling, never judged).
- Per dataset the group spans, the group has *learned* when the mean of its runs'
  finite ``<set>/is`` values reaches that dataset's floor. When ``<set>/is`` rows
  exist but none is finite (every run failed), it has not learned.
- A group that is a distribution over configurations (a hyperparameter grid, in
  which failed configurations are the point) may instead name a ``share``: it has
  learned when at least that share of its runs are at or above the floor.
- Not applicable (no status at all, never "below"): runs without ``<set>/is`` rows
  (2D toys, a set or experiment that scores no IS) and datasets without a floor.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.report.aggregate import FLOOR_METRIC

MAIN_SET = "G"
NOT_PER_SET = ("run", "train", "score")
REAL_PREFIX = "real"


def sample_set(metric: str) -> str | None:
    """The sample set ``metric`` is judged on (see the module docstring); None for real data."""
    prefix, per_set, _ = metric.partition("/")
    if prefix == REAL_PREFIX:
        return None
    return prefix if per_set and prefix not in NOT_PER_SET else MAIN_SET


def floors(frame: pd.DataFrame, column: str = "value") -> dict[str, float]:
    """Dataset -> floor in IS units, from the ``real/is_floor`` rows of a runs table
    (``column="value"``) or of summary rows (``column="mean"``)."""
    rows = frame[frame["metric"] == FLOOR_METRIC]
    return {
        str(d): float(v) for d, v in zip(rows["dataset"], rows[column]) if math.isfinite(float(v))
    }


@dataclass(frozen=True)
class SetFloor:
    """One group's standing on one dataset: mean IS of the set against the floor."""

    dataset: str
    sample_set: str
    mean_is: float
    floor: float
    n_runs: int
    n_learned: int
    share: float | None = None

    @property
    def learned(self) -> bool:
        if self.share is not None:
            return self.n_learned >= self.share * self.n_runs
        return self.mean_is >= self.floor  # False for NaN: no finite IS

    def comparison(self) -> str:
        """``IS 1.02 < 5.98`` (or ``no finite IS < 5.98``); with a share,
        ``2/12 runs at IS >= 5.98 < 25%``."""
        if self.share is not None:
            return (f"{self.n_learned}/{self.n_runs} runs at IS >= {self.floor:.2f} "
                    f"{'>=' if self.learned else '<'} {self.share:.0%}")
        ours = f"IS {self.mean_is:.2f}" if math.isfinite(self.mean_is) else "no finite IS"
        return f"{ours} {'>=' if self.learned else '<'} {self.floor:.2f}"


def statuses(
    runs: pd.DataFrame, floor_of: dict[str, float], run_ids: Collection[str], set_name: str,
    share: float | None = None,
) -> list[SetFloor]:
    """The standing of the runs ``run_ids`` of ``runs`` (a runs table) on ``set_name``, one
    per dataset they span that has a floor and ``<set>/is`` rows; empty: not applicable.
    ``share``: judge by the share of runs at or above the floor (grids), not the mean."""
    mine = runs[runs["run_id"].isin(set(run_ids))]
    scores = mine[mine["metric"] == f"{set_name}/is"]
    out = []
    for dataset, rows in scores.groupby("dataset", sort=True):
        if dataset not in floor_of:
            continue
        values = rows["value"].to_numpy(float)
        finite = values[np.isfinite(values)]
        out.append(
            SetFloor(
                str(dataset),
                set_name,
                float(finite.mean()) if finite.size else math.nan,
                floor_of[dataset],
                int(rows["run_id"].nunique()),
                int((finite >= floor_of[dataset]).sum()),
                share,
            )
        )
    return out


def learned_text(standing: Sequence[SetFloor]) -> str:
    """The report's ``learned`` cell: ``yes 3/3`` (runs at or above the floor / runs),
    ``no (IS 1.02 < 5.98)`` (with ``, 1/3 runs`` when some runs learned), or ``n/a``."""
    if not standing:
        return "n/a"
    cells = []
    for s in standing:
        if s.learned:
            text = f"yes {s.n_learned}/{s.n_runs}"
        else:
            some = f", {s.n_learned}/{s.n_runs} runs" if s.n_learned else ""
            text = f"no ({s.comparison()}{some})"
        cells.append(f"{s.dataset}: {text}" if len(standing) > 1 else text)
    return "; ".join(cells)
