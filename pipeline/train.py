"""The one training loop. It knows nothing about which paper it runs.

For each run of a job: seed everything; build the model from the registry;
resume from ``checkpoints/<run-id>/last.pt`` when it matches the run's
configuration; call ``model.train_step`` with batches that are a pure function
of (seed, step); every ``log_every`` steps average the losses (the only host
synchronisation), detect NaN/inf (the run is marked ``diverged`` and training
of that run stops, keeping its partial log); checkpoint every
``checkpoint_every`` steps; finally write the run folder:

- ``model.pt``     weights + optimiser + RNG state + step (+ config hash)
- ``samples.npz``  named sample sets (images uint8 in [0, 255], points float32)
                   and ``aux/*`` arrays for figures
- ``train_log.csv`` step, losses, wall time, images/s
- ``eval_log.csv`` (runs with a learning curve, :mod:`pipeline.train_monitor`) step,
                   training seconds so far, IS, FID, seconds the evaluation took
- ``train.json``   status, budget, timing, evaluation metrics, the learning curve's
                   summary (``curve``: floor step, evaluation cost), hyperparameters
                   with provenance, library versions, device, git commit

Wall time and images/s count training only: learning-curve evaluations are
timed apart (``eval_s``).
"""

from __future__ import annotations

import csv
import io
import math
import multiprocessing
import sys
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from pipeline import checkpoint, runtime
from pipeline import hparams as hparams_lib
from pipeline.artefacts import artefact_hashes
from pipeline.config import Job, Plan, Run
from pipeline.data.loader import open_dataset
from pipeline.data.sources import DataSource
from pipeline.io import atomic_save_npz, atomic_torch_save, atomic_write_json, atomic_write_text
from pipeline.progress import Progress
from pipeline.provenance import provenance
from pipeline.registry import hparams_class, model_class

if TYPE_CHECKING:
    from pipeline.train_monitor import CurveReference

SAMPLE_SEED_OFFSET = 7_919  # sampling RNG = run seed + offset, independent of training RNG


@dataclass
class RunOutcome:
    run_id: str
    status: str
    steps_done: int
    wall_s: float
    images_per_s: float


def samples_to_arrays(sets: dict[str, torch.Tensor], is_image: bool) -> dict[str, np.ndarray]:
    """Images in [0, 1] -> uint8 in [0, 255] (as real images are stored); points stay float32."""
    out = {}
    for name, x in sets.items():
        x = x.detach().float().cpu()
        out[name] = (x.clamp(0, 1).mul(255).round().to(torch.uint8) if is_image else x).numpy()
    return out


