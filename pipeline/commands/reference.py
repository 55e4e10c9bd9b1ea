"""``reference DATASET --data DIR --out DIR``: domain classifier, cached real-data
features and the real data's own scores (see :mod:`pipeline.metrics.reference`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.config import load_params, make_plan
from pipeline.errors import ConfigError, did_you_mean


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset", help="dataset name from params.yaml")
    p.add_argument("--data", required=True, help="the dataset's storage folder, e.g. data/mnist_subset")
    p.add_argument("--out", required=True, help="output folder, e.g. refs/mnist_subset")


def run(args: argparse.Namespace) -> int:
    plan = make_plan(load_params(args.params))
    if args.dataset not in plan.datasets:
        raise ConfigError(f"dataset {args.dataset!r} is not in params.yaml{did_you_mean(args.dataset, plan.datasets)}; "
                          f"defined: {', '.join(sorted(plan.datasets))}")
    from pipeline import runtime
    from pipeline.metrics.reference import build_reference

    device = runtime.configure(plan.params["runtime"])
    info = build_reference(plan, args.dataset, Path(args.data), Path(args.out), device)
    real = ", ".join(f"{k} {v:.4g}" for k, v in info["real"].items() if v is not None)
    print(f"reference {args.dataset} -> {args.out} ({info['wall_s']:.1f}s): real data {real}")
    return 0
