"""Device selection, threads, determinism and RNG state.

CPU runs are deterministic: the same params and seed give the same numbers,
and a resumed run restores every RNG it uses. On CUDA the fast paths (TF32,
cuDNN autotuning, bf16 autocast when ``runtime.amp``) trade bit-exactness for
speed.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch


def select_device(preference: str) -> torch.device:
    if preference == "cuda" and not torch.cuda.is_available():
        from pipeline.errors import ConfigError

        raise ConfigError("runtime.device = 'cuda' but no CUDA device is visible; use 'auto' or 'cpu'")
    if preference == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda")


def configure(runtime: Mapping[str, Any]) -> torch.device:
    """Apply params.yaml's ``runtime`` section and return the device to use."""
    device = select_device(runtime.get("device", "auto"))
    threads = runtime.get("threads", 0) or os.cpu_count() or 1
    torch.set_num_threads(threads)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    else:
        torch.use_deterministic_algorithms(True, warn_only=True)
    return device


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Mapping[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
