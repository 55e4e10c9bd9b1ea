"""``plan``: validate params.yaml, print the run table, optionally write runs.yaml.

``--stamp PATH`` is the DVC / Snakemake ``validate`` stage: it depends on the whole
params file, so any edit (even a misspelled top-level key that no stage tracks) is
validated before any other stage runs, and every ``fetch`` depends on its output.
"""

from __future__ import annotations

import argparse
from collections import Counter

from pipeline.config import RUNS_FILE, load_params, make_plan, run_list_is_current, write_run_list
from pipeline.io import atomic_write_text

# The stamp's content never changes: the stages after `validate` rerun for their own
# parameters only, never because some other part of params.yaml changed.
STAMP_TEXT = "The params file passed `python -m pipeline plan` (schema, hyperparameters, references).\n"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--write", nargs="?", const=str(RUNS_FILE), metavar="PATH",
                   help="write the DVC run list (default runs.yaml)")
    p.add_argument("--check", action="store_true", help="exit 1 if runs.yaml is out of date")
    p.add_argument("--summary", action="store_true", help="print run counts per experiment only")
    p.add_argument("--stamp", metavar="PATH",
                   help="once the params are valid, write PATH (the validate stage's output)")


def format_table(rows: list[dict]) -> str:
    cols = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    lines = ["  ".join(c.ljust(widths[c]) for c in cols)]
    lines += ["  ".join(str(r[c]).ljust(widths[c]) for c in cols) for r in rows]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    plan = make_plan(load_params(args.params))
    if args.stamp:
        atomic_write_text(args.stamp, STAMP_TEXT)
    runs = plan.runs()
    if args.check:
        if not run_list_is_current(plan):
            print(f"{RUNS_FILE} is out of date with {args.params}: run `python -m pipeline plan --write`")
            return 1
        print(f"{RUNS_FILE} is up to date ({len(plan.jobs)} jobs, {len(runs)} runs)")
        return 0
    if args.write:
        path = write_run_list(plan, args.write)
        print(f"wrote {path}: {len(plan.jobs)} jobs, {len(runs)} runs")
        return 0
    print(f"profile: {plan.profile}   jobs: {len(plan.jobs)}   runs: {len(runs)}   "
          f"datasets fetched: {', '.join(plan.stored_datasets())}")
    if args.summary:
        counts = Counter((r.paper, r.experiment, r.model, r.variant, r.dataset) for r in runs)
        rows = [{"paper": k[0], "experiment": k[1], "model": k[2], "variant": k[3], "dataset": k[4], "runs": n}
                for k, n in counts.items()]
    else:
        rows = [{k: v for k, v in r.row().items()} for r in runs]
        for row, r in zip(rows, runs):
            row["budget"] = f"{row.pop('steps')}x{row.pop('batch')}"
    print(format_table(rows))
    return 0
