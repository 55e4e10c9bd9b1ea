"""``profile NAME``: make profiles/params/NAME.yaml the active params.yaml and
regenerate runs.yaml, so that `dvc repro` and `snakemake` both run that profile."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.config import load_params, make_plan, profile_path, write_run_list
from pipeline.io import atomic_write_text


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="smoke, paper or ci (files in profiles/params/)")


def run(args: argparse.Namespace) -> int:
    source = profile_path(args.name)
    params = load_params(source)  # validate before touching params.yaml
    atomic_write_text(Path(args.params), source.read_text())
    plan = make_plan(params)
    write_run_list(plan)
    print(f"{args.params} <- {source}; runs.yaml: {len(plan.jobs)} jobs, {len(plan.runs())} runs. "
          "Now run `dvc repro` or `snakemake --workflow-profile profiles/local`.")
    return 0
