"""Runs the report cannot judge: jobs never scored (missing) and runs that failed.

A cluster run can end with jobs that timed out or crashed after their retries;
``aggregate --allow-missing`` then records their runs with status ``missing``.
The report refuses such an aggregate unless asked (``report --allow-missing``),
and otherwise lists every job that is missing or has failed runs, so that a
partial report says what it is built from.
"""

from __future__ import annotations

import pandas as pd

from pipeline.config import Plan
from pipeline.errors import PipelineError
from pipeline.report.aggregate import MISSING, REAL_VARIANT
from pipeline.report.context import md_table


def run_status(plan: Plan, runs: pd.DataFrame) -> dict[str, str]:
    """Status of every planned run (run id -> ``ok``, ``diverged``, ..., or ``missing`` when
    runs.csv has no row for it)."""
    planned = runs[runs["variant"] != REAL_VARIANT].drop_duplicates("run_id")
    known = dict(zip(planned["run_id"], planned["status"]))
    return {run.id: known.get(run.id, MISSING) for run in plan.runs()}


def not_ok_jobs(plan: Plan, runs: pd.DataFrame) -> list[tuple[str, str, str, list[str]]]:
    """(job id, experiment, status, run ids) for each job and status other than ``ok``."""
    status = run_status(plan, runs)
    out = []
    for job in plan.jobs:
        by_status: dict[str, list[str]] = {}
        for run in job.runs:
            if status[run.id] != "ok":
                by_status.setdefault(status[run.id], []).append(run.id)
        out += [(job.id, job.experiment, s, ids) for s, ids in sorted(by_status.items())]
    return out


def check_complete(plan: Plan, runs: pd.DataFrame, allow_missing: bool) -> None:
    """Refuse an aggregate with unscored runs unless ``allow_missing``: a strict report
    (the default, and ``dvc repro``'s) is built from every planned run."""
    missing = [job for job, _, status, _ in not_ok_jobs(plan, runs) if status == MISSING]
    if missing and not allow_missing:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        raise PipelineError(f"{len(missing)} job(s) have no scores in the aggregate ({shown}): score them and "
                            "rerun `python -m pipeline aggregate`, or report from what is scored with "
                            "`aggregate --allow-missing` and `report --allow-missing`")


def missing_section(plan: Plan, runs: pd.DataFrame) -> str:
    """Markdown section listing the missing and failed jobs; empty when every run is ok."""
    rows = not_ok_jobs(plan, runs)
    if not rows:
        return ""
    n_missing = sum(len(ids) for _, _, status, ids in rows if status == MISSING)
    table = [[job, exp, status, len(ids), ", ".join(i.split("/", 1)[-1] for i in ids[:4])
              + (", ..." if len(ids) > 4 else "")] for job, exp, status, ids in rows]
    return "\n".join([
        "## Missing and failed runs\n",
        (f"{n_missing} planned run(s) have no scores (*missing*: the job timed out, crashed or was not "
         "run) and are left out of every statistic; failed runs (e.g. *diverged*) count as failed. "
         "Rerun the workflow to fill the gaps: training resumes from its checkpoints.\n"),
        md_table(table, ["job", "experiment", "status", "runs", "run names"]),
    ]) + "\n"
