"""``report --aggregate DIR --runs DIR --refs DIR --out DIR``: claims with verdicts,
figures, reports/report.md and a self-contained reports/report.html."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.config import load_params, make_plan


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--aggregate", default="reports/aggregate", help="folder with runs.csv and summary.csv")
    p.add_argument("--runs", default="runs", help="root of the run folders (runs/<exp>/shard<k>/<run>/)")
    p.add_argument("--refs", default="refs", help="root of the real-data references")
    p.add_argument("--out", default="reports", help="output folder: report.md, report.html, figures/, plots/")
    p.add_argument("--allow-missing", action="store_true",
                   help="report from an aggregate with unscored jobs (aggregate --allow-missing), listing them; "
                        "without it such an aggregate is refused")


def run(args: argparse.Namespace) -> int:
    plan = make_plan(load_params(args.params))
    from pipeline.report.claims import verdict_counts
    from pipeline.report.render import build_report

    out = build_report(plan, Path(args.aggregate), Path(args.runs), Path(args.refs), Path(args.out),
                       allow_missing=args.allow_missing)
    counts = verdict_counts([r for rs in out.results.values() for r in rs])
    print(f"report: {out.markdown}, {out.html} ({len(out.figures)} figures); claims: "
          + ", ".join(f"{n} {v}" for v, n in counts.items()))
    return 0
