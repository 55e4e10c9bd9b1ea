"""Fixtures of the reference / score command tests: a real, trained workspace.

``scoring_workspace`` (session-scoped) holds params.yaml (the tiny params plus
small scoring settings and score blocks), data/ with the fetched toy datasets,
runs/ trained by the real trainer (including a job whose run diverges through
the trainer's NaN fault hook) and refs/ built by the reference stage. Tests
that write into it use their own output paths.
"""

from __future__ import annotations

import copy
import importlib.util
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.config import make_plan

SCORING = {
    "bootstrap_samples": 200, "ci_level": 0.95,
    "n_samples": 150, "is_splits": 3, "kid_subsets": 4, "kid_subset_size": 100, "batch_size": 64,
    "parzen": {"n_samples": 150, "n_validation": 100},
    "classifier": {"epochs": 2, "width": 8, "feature_dim": 16},
}


def scoring_params(tiny_params: dict[str, Any]) -> dict[str, Any]:
    params = copy.deepcopy(tiny_params)
    params["scoring"] = copy.deepcopy(SCORING)
    exps = params["experiments"]
    exps["gan_mnist"]["sample"] = {"n": 120}
    exps["gan_mnist"]["score"] = {"metrics": ["is", "is_mod", "fid", "kid", "prd", "parzen"]}
    exps["gan_ring8"]["score"] = {"metrics": ["modes", "swd", "parzen"]}
    nan = copy.deepcopy(exps["gan_ring8"])
    nan.update(seeds=[0], shard_size=1, score={"metrics": ["modes"]})
    nan["train"]["fault_nan_at_step"] = 3
    exps["gan_ring8_nan"] = nan
    return params


def build_workspace(root: Path, params: dict[str, Any], fetched: Path) -> Path:
    """Train every job of ``params`` and build the references, under ``root``."""
    from pipeline import runtime
    from pipeline.metrics.reference import build_reference
    from pipeline.train import train_job

    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for name in ("ring8", "mnist_subset"):
        shutil.copytree(fetched / name, root / "data" / name)
    plan = make_plan(params)
    for job in plan.jobs:
        train_job(plan, job, root / "data" / job.storage, root / job.out, root / "checkpoints")
    device = runtime.configure(params["runtime"])
    for name in plan.used_datasets():
        build_reference(plan, name, root / "data" / plan.datasets[name].storage, root / "refs" / name, device)
    return root


@pytest.fixture(scope="session")
def scoring_workspace(tmp_path_factory, fetched) -> Path:
    tests_dir = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("root_conftest", tests_dir / "conftest.py")
    root_conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(root_conftest)
    return build_workspace(tmp_path_factory.mktemp("scoring"), scoring_params(root_conftest.TINY_PARAMS), fetched)


@pytest.fixture
def in_workspace(scoring_workspace, monkeypatch) -> Path:
    monkeypatch.chdir(scoring_workspace)
    return scoring_workspace
