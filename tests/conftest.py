"""Shared fixtures: tiny params, fetched toy datasets in temporary folders."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _one_thread():
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


TINY_PARAMS = {
    "profile": "test",
    "runtime": {"device": "cpu", "threads": 1},
    "datasets": {
        "ring8": {"kind": "ring8", "geometry": "dcd", "n_heldout": 200},
        "mnist_subset": {"kind": "mnist_offline", "test_size": 1000, "split_seed": 0},
    },
    "scoring": {"bootstrap_samples": 200, "ci_level": 0.95},
    "experiments": {
        "gan_ring8": {
            "paper": "gan",
            "model": "gan",
            "variant": "mlp2d",
            "dataset": "ring8",
            "seeds": [0, 1],
            "shard_size": 2,
            "hparams": {"arch": "mlp2d", "z_dim": 2, "z_dist": "normal", "g_hidden": [16], "d_hidden": [16],
                        "optimizer": "adam", "lr": 0.001, "lr_decay": 1.0},
            "train": {"steps": 30, "batch_size": 32, "log_every": 10, "checkpoint_every": 10},
            "sample": {"n": 100},
        },
        "gan_mnist": {
            "paper": "gan",
            "model": "gan",
            "dataset": "mnist_subset",
            "seeds": [3],
            "hparams": {"g_hidden": [32], "d_hidden": [16]},
            "train": {"steps": 12, "batch_size": 20, "log_every": 4, "checkpoint_every": 4},
            "sample": {"n": 50},
        },
    },
}


@pytest.fixture
def tiny_params() -> dict:
    return copy.deepcopy(TINY_PARAMS)


@pytest.fixture(scope="session")
def fetched(tmp_path_factory) -> Path:
    """data/ with ring8 and mnist_subset fetched once per session (read-only for tests)."""
    from pipeline.config import make_plan
    from pipeline.data.fetch import fetch

    root = tmp_path_factory.mktemp("data")
    plan = make_plan(copy.deepcopy(TINY_PARAMS))
    for name in ("ring8", "mnist_subset"):
        fetch(plan.datasets[name], root / name)
    return root


@pytest.fixture
def workdir(tmp_path, monkeypatch, tiny_params) -> Path:
    """A temporary working directory holding params.yaml (the tiny params)."""
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(tiny_params, sort_keys=False))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def copy_dataset(fetched, tmp_path):
    """copy_dataset(name) -> a private, writable copy of a fetched dataset folder."""

    def _copy(name: str) -> Path:
        shutil.copytree(fetched / name, tmp_path / "copies" / name)
        return tmp_path / "copies" / name

    return _copy
