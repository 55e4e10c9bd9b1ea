"""``aggregate --scores DIR --refs DIR --out DIR``: tidy table of all runs' scores,
seed statistics with bootstrap CIs, and headline metrics for ``dvc metrics show``."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.config import load_params, make_plan


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scores", default="scores", help="root of the score files (scores/<exp>/shard<k>.json)")
    p.add_argument("--refs", default="refs", help="root of the real-data references (refs/<dataset>/)")
    p.add_argument("--out", default="reports/aggregate", help="output folder: runs.csv, summary.csv, metrics.json")
    p.add_argument("--allow-missing", action="store_true",
                   help="aggregate whatever is scored: a job without (valid) scores is listed as missing "
                        "instead of stopping the stage (the SLURM profile's default; strict otherwise)")


def run(args: argparse.Namespace) -> int:
    params = load_params(args.params)
    plan = make_plan(params)
    from pipeline.report.aggregate import MISSING, REAL_VARIANT, write_aggregate

    scoring = params.get("scoring") or {}
    runs, summary = write_aggregate(plan, Path(args.scores), Path(args.refs), Path(args.out),
                                    int(scoring.get("bootstrap_samples", 1000)),
                                    float(scoring.get("ci_level", 0.95)), args.allow_missing)
    planned = runs[runs["variant"] != REAL_VARIANT].drop_duplicates("run_id")
    missing = int((planned["status"] == MISSING).sum())
    failed = int((planned["status"] != "ok").sum()) - missing
    print(f"aggregate: {len(planned)} runs ({failed} failed{f', {missing} missing' if missing else ''}), "
          f"{len(runs)} rows, {len(summary)} summary rows -> {args.out}")
    return 0
