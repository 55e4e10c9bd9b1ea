"""``train JOB --data DIR [--ref DIR] --out DIR``: train every run of one job; with
``--ref`` (the dataset's reference folder) runs with ``train.eval_every`` > 0 record
learning curves (:mod:`pipeline.train_monitor`). One process per job: a second ``train``
of a job being trained refuses (:mod:`pipeline.joblock`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.config import load_params, make_plan
from pipeline.joblock import job_lock


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("job", help="job id, e.g. gan_mnist.0 (see `python -m pipeline plan`)")
    p.add_argument("--data", required=True, help="the dataset's storage folder, e.g. data/mnist_subset")
    p.add_argument("--ref", default=None,
                   help="the dataset's reference folder, e.g. refs/mnist_subset: record learning "
                        "curves (IS / FID during training)")
    p.add_argument("--out", required=True, help="job output folder, e.g. runs/gan_mnist/shard0")
    p.add_argument("--checkpoints", default="checkpoints", help="root of resumable checkpoints")


def run(args: argparse.Namespace) -> int:
    plan = make_plan(load_params(args.params))
    job = plan.job(args.job)
    with job_lock(Path(args.checkpoints), job):  # before importing torch: a second train refuses at once
        from pipeline.train import train_job

        ref = Path(args.ref) if args.ref else None
        outcomes = train_job(plan, job, Path(args.data), Path(args.out), Path(args.checkpoints), ref)
    diverged = [o.run_id for o in outcomes if o.status != "ok"]
    if diverged:
        print(f"note: {len(diverged)} run(s) diverged and are recorded as such: {', '.join(diverged)}")
    return 0
