"""Score files + real-data references -> one tidy table, seed statistics, headline metrics.

- ``runs.csv``: one row per (run, metric): run_id, paper, experiment, model,
  variant, dataset, dataset_kind, seed, config, grid_point (JSON), status,
  metric, value. Metrics are the score file's (``G/is``, ``run/test_error``,
  ...) and ``run/failed`` (1 for a diverged run, whose other metrics are
  empty). The real-data ceiling of every dataset
  (``refs/<dataset>/reference.json``) adds rows with variant ``real data`` and
  metrics ``real/<name>``. The quality floor (``scoring.quality_floor``, see
  :meth:`pipeline.metrics.settings.ScoringSettings.floor_for`) is written as data:
  ``real/is_floor`` = the dataset's floor fraction x its ``real/is`` (datasets
  with a real-data IS only), and every run gets ``<set>/learned`` for each
  sample set it scores an IS for (``G/is`` -> ``G/learned``): 1 when that IS
  reaches the floor, 0 when it is below or missing (a failed run). Runs of
  datasets without a floor (2D toys) and sets without an IS have no
  ``learned`` row: not applicable, not below. These numbers are a function of
  the code, params and seeds only: a rerun anywhere reproduces the file byte
  for byte.
- ``timings.csv``: the same columns for what depends on the machine: the
  training budget ``train/wall_s``, ``train/images_per_s``,
  ``train/steps_done``, ``train/sample_s``, ``train/s_per_step``, and the score
  stage's time ``score/wall_s`` (the run's ``score_s``, else the file's
  ``wall_s`` shared equally among its runs) when recorded, and a model's own
  timings: evaluate() metrics named ``time_*`` (``run/time_*``).
  :func:`read_aggregate` returns both tables as one.
- ``summary.csv``: over both tables, per (paper, experiment, model, variant,
  dataset, dataset_kind, metric): n_runs, n_failed, n (finite values), mean, std
  (ddof 1) and the bootstrap CI of the mean (:mod:`pipeline.report.stats`;
  ``scoring.bootstrap_samples``, ``scoring.ci_level``; deterministic).
- ``metrics.json``: flat headline numbers for ``dvc metrics show``: the mean of
  every scored metric per experiment (``<exp>/G/learned``: the fraction of its
  runs that learned) and the real-data values per dataset (``real/<dataset>/is_floor``).

Every run of the plan must have its score: a missing score file or run is an
error that names the job and the fix. With ``allow_missing`` (``aggregate
--allow-missing``, the cluster profile's default) such runs get one row instead,
status ``missing`` and metric ``run/missing`` = 1, and everything else is
computed from what was scored: one timed-out job does not block the report.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.config import Job, Plan, canonical_json
from pipeline.errors import PipelineError
from pipeline.metrics.settings import ScoringSettings, load_settings
from pipeline.report import stats

RUN_COLUMNS = ["run_id", "paper", "experiment", "model", "variant", "dataset", "dataset_kind", "seed",
               "config", "grid_point", "status", "metric", "value"]
GROUP_KEYS = ["paper", "experiment", "model", "variant", "dataset", "dataset_kind", "metric"]
SUMMARY_COLUMNS = GROUP_KEYS + ["n_runs", "n_failed", "n", "mean", "std", "ci_low", "ci_high"]
TRAIN_METRICS = ("wall_s", "images_per_s", "steps_done", "sample_s")
REAL_VARIANT = "real data"
FLOOR_METRIC = "real/is_floor"  # the quality floor of a dataset, in IS units
LEARNED = "learned"  # ``<set>/learned``: 1 when the set's IS reaches the floor, else 0
MISSING = "missing"  # status of a planned run without a score (``allow_missing`` only)


class MissingScoresError(PipelineError):
    """A planned run has no score: names the job and how to produce it."""


def _number(value: Any) -> float:
    if value is None:
        return math.nan
    try:
        x = float(value)
    except (TypeError, ValueError):
        return math.nan
    return x if math.isfinite(x) else math.nan


def score_path(scores_dir: Path, job: Job) -> Path:
    """``scores/<exp>/shard<k>.json`` of ``job`` under ``scores_dir``."""
    return Path(scores_dir) / Path(job.scores).relative_to("scores")


def _fix_hint(job: Job) -> str:
    return (f"produce it with `python -m pipeline score {job.id} --runs {job.out} --data data/{job.storage} "
            f"--ref refs/{job.dataset} --out {job.scores}` (or `dvc repro`); if params.yaml changed since "
            "runs.yaml was written, regenerate it first with `python -m pipeline plan --write`")


def _load_job_scores(scores_dir: Path, job: Job) -> tuple[dict[str, dict[str, Any]], float]:
    """The job's score entries by run id, and the score stage's wall time per run (NaN when
    the file does not record it)."""
    path = score_path(scores_dir, job)
    if not path.is_file():
        raise MissingScoresError(f"job {job.id}: no score file {path}; {_fix_hint(job)}")
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise MissingScoresError(f"job {job.id}: {path} is not valid JSON ({exc}); {_fix_hint(job)}") from None
    by_id = {r.get("run_id"): r for r in doc.get("runs", [])}
    missing = [r.id for r in job.runs if r.id not in by_id]
    if missing:
        raise MissingScoresError(
            f"job {job.id}: {path} has no scores for run(s) {', '.join(missing)} (stale score file); "
            f"{_fix_hint(job)}"
        )
    return by_id, _number(doc.get("wall_s")) / max(len(by_id), 1)


TIMING_PREFIX = "run/time_"  # evaluate() metrics measured in time: machine-dependent


def _run_metrics(entry: Mapping[str, Any]) -> dict[str, float]:
    status = entry.get("status", "ok")
    metrics = {k: _number(v) for k, v in (entry.get("metrics") or {}).items() if not k.startswith(TIMING_PREFIX)}
    if status == MISSING:  # not scored: neither failed nor ok
        return metrics
    if "run/failed" not in metrics or math.isnan(metrics["run/failed"]):
        metrics["run/failed"] = 0.0 if status == "ok" else 1.0
    return metrics


def _run_timings(entry: Mapping[str, Any], score_share: float = math.nan) -> dict[str, float]:
    metrics = {k: _number(v) for k, v in (entry.get("metrics") or {}).items() if k.startswith(TIMING_PREFIX)}
    train = entry.get("train") or {}
    for key in TRAIN_METRICS:
        if key in train:
            metrics[f"train/{key}"] = _number(train[key])
    wall, steps = _number(train.get("wall_s")), _number(train.get("steps_done"))
    if steps > 0 and not math.isnan(wall):
        metrics["train/s_per_step"] = wall / steps
    score_s = _number(entry.get("score_s", score_share))
    if not math.isnan(score_s):
        metrics["score/wall_s"] = score_s
    return metrics


def _flatten(prefix: str, obj: Any) -> Iterable[tuple[str, float]]:
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            yield from _flatten(f"{prefix}/{k}", v)
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield prefix, _number(obj)


def reference_metrics(doc: Mapping[str, Any]) -> dict[str, float]:
    """``real/<name>`` values of a reference.json: every number under ``real`` plus the
    top-level numbers (e.g. ``classifier_accuracy``) except timings (``wall_s``, ``*_s``:
    machine-dependent, shown in the report's provenance); other keys are ignored."""
    out = dict(_flatten("real", doc.get("real") or {}))
    for k, v in doc.items():
        if k != "real" and not k.endswith("_s") and isinstance(v, (int, float)) and not isinstance(v, bool):
            out[f"real/{k}"] = _number(v)
    return out


def quality_floor(dataset: str, real: Mapping[str, float], scoring: ScoringSettings) -> dict[str, float]:
    """``{real/is_floor: fraction x real/is}`` of one dataset's reference metrics; empty when
    the dataset has no finite real-data IS (2D toys)."""
    real_is = real.get("real/is", math.nan)
    return {FLOOR_METRIC: scoring.floor_for(dataset) * real_is} if math.isfinite(real_is) else {}


def learned_metrics(metrics: Mapping[str, float], floor: float | None) -> dict[str, float]:
    """``<set>/learned`` of a run for each ``<set>/is`` among its metrics: 1.0 when the IS is
    >= ``floor``, 0.0 when it is below or missing (NaN: a failed run); empty without a floor."""
    if floor is None:
        return {}
    suffix = "/is"
    return {f"{m.removesuffix(suffix)}/{LEARNED}": float(v >= floor)
            for m, v in metrics.items() if m.endswith(suffix)}


def _job_scores_or_missing(scores_dir: Path, job: Job, allow_missing: bool
                           ) -> tuple[dict[str, dict[str, Any]], float]:
    """:func:`_load_job_scores`; with ``allow_missing`` a job without (valid) scores is
    reported on stderr and gives no entries, and a stale file only the runs it has."""
    try:
        return _load_job_scores(scores_dir, job)
    except MissingScoresError as exc:
        if not allow_missing:
            raise
        print(f"[aggregate] missing: {exc}", file=sys.stderr)
    path = score_path(scores_dir, job)
    try:
        doc = json.loads(path.read_text()) if path.is_file() else {}
    except json.JSONDecodeError:
        doc = {}
    return {r.get("run_id"): r for r in doc.get("runs", [])}, _number(doc.get("wall_s"))


def run_rows(plan: Plan, scores_dir: Path | str, floors: Mapping[str, float] | None = None,
             allow_missing: bool = False) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Score rows and timing rows of every planned run (raises MissingScoresError naming the
    first job without scores, or with ``allow_missing`` gives such runs one ``run/missing``
    row); ``floors`` (dataset -> IS floor) adds the runs' ``<set>/learned``."""
    rows: list[dict[str, Any]] = []
    timings: list[dict[str, Any]] = []
    for job in plan.jobs:
        by_id, score_share = _job_scores_or_missing(Path(scores_dir), job, allow_missing)
        for run in job.runs:
            entry = by_id.get(run.id, {"status": MISSING, "metrics": {"run/missing": 1.0}})
            base = {
                "run_id": run.id, "paper": run.paper, "experiment": run.experiment, "model": run.model,
                "variant": run.variant, "dataset": run.dataset, "dataset_kind": plan.datasets[run.dataset].kind,
                "seed": run.seed, "config": "" if run.config_index is None else run.config_index,
                "grid_point": canonical_json(dict(run.grid_point)), "status": entry.get("status", "ok"),
            }
            metrics = _run_metrics(entry)
            metrics |= learned_metrics(metrics, (floors or {}).get(run.dataset))
            rows += [{**base, "metric": m, "value": v} for m, v in sorted(metrics.items())]
            if base["status"] != MISSING:
                timings += [{**base, "metric": m, "value": v}
                            for m, v in sorted(_run_timings(entry, score_share).items())]
    return rows, timings


def reference_rows(plan: Plan, refs_dir: Path | str) -> list[dict[str, Any]]:
    """The real-data rows of every used dataset with a reference.json, its quality floor
    included (``real/is_floor``)."""
    scoring = load_settings(plan.params.get("scoring"))
    rows = []
    for name in plan.used_datasets():
        path = Path(refs_dir) / name / "reference.json"
        if not path.is_file():
            print(f"[aggregate] note: {path} not found; no real-data ceiling for {name}", file=sys.stderr)
            continue
        base = {"run_id": f"reference/{name}", "paper": "", "experiment": "", "model": "",
                "variant": REAL_VARIANT, "dataset": name, "dataset_kind": plan.datasets[name].kind,
                "seed": "", "config": "", "grid_point": "{}", "status": "ok"}
        metrics = reference_metrics(json.loads(path.read_text()))
        metrics |= quality_floor(name, metrics, scoring)
        rows += [{**base, "metric": m, "value": v} for m, v in sorted(metrics.items())]
    return rows


def runs_table(plan: Plan, scores_dir: Path | str, refs_dir: Path | str, allow_missing: bool = False
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(scores with the real-data ceilings, timings), both in the RUN_COLUMNS layout."""
    references = reference_rows(plan, refs_dir)
    floors = {r["dataset"]: r["value"] for r in references if r["metric"] == FLOOR_METRIC}
    rows, timings = run_rows(plan, scores_dir, floors, allow_missing)
    return (pd.DataFrame(rows + references, columns=RUN_COLUMNS),
            pd.DataFrame(timings, columns=RUN_COLUMNS))


def summarise(runs: pd.DataFrame, samples: int, level: float, keys: Sequence[str] = GROUP_KEYS) -> pd.DataFrame:
    """Seed statistics per ``keys`` (which must include ``metric``); sections may add keys
    such as ``config`` for per-configuration means of a grid."""
    out = []
    for group_key, g in runs.groupby(list(keys), sort=False, dropna=False):
        record = dict(zip(keys, group_key))
        values = g["value"].to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        ci = stats.mean_ci(finite, samples, level, "summary/" + "/".join(str(v) for v in group_key))
        record.update(
            n_runs=int(g["run_id"].nunique()),
            n_failed=int((g.drop_duplicates("run_id")["status"] != "ok").sum()),
            n=len(finite),
            mean=ci.estimate,
            std=float(np.std(finite, ddof=1)) if len(finite) > 1 else math.nan,
            ci_low=ci.low,
            ci_high=ci.high,
        )
        out.append(record)
    return pd.DataFrame(out, columns=list(keys) + SUMMARY_COLUMNS[len(GROUP_KEYS):])


def headline_metrics(summary: pd.DataFrame, runs: pd.DataFrame) -> dict[str, float | int]:
    """Flat dict for ``dvc metrics show``: ``<experiment>/<metric>`` means (timings
    excluded) and ``real/<dataset>/<name>`` ceilings, plus run counts."""
    out: dict[str, float | int] = {}
    planned = runs[runs["variant"] != REAL_VARIANT].drop_duplicates("run_id")
    out["runs"] = len(planned)
    out["runs_failed"] = int((~planned["status"].isin(["ok", MISSING])).sum())
    out["runs_missing"] = int((planned["status"] == MISSING).sum())
    for r in summary.itertuples(index=False):
        if not math.isfinite(r.mean) or str(r.metric).startswith(("train/", "score/")):
            continue
        if r.variant == REAL_VARIANT:
            out[f"real/{r.dataset}/{str(r.metric).removeprefix('real/')}"] = round(float(r.mean), 6)
        else:
            out[f"{r.experiment}/{r.metric}"] = round(float(r.mean), 6)
    return out


def write_aggregate(plan: Plan, scores_dir: Path | str, refs_dir: Path | str, out_dir: Path | str,
                    samples: int, level: float, allow_missing: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    from pipeline.io import atomic_write_json, atomic_write_text

    runs, timings = runs_table(plan, scores_dir, refs_dir, allow_missing)
    summary = summarise(pd.concat([runs, timings], ignore_index=True), samples, level)
    out_dir = Path(out_dir)
    atomic_write_text(out_dir / "runs.csv", runs.to_csv(index=False))
    atomic_write_text(out_dir / "timings.csv", timings.to_csv(index=False))
    atomic_write_text(out_dir / "summary.csv", summary.to_csv(index=False))
    atomic_write_json(out_dir / "metrics.json", headline_metrics(summary, runs))
    return runs, summary


def _without_floor(runs: pd.DataFrame) -> list[str]:
    """Datasets with a finite real-data IS but no ``real/is_floor`` row."""
    real = runs[(runs["metric"] == "real/is") & np.isfinite(runs["value"].to_numpy(float))]
    return sorted(set(real["dataset"]) - set(runs[runs["metric"] == FLOOR_METRIC]["dataset"]))


def read_aggregate(directory: Path | str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """runs.csv (with timings.csv appended) and summary.csv back as DataFrames (string keys
    kept as strings). A runs.csv written before the quality floor existed is an error: its
    verdicts would judge generators that have not learned."""
    directory = Path(directory)
    for name in ("runs.csv", "timings.csv", "summary.csv"):
        if not (directory / name).is_file():
            raise PipelineError(f"{directory / name} not found: run `python -m pipeline aggregate` first")
    text_cols = {c: str for c in ("run_id", "paper", "experiment", "model", "variant", "dataset",
                                  "dataset_kind", "seed", "config", "grid_point", "status", "metric")}
    runs = pd.concat([pd.read_csv(directory / name, dtype=text_cols, keep_default_na=False,
                                  na_values={"value": ["", "NaN", "nan"]}) for name in ("runs.csv", "timings.csv")],
                     ignore_index=True)
    stale = _without_floor(runs)
    if stale:
        raise PipelineError(f"{directory / 'runs.csv'} has no quality floor ({FLOOR_METRIC}) for "
                            f"{', '.join(stale)}: it predates scoring.quality_floor; rerun "
                            "`python -m pipeline aggregate`")
    summary = pd.read_csv(directory / "summary.csv", dtype=text_cols, keep_default_na=False,
                          na_values={c: ["", "NaN", "nan"] for c in SUMMARY_COLUMNS[len(GROUP_KEYS):]})
    return runs, summary
