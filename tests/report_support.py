"""A tiny tree of pipeline outputs for the aggregate / report tests.

``build_tree(root, params)`` writes, for every planned run of ``params``,
``scores/<exp>/shard<k>.json`` (the score stage's format), the run folder
``runs/<exp>/shard<k>/<run>/`` (samples.npz, train_log.csv, train.json) and
``refs/<dataset>/reference.json``. Metric values are a known function of the
seed so tests can check statistics exactly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import make_plan
from pipeline.hparams import build, provenance_table
from pipeline.registry import hparams_class

PROVENANCE = {"git_commit": "abc123", "libraries": {"torch": "2.14.1", "numpy": "2.0"}, "device": "cpu:x86_64",
              "cpu_count": 2, "platform": "Linux"}


def metric_values(experiment: str, seed: int) -> dict[str, float]:
    """The fake scores of a run: image metrics for MNIST, mode metrics for ring-8."""
    if "ring8" in experiment:
        return {"G/modes": 8.0 - (seed % 2), "G/hq_fraction": 0.8 + 0.01 * seed, "G/kl_uniform": 0.05 * seed}
    return {"G/is": 5.0 + seed, "G/is_mod": 1.0 + 0.1 * seed, "G/fid": 30.0 - seed,
            "G/parzen_ll": 200.0 + 2 * seed, "G/parzen_se": 2.0}


def build_tree(root: Path, params: dict[str, Any], diverged: tuple[str, ...] = (),
               skip_jobs: tuple[str, ...] = ()) -> Path:
    """Write the fake outputs of ``params`` under ``root``; runs named in ``diverged`` are
    marked diverged (null metrics); jobs in ``skip_jobs`` get no score file."""
    plan = make_plan(params)
    rng = np.random.default_rng(0)
    for job in plan.jobs:
        entries = []
        for run in job.runs:
            status = "diverged" if run.id in diverged else "ok"
            metrics: dict[str, Any] = metric_values(run.experiment, run.seed)
            if status != "ok":
                metrics = {k: None for k in metrics}
            metrics["run/failed"] = 0 if status == "ok" else 1
            train = {"wall_s": 10.0 + run.seed, "images_per_s": 1000.0, "steps_done": run.train["steps"],
                     "sample_s": 1.0}
            entries.append({"run_id": run.id, "paper": run.paper, "model": run.model, "variant": run.variant,
                            "dataset": run.dataset, "seed": run.seed, "config": run.config_index,
                            "grid_point": dict(run.grid_point), "status": status, "metrics": metrics,
                            "train": train, "provenance": PROVENANCE})
            folder = root / job.out / run.name
            folder.mkdir(parents=True, exist_ok=True)
            if plan.datasets[run.dataset].kind == "ring8":
                samples = {"G": rng.normal(size=(200, 2)).astype(np.float32)}
            else:
                samples = {"G": rng.integers(0, 256, size=(16, 1, 28, 28), dtype=np.uint8)}
            np.savez_compressed(folder / "samples.npz", **(samples if status == "ok" else {}))
            steps = np.arange(1, 4) * 10
            (folder / "train_log.csv").write_text(
                "step,loss_d,loss_g,wall_s,images_per_s\n"
                + "".join(f"{s},{1.0 / s},{2.0 / s},{s / 10},{1000}\n" for s in steps))
            hp = build(hparams_class(run.model), run.hparams, "hparams")
            exp_hp = params["experiments"][run.experiment].get("hparams") or {}
            (folder / "train.json").write_text(json.dumps({
                "status": status, "wall_s": train["wall_s"], "hparams": provenance_table(hp, exp_hp),
                "provenance": PROVENANCE}, default=list))
        if job.id in skip_jobs:
            continue
        path = root / job.scores
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"job": job.id, "experiment": job.experiment, "profile": plan.profile,
                                    "wall_s": 4.0, "runs": entries}))
    for name in plan.used_datasets():
        kind = plan.datasets[name].kind
        real = ({"modes": 8, "hq_fraction": 0.989, "kl_uniform": 0.001} if kind == "ring8"
                else {"is": 9.5, "is_mod": 2.2, "fid": 0.5, "parzen_ll": 300.0})
        ref = {"dataset": name, "kind": kind, "extractor": "mnist-classifier", "real": real}
        if kind != "ring8":
            ref["classifier_accuracy"] = 0.985
        (root / "refs" / name).mkdir(parents=True, exist_ok=True)
        (root / "refs" / name / "reference.json").write_text(json.dumps(ref))
    return root
