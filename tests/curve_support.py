"""Shared by the learning-curve tests: small scoring settings and a reference built with them."""

from __future__ import annotations

import copy
from pathlib import Path

import torch

from pipeline.config import make_plan

SCORING = {
    "bootstrap_samples": 200,
    "ci_level": 0.95,
    "n_samples": 200,
    "is_splits": 4,
    "kid_subsets": 4,
    "kid_subset_size": 100,
    "batch_size": 100,
    "parzen": {"n_samples": 100, "n_validation": 100},
    "classifier": {"epochs": 1, "width": 8, "feature_dim": 16},
}


def curve_params(tiny_params: dict) -> dict:
    """The tiny params with SCORING and a learning curve on gan_mnist (every 3 of 12 steps)."""
    params = copy.deepcopy(tiny_params)
    params["scoring"] = copy.deepcopy(SCORING)
    params["experiments"]["gan_mnist"]["train"].update(eval_every=3, eval_n=60)
    return params


def build_mnist_reference(params: dict, fetched: Path, out: Path) -> Path:
    """refs/mnist_subset of ``params`` (with SCORING: a one-epoch classifier) at ``out``."""
    from pipeline.metrics.reference import build_reference

    build_reference(
        make_plan(params), "mnist_subset", fetched / "mnist_subset", out, torch.device("cpu")
    )
    return out
