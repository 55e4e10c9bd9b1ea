"""The ``score`` stage: score every run of one job against its dataset's reference.

Output scores/<exp>/shard<k>.json (valid JSON: non-finite numbers become null)::

    {"job", "experiment", "profile", "wall_s",
     "runs": [{"run_id", "paper", "model", "variant", "dataset", "seed", "config",
               "grid_point", "status", "score_s",
               "metrics": {"<set>/<output>": ..., "run/<name>": ..., "run/failed": 0 | 1},
               "train": {"wall_s", "images_per_s", "steps_done", "sample_s"},
               "provenance": {"train": {...}, "score": {...}, "config_hash", "n_scored",
                              "metrics", "extractor", "reference_sha256"}}]}

Every sample set in samples.npz (keys without ``aux/``) gets the metrics of the
experiment's ``score: {metrics: [...]}`` (default: by data type,
:data:`pipeline.metrics.registry.DEFAULT_METRICS`) on its first ``score.n``
samples (default: ``scoring.n_samples`` for images, all samples of 2D sets, whose
protocol size is the experiment's ``sample.n``). Evaluation metrics of train.json
become ``run/<name>``. A diverged run (or one whose samples hold non-finite
values) gets ``run/failed`` = 1 and null sample metrics; a diverged run has no
samples, so its set names are those of the job's successful runs (``G`` when
none succeeded): the aggregate counts it as failed instead of dropping it. A
successful run without sample sets (a model with no generator) gets only
``run/*`` metrics.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import Job, Plan, Run
from pipeline.data.manifest import sha256_file
from pipeline.errors import PipelineError
from pipeline.io import read_json
from pipeline.metrics import scoring
from pipeline.metrics.registry import data_type, output_names, resolve_metrics
from pipeline.metrics.settings import ScoringSettings, as_dict, load_settings
from pipeline.provenance import provenance

TRAIN_KEYS = ("wall_s", "images_per_s", "steps_done", "sample_s")


class ScoreInputError(PipelineError):
    """A run folder or reference the score stage needs is missing or stale."""


def load_reference(ref_dir: Path, dataset: str, settings: ScoringSettings) -> dict[str, Any]:
    path = Path(ref_dir) / scoring.REFERENCE_JSON
    fix = f"run `python -m pipeline reference {dataset} --data data/<storage> --out {ref_dir}` (or `dvc repro`)"
    if not path.is_file():
        raise ScoreInputError(f"reference of {dataset!r} missing: {path}; {fix}")
    ref = read_json(path)
    if ref.get("dataset") != dataset:
        raise ScoreInputError(f"{path} is the reference of {ref.get('dataset')!r}, not {dataset!r}; {fix}")
    if ref.get("scoring") != scoring.json_safe(as_dict(settings)):
        raise ScoreInputError(f"{path} was built with other scoring settings than params.yaml's; {fix}")
    return ref


def real_context(plan: Plan, job: Job, metrics: tuple[str, ...], data_dir: Path, ref_dir: Path,
                 ref: dict[str, Any], settings: ScoringSettings) -> scoring.RealContext:
    """Load only what ``metrics`` need (torch only for image data or Parzen)."""
    dtype = data_type(plan.datasets[job.dataset].kind)
    ctx = scoring.RealContext(settings)
    if dtype != "image":
        ctx.real_points = np.load(Path(ref_dir) / scoring.REAL_POINTS)
        if dtype == "mixture":
            ctx.centres, ctx.std = np.asarray(ref["mixture"]["centres"]), float(ref["mixture"]["std"])
        if "parzen" in metrics:
            import torch

            ctx.parzen = scoring.parzen_sets(torch.from_numpy(ctx.real_points).double(), None,
                                             settings.parzen.n_validation, job.dataset)
        return ctx
    from pipeline import runtime
    from pipeline.metrics import extractors as ex

    ctx.device = runtime.configure(plan.params["runtime"])
    info = ref["extractor_info"]
    weights = Path(ref_dir) / info["weights"] if ref["extractor"] == ex.CLASSIFIER else \
        ex.inception_weights(settings.inception_weights)
    if sha256_file(weights) != info["weights_sha256"]:
        raise ScoreInputError(f"{weights}: not the extractor weights the reference of {job.dataset!r} was built "
                              f"with (sha256 differs); rebuild the reference")
    ctx.extractor = ex.create_extractor(ref["extractor"], weights, ctx.device)
    ctx.real_features, ctx.real_stats = scoring.load_real_features(ref_dir)
    if "parzen" in metrics:
        from pipeline.data.loader import open_dataset

        data = open_dataset(plan.datasets, job.dataset, data_dir)
        val = data.validation()
        ctx.parzen = scoring.parzen_sets(data.heldout()[0].double(), None if val is None else val[0].double(),
                                         settings.parzen.n_validation, job.dataset)
    return ctx


def _sample_sets(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as z:
        return {k: z[k] for k in sorted(z.files) if not k.startswith("aux/")}


def score_run(run: Run, run_dir: Path, metrics: tuple[str, ...], n: int | None, ctx: scoring.RealContext | None,
              null_sets: list[str]) -> dict[str, Any]:
    """One run's entry of the score file (``ctx`` None: no run of the job has samples).
    A failed run without samples gets null metrics for ``null_sets``."""
    start = time.perf_counter()
    train_path = run_dir / "train.json"
    if not train_path.is_file():
        raise ScoreInputError(f"run {run.id}: {train_path} missing; train job {run.job} first "
                              f"(`python -m pipeline train {run.job} ...` or `dvc repro`)")
    train = read_json(train_path)
    sets = _sample_sets(run_dir / "samples.npz") if train["status"] == "ok" else {}
    values: dict[str, Any] = {}
    n_scored: dict[str, int] = {}
    failed = train["status"] != "ok"
    for name, samples in sets.items():
        subset = samples[:n]
        if subset.dtype.kind == "f" and not np.isfinite(subset).all():
            print(f"[score] {run.id}: set {name} holds non-finite values; counted as failed", file=sys.stderr)
            failed = True
            continue
        if n is not None and len(subset) < n:
            print(f"[score] {run.id}: set {name} has {len(subset)} samples (< {n}); scoring all of them",
                  file=sys.stderr)
        n_scored[name] = len(subset)
        values.update({f"{name}/{k}": v for k, v in scoring.score_set(subset, metrics, ctx).items()})
    if failed:
        values = {key: None for name in (list(sets) or null_sets) for key in output_names(metrics, name)}
    values.update({f"run/{k}": v for k, v in (train.get("metrics") or {}).items()})
    values["run/failed"] = 1 if failed else 0
    return {
        **{k: v for k, v in run.row().items() if k in ("run_id", "paper", "model", "variant", "dataset", "seed",
                                                        "config")},
        "grid_point": dict(run.grid_point),
        "status": "failed" if failed and train["status"] == "ok" else train["status"],
        "metrics": values,
        "train": {k: train.get(k) for k in TRAIN_KEYS},
        "score_s": round(time.perf_counter() - start, 3),
        "provenance": {"train": train.get("provenance"), "config_hash": train.get("config_hash"),
                       "n_scored": n_scored, "metrics": list(metrics)},
    }


def score_job(plan: Plan, job: Job, runs_dir: Path, data_dir: Path, ref_dir: Path) -> dict[str, Any]:
    """The score file's content for ``job`` (see the module docstring)."""
    start = time.perf_counter()
    settings = load_settings(plan.params.get("scoring"))
    kind = plan.datasets[job.dataset].kind
    exp = plan.params["experiments"][job.experiment]
    metrics = resolve_metrics(exp.get("score"), kind, f"experiments.{job.experiment}")
    n = (exp.get("score") or {}).get("n", settings.n_samples if data_type(kind) == "image" else None)
    ref = load_reference(ref_dir, job.dataset, settings)
    run_dirs = {run.id: Path(runs_dir) / run.name for run in job.runs}
    ok_sets = [_ok_sets(run_dirs[run.id]) for run in job.runs]
    set_names = sorted({name for names in ok_sets if names for name in names})
    ctx = real_context(plan, job, metrics, data_dir, ref_dir, ref, settings) if set_names else None
    null_set_names = set_names if any(names is not None for names in ok_sets) else ["G"]
    entries = [score_run(run, run_dirs[run.id], metrics, n, ctx, null_set_names) for run in job.runs]
    device = ctx.device if ctx is not None and ctx.device is not None else "cpu"
    ref_sha = sha256_file(Path(ref_dir) / scoring.REFERENCE_JSON)
    for entry in entries:
        entry["provenance"].update(score=provenance(device), extractor=ref.get("extractor", ""),
                                   reference_sha256=ref_sha)
    return scoring.json_safe({"job": job.id, "experiment": job.experiment, "profile": plan.profile,
                   "wall_s": round(time.perf_counter() - start, 3), "runs": entries})


def _ok_sets(run_dir: Path) -> list[str] | None:
    """Sample-set names of a successful run (None for a diverged or missing run)."""
    train_path = run_dir / "train.json"
    if not train_path.is_file() or read_json(train_path).get("status") != "ok":
        return None
    with np.load(run_dir / "samples.npz") as z:
        return [k for k in z.files if not k.startswith("aux/")]
