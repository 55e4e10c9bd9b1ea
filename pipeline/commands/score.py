"""``score JOB --runs DIR --data DIR --ref DIR --out FILE``: score every run of one job
(see :mod:`pipeline.metrics.score`), once its files match the sha256 that training
recorded (:mod:`pipeline.artefacts`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.artefacts import verify_run
from pipeline.config import Job, load_params, make_plan


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("job", help="job id, e.g. gan_mnist.0 (see `python -m pipeline plan`)")
    p.add_argument("--runs", required=True, help="the job's run folder, e.g. runs/gan_mnist/shard0")
    p.add_argument("--data", required=True, help="the dataset's storage folder, e.g. data/mnist_subset")
    p.add_argument("--ref", required=True, help="the dataset's reference folder, e.g. refs/mnist_subset")
    p.add_argument("--out", required=True, help="score file, e.g. scores/gan_mnist/shard0.json")


def retrain_command(job: Job, runs: str) -> str:
    """How to rebuild the runs of ``job``: with the plain CLI, or under DVC (which can also
    restore them from its cache)."""
    ref = f" --ref refs/{job.dataset}" if job.curve else ""
    stage = f"{'train' if job.curve else 'train_plain'}@{job.id}"
    return (f"retrain the job: `python -m pipeline train {job.id} --data data/{job.storage}{ref} --out {runs}` "
            f"(under DVC: `dvc checkout {stage}` restores it from the cache, `dvc repro -f -s {stage}` retrains)")


def run(args: argparse.Namespace) -> int:
    plan = make_plan(load_params(args.params))
    job = plan.job(args.job)
    for r in job.runs:  # before reading any of them
        verify_run(Path(args.runs) / r.name, retrain_command(job, args.runs))
    from pipeline.io import atomic_write_json
    from pipeline.metrics.score import score_job

    doc = score_job(plan, job, Path(args.runs), Path(args.data), Path(args.ref))
    atomic_write_json(Path(args.out), doc)
    failed = sum(r["metrics"]["run/failed"] for r in doc["runs"])
    print(f"scored {job.id}: {len(doc['runs'])} run(s), {failed} failed, {doc['wall_s']:.1f}s -> {args.out}")
    return 0