def _csv_text(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    if rows:
        fields = list(rows[0])
        for row in rows[1:]:
            fields += [k for k in row if k not in fields]
        writer = csv.DictWriter(buf, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return buf.getvalue()


def _finite_or_none(x: float) -> float | None:
    return x if math.isfinite(x) else None


def train_run(run: Run, data: DataSource, out: Path, device: torch.device, profile: str,
              ckpt_root: Path = checkpoint.CHECKPOINT_ROOT,
              settings: Mapping[str, Any] | None = None,
              curve: CurveReference | None = None, in_worker: bool = False) -> RunOutcome:
    """Train one run into ``out`` (see the module docstring); with ``curve``, a run whose
    ``train.eval_every`` > 0 also records its learning curve. ``in_worker``: one of several
    runs sharing stderr, so progress is logged as lines, never as a bar."""
    hp_cls = hparams_class(run.model)
    hp = hparams_lib.build(hp_cls, run.hparams, f"experiments.{run.experiment}.hparams")
    steps, batch = run.train["steps"], run.train["batch_size"]
    log_every, ckpt_every = run.train["log_every"], run.train["checkpoint_every"]
    nan_at = run.train.get("fault_nan_at_step")
    config_hash = run.config_hash()
    ckpt_path = checkpoint.checkpoint_path(run.id, ckpt_root)

    runtime.seed_everything(run.seed)
    model = model_class(run.model)(hp, data, device)
    fast_paths = runtime.accelerate(model.nets, device, settings or {})
    per_call = batch * model.batches_per_step

    monitor = None
    if curve is not None and run.curve:
        from pipeline.train_monitor import Monitor

        monitor = Monitor(curve, run)
    start, rows, evals, elapsed_before, status, diverged_at = 0, [], [], 0.0, "ok", None
    state = checkpoint.load_if_valid(ckpt_path, config_hash)
    if state is not None:
        model.load_state_dict(state["model"])
        runtime.set_rng_state(state["rng"])
        start, rows, elapsed_before = state["step"], state["log"], state["elapsed"]
        evals = state.get("evals", [])
        status, diverged_at = state.get("status", "ok"), state.get("diverged_at")
        print(f"[train] {run.id}: resuming at step {start}/{steps}", file=sys.stderr)

    def save_checkpoint(step: int) -> None:
        checkpoint.save(ckpt_path, {
            "config_hash": config_hash, "step": step, "model": model.state_dict(),
            "rng": runtime.rng_state(), "log": rows, "elapsed": elapsed_before + time.perf_counter() - t0,
            "status": status, "diverged_at": diverged_at, "evals": evals,
        })

    def evaluate(step: int, trained_s: float) -> float:
        """Append the learning curve's row of ``step``; returns the seconds it took."""
        result = monitor.evaluate(model)
        evals.append({"step": step, "wall_s": round(trained_s, 4), "is": result["is"],
                      "fid": result["fid"], "eval_s": round(result["eval_s"], 4)})
        return result["eval_s"]

    if monitor is not None and start == 0:
        evaluate(0, 0.0)  # the untrained generator
    sums: dict[str, torch.Tensor] = {}
    count = 0
    t0 = time.perf_counter()
    window_t, window_steps = t0, 0
    step = start
    progress = Progress(run.id, steps, start, per_call, bar=False if in_worker else None)
    while step < steps and status == "ok":
        x, y = data.batch(step, per_call, run.seed)
        if nan_at is not None and step == nan_at:
            x = x.clone()
            x.view(-1)[0] = float("nan")
        losses = model.train_step(x, y, step)
        for k, v in losses.items():
            sums[k] = sums[k] + v if k in sums else v.clone()
        count += 1
        step += 1
        window_steps += 1
        progress.update(step)
        if step % log_every == 0 or step == steps:
            now = time.perf_counter()
            row = {"step": step, **{k: (v / count).item() for k, v in sums.items()}}
            row["wall_s"] = round(elapsed_before + now - t0, 4)
            row["images_per_s"] = round(window_steps * per_call / max(now - window_t, 1e-9), 2)
            rows.append(row)
            sums, count, window_t, window_steps = {}, 0, now, 0
            if not all(math.isfinite(v) for k, v in row.items() if k not in ("step",)):
                status, diverged_at = "diverged", step
                print(f"[train] {run.id}: non-finite loss by step {step}; marked diverged", file=sys.stderr)
        if monitor is not None and status == "ok" and monitor.due(step, steps):
            spent = evaluate(step, elapsed_before + time.perf_counter() - t0)
            t0, window_t = t0 + spent, window_t + spent  # the clocks count training only
        if step % ckpt_every == 0 or step == steps or status != "ok":
            save_checkpoint(step)
    progress.close()
    wall = elapsed_before + time.perf_counter() - t0
    trained_now = step - start
    images_per_s = trained_now * per_call / max(time.perf_counter() - t0, 1e-9) if trained_now else 0.0

    out.mkdir(parents=True, exist_ok=True)
    atomic_torch_save(out / "model.pt", {
        "config_hash": config_hash, "run": run.identity(), "step": step, "status": status,
        "model": model.state_dict(), "rng": runtime.rng_state(),
    })
    gen = torch.Generator().manual_seed(run.seed + SAMPLE_SEED_OFFSET)
    arrays: dict[str, np.ndarray] = {}
    metrics: dict[str, float] = {}
    sample_s = 0.0
    if status == "ok":
        t_sample = time.perf_counter()
        n = run.sample.get("n", 1000)
        arrays = samples_to_arrays(model.generate(n, gen), data.spec.is_image)
        evaluation = model.evaluate(data, gen)
        arrays.update({f"aux/{k}": np.asarray(v) for k, v in evaluation.arrays.items()})
        metrics = {k: float(v) for k, v in evaluation.metrics.items()}
        sample_s = time.perf_counter() - t_sample
    atomic_save_npz(out / "samples.npz", arrays)
    atomic_write_text(out / "train_log.csv", _csv_text(rows))
    if monitor is not None:
        atomic_write_text(out / "eval_log.csv", _csv_text(evals))
    hp_rows = hparams_lib.provenance_table(hp, run.hparams)
    curve_summary = monitor.summary(evals) if monitor is not None else None
    atomic_write_json(out / "train.json", {
        **run.row(),
        "experiment": run.experiment,
        "profile": profile,
        "status": status,
        "diverged_at_step": diverged_at,
        "steps_done": step,
        "wall_s": round(wall, 3),
        "sample_s": round(sample_s, 3),
        "images_per_s": round(images_per_s, 2),
        "eval_s": round(sum(r["eval_s"] for r in evals), 3),
        "floor_step": curve_summary["floor_step"] if curve_summary else None,
        "curve": curve_summary,
        "config_hash": config_hash,
        "sha256": artefact_hashes(out),  # of model.pt and samples.npz, verified by score
        "grid_point": dict(run.grid_point),
        "metrics": {k: _finite_or_none(v) for k, v in metrics.items()},
        "final_losses": {k: _finite_or_none(v) for k, v in (rows[-1] if rows else {}).items()
                         if k not in ("step", "wall_s", "images_per_s")},
        "parameters": model.parameter_count(),
        "fast_paths": fast_paths,
        "hparams": hp_rows,
        "provenance": provenance(device),
    })
    print(f"[train] {run.id}: {status} after {step} steps, {wall:.1f}s, {images_per_s:.0f} images/s",
          file=sys.stderr)
    return RunOutcome(run.id, status, step, wall, images_per_s)


def _job_context(plan: Plan, job: Job, data_dir: Path, ref_dir: Path | None,
                 workers: int = 1) -> tuple[torch.device, DataSource, CurveReference | None]:
    """The device (threads per process: ``runtime.threads``, or with 0 the process's CPUs
    shared among ``workers``), the job's dataset on it and, with ``ref_dir``, the learning
    curves' reference."""
    device = runtime.configure(plan.params["runtime"], workers)
    data = open_dataset(plan.datasets, job.dataset, data_dir).to(device)
    curve = None
    if job.curve and ref_dir is not None:
        from pipeline.train_monitor import load_curve_reference

        curve = load_curve_reference(plan, job, data_dir, ref_dir)
    elif job.curve:
        print(f"[train] {job.id}: no --ref given; learning curves are not recorded",
              file=sys.stderr)
    return device, data, curve


_WORKER: dict[str, Any] = {}


def _start_worker(plan: Plan, job: Job, data_dir: Path, ref_dir: Path | None, workers: int) -> None:
    _WORKER.update(plan=plan, context=_job_context(plan, job, data_dir, ref_dir, workers))


def _train_in_worker(run: Run, out: Path, ckpt_root: Path) -> RunOutcome:
    plan = _WORKER["plan"]
    device, data, curve = _WORKER["context"]
    return train_run(run, data, out, device, plan.profile, ckpt_root, plan.params["runtime"], curve,
                     in_worker=True)


def train_job(plan: Plan, job: Job, data_dir: Path, out_dir: Path,
              ckpt_root: Path = checkpoint.CHECKPOINT_ROOT,
              ref_dir: Path | None = None) -> list[RunOutcome]:
    """Train every run of ``job`` into ``out_dir/<run-name>/``; checkpoints of the job's
    runs are removed once all of them have finished. With ``ref_dir`` (refs/<dataset>),
    runs with ``train.eval_every`` > 0 record learning curves; without it they do not.

    ``runtime.parallel_runs`` > 1 trains that many runs at once, each in its own process
    (spawned, so CUDA works too): a run's numbers depend only on its seed and its process's
    thread count, never on which runs share the machine."""
    workers = min(int(plan.params["runtime"].get("parallel_runs", 1)), len(job.runs))
    outs = [Path(out_dir) / run.name for run in job.runs]
    if workers <= 1:
        device, data, curve = _job_context(plan, job, data_dir, ref_dir)
        outcomes = [train_run(run, data, out, device, plan.profile, ckpt_root,
                              plan.params["runtime"], curve)
                    for run, out in zip(job.runs, outs)]
    else:
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_worker,
                                   initargs=(plan, job, data_dir, ref_dir, workers))
        with pool:
            futures = [pool.submit(_train_in_worker, run, out, ckpt_root)
                       for run, out in zip(job.runs, outs)]
            outcomes = [f.result() for f in futures]
    for run in job.runs:
        checkpoint.remove(run.id, ckpt_root)
    return outcomes
