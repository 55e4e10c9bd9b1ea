"""Time to quality: seconds of training until a recipe's generator reaches IS 5 and IS 7
on MNIST, for the pipeline's ``gan_mnist`` and a plain public-style recipe.

- ``pipeline``: the params file's ``gan_mnist`` (its first run: the current profile's
  hyperparameters, seed, batch size and data source), built and stepped as the trainer
  does (:class:`pipeline.benchmark.training.TrainerLoop`);
- ``public``: bench/public_gan.py (MLP G 100-128-256-512-1024-784 with BatchNorm, MLP D
  784-512-256-1, Adam 2e-4 / (0.5, 0.999), batch 64, BCE) with the same seed and data.

Both train in one fresh process on the CPU with :data:`THREADS` threads and are scored by
the same learning-curve monitor (:class:`pipeline.train_monitor.Monitor` of the gan_mnist
run: the same latent draw, ``eval_n`` samples, IS splits, domain classifier and held-out
reference statistics of refs/<dataset>/) after every ``every_s`` seconds of training, the
same interval in time for both, so each threshold is resolved to within one interval.
Training seconds exclude evaluations. A recipe stops once it reaches the highest
threshold, or when ``budget_s`` seconds of training or ``max_steps`` steps are spent.
Per threshold: the training seconds and step of the first evaluation at or above it,
or None (not reached within the budget). The float32 matmul peak is measured in the
same process with the same threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from pipeline.benchmark.peak import matmul_peak_gflops
from pipeline.benchmark.training import (
    TrainerLoop,
    build_model,
    first_run,
    load_bench_module,
    open_data,
)
from pipeline.config import Plan
from pipeline.errors import ConfigError
from pipeline.train_monitor import Monitor, first_reached, load_curve_reference

EXPERIMENT = "gan_mnist"
THRESHOLDS = (5.0, 7.0)
THREADS = 2


def race(
    step: Callable[[int], Any],
    evaluate: Callable[[], dict[str, Any]],
    every_s: float,
    budget_s: float,
    max_steps: int,
    stop_at: float,
) -> list[dict[str, Any]]:
    """Curve rows ``{step, train_s, is, fid, eval_s}``: at step 0, after every ``every_s``
    seconds of training and at the end (budget, step limit, or IS >= ``stop_at``)."""
    rows = [{"step": 0, "train_s": 0.0, **evaluate()}]
    trained = since = 0.0
    done = 0
    while done < max_steps and trained < budget_s:
        start = time.perf_counter()
        step(done)
        spent = time.perf_counter() - start
        trained, since, done = trained + spent, since + spent, done + 1
        if since >= every_s or done == max_steps or trained >= budget_s:
            rows.append({"step": done, "train_s": trained, **evaluate()})
            since = 0.0
            if (rows[-1]["is"] or 0.0) >= stop_at:
                break
    return rows


def summarise(
    name: str, rows: Sequence[dict[str, Any]], batch: int, thresholds: Sequence[float]
) -> dict[str, Any]:
    """A recipe's result: when each threshold was first reached, speed, cost, the curve."""
    last = rows[-1]
    reached = {}
    for t in thresholds:
        hit = first_reached(rows, t)
        reached[f"{t:g}"] = {"train_s": hit["train_s"], "step": hit["step"]} if hit else None
    finite = [r["is"] for r in rows if r["is"] is not None]
    return {
        "recipe": name,
        "batch": batch,
        "steps": last["step"],
        "train_s": last["train_s"],
        "images_per_s": last["step"] * batch / last["train_s"] if last["train_s"] else None,
        "evaluations": len(rows),
        "eval_s": sum(r["eval_s"] for r in rows),
        "reached": reached,
        "best_is": max(finite, default=None),
        "final_is": last["is"],
        "final_fid": last["fid"],
        "curve": [[r["step"], round(r["train_s"], 3), r["is"], r["fid"]] for r in rows],
    }


def measure_time_to_quality(
    plan: Plan,
    data_root: Path,
    refs_root: Path,
    every_s: float = 2.0,
    budget_s: float = 300.0,
    max_steps: int = 10**9,
    thresholds: Sequence[float] = THRESHOLDS,
) -> dict[str, Any]:
    """Race the two recipes (see the module docstring)."""
    torch.set_num_threads(THREADS)
    device = torch.device("cpu")
    run = first_run(plan, EXPERIMENT)
    job = plan.job(run.job)
    if plan.datasets[run.dataset].kind not in ("mnist_offline", "mnist"):
        raise ConfigError(
            f"time_to_quality needs {EXPERIMENT} on MNIST; it trains on {run.dataset!r}"
        )
    data = open_data(plan, run.dataset, data_root).to(device)
    reference = load_curve_reference(
        plan, job, Path(data_root) / job.storage, Path(refs_root) / run.dataset
    )
    monitor = Monitor(reference, run)
    peak = matmul_peak_gflops()["gflops"]
    stop_at = max(thresholds)
    results = []

    model = build_model(run, data, device)
    loop = TrainerLoop(model, data, run.train["batch_size"] * model.batches_per_step, run.seed)
    rows = race(loop, lambda: monitor.evaluate(model), every_s, budget_s, max_steps, stop_at)
    results.append(
        {
            **summarise("pipeline", rows, loop.per_call, thresholds),
            "experiment": EXPERIMENT,
            "profile": plan.profile,
        }
    )

    public = load_bench_module("bench.public_gan").PublicGAN(data, run.seed)
    rows = race(
        public.step, lambda: monitor.evaluate(public), every_s, budget_s, max_steps, stop_at
    )
    results.append(
        {
            **summarise("public", rows, public.batch_size, thresholds),
            "experiment": "bench/public_gan.py",
            "profile": "",
        }
    )
    return {
        "dataset": run.dataset,
        "threads": THREADS,
        "matmul_peak_gflops": peak,
        "every_s": every_s,
        "budget_s": budget_s,
        "max_steps": max_steps,
        "thresholds": list(thresholds),
        "seed": run.seed,
        "eval_n": monitor.n,
        "is_splits": monitor.splits,
        "real_is": reference.real_is,
        "recipes": results,
    }
