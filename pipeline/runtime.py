"""Device selection, threads, determinism and RNG state.

CPU runs are deterministic: the same params and seed give the same numbers,
and a resumed run restores every RNG it uses. On CUDA the fast paths (TF32,
cuDNN autotuning, bf16 autocast when ``runtime.amp``) trade bit-exactness for
speed; so does ``runtime.compile`` anywhere.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn


def select_device(preference: str) -> torch.device:
    if preference == "cuda" and not torch.cuda.is_available():
        from pipeline.errors import ConfigError

        raise ConfigError("runtime.device = 'cuda' but no CUDA device is visible; use 'auto' or 'cpu'")
    if preference == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda")


def available_cpus() -> int:
    """CPUs this process may run on (its affinity: what SLURM or taskset granted), not the
    node's core count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity API (macOS, Windows)
        return os.cpu_count() or 1


def thread_count(runtime: Mapping[str, Any], processes: int = 1) -> int:
    """``runtime.threads``, or with 0 the available CPUs shared among ``processes``."""
    return int(runtime.get("threads", 0)) or max(1, available_cpus() // max(1, processes))


def configure(runtime: Mapping[str, Any], processes: int = 1) -> torch.device:
    """Apply params.yaml's ``runtime`` section in one of ``processes`` processes training
    side by side, and return the device to use."""
    device = select_device(runtime.get("device", "auto"))
    torch.set_num_threads(thread_count(runtime, processes))
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


def _to_float(out: Any) -> Any:
    if isinstance(out, torch.Tensor):
        return out.float() if out.is_floating_point() else out
    if isinstance(out, (tuple, list)):
        return type(out)(_to_float(o) for o in out)
    return out


def autocast_forwards(nets: Mapping[str, nn.Module], device_type: str,
                      dtype: torch.dtype = torch.bfloat16) -> list[str]:
    """Run the forward pass of every net holding Linear / conv layers under autocast(``dtype``),
    returning float32 outputs: matmuls and convolutions run in bf16, the losses and every
    other computation (memories, RBMs, Langevin updates) stay in float32. bf16 has float32's
    exponent range, so no loss scaling is needed. Returns the names of the wrapped nets."""
    wrapped = []
    for name, net in nets.items():
        if not _has_layers(net):
            continue
        forward = torch.autocast(device_type=device_type, dtype=dtype)(net.forward)
        net.forward = lambda *a, _f=forward, **k: _to_float(_f(*a, **k))
        wrapped.append(name)
    return wrapped


def _has_layers(net: nn.Module) -> bool:
    return any(isinstance(m, (nn.Linear, nn.modules.conv._ConvNd)) for m in net.modules())


def accelerate(nets: Mapping[str, nn.Module], device: torch.device, settings: Mapping[str, Any]) -> list[str]:
    """The optional fast paths of params.yaml's ``runtime``: ``amp`` (CUDA only; see
    :func:`autocast_forwards`) and ``compile`` (``torch.compile`` of each net with Linear / conv
    layers; off by default: on a 2-core CPU it made the smoke nets slower, reports/bench.md).
    Both change float rounding, so runs using them are not bit-identical to runs without.
    Returns what was applied, for the run's record."""
    applied = []
    if settings.get("amp") and device.type == "cuda":
        applied += [f"amp:{name}" for name in autocast_forwards(nets, "cuda")]
    if settings.get("compile"):
        for name, net in nets.items():
            if _has_layers(net):
                net.compile()
                applied.append(f"compile:{name}")
    return applied
