"""Device selection, threads, determinism and RNG state.

CPU runs are deterministic: the same params and seed give the same numbers,
and a resumed run restores every RNG it uses. On CUDA the fast paths (TF32,
cuDNN autotuning, bf16 autocast when ``runtime.amp``) trade bit-exactness for
speed; so does ``runtime.compile`` anywhere.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

_FALLBACK: dict[str, str] = {}  # why ``device: auto`` chose the CPU in this process, if it did


def cuda_unavailable_reason() -> str | None:
    """Why CUDA cannot be used here (a CPU-only torch build, a driver too old for the wheel,
    no visible device), or None when it can."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if torch.cuda.is_available():
            return None
    if torch.version.cuda is None:
        return f"torch {torch.__version__} is a CPU-only build"
    said = "; ".join(str(w.message).strip() for w in caught)
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    return said or f"no CUDA device visible (CUDA_VISIBLE_DEVICES={visible!r})"


def select_device(preference: str) -> torch.device:
    """``cpu``, ``cuda`` (an error without CUDA) or ``auto``: CUDA when usable, else the CPU
    with a warning on stderr, kept for the run's record (:func:`device_fallback`): a cluster
    job whose driver is too old for the torch wheel must not train on the CPU unnoticed."""
    if preference == "cpu":
        return torch.device("cpu")
    reason = cuda_unavailable_reason()
    if reason is None:
        return torch.device("cuda")
    if preference == "cuda":
        from pipeline.errors import ConfigError

        raise ConfigError(f"runtime.device = 'cuda' but CUDA is unavailable ({reason}); use 'auto' or 'cpu'")
    _FALLBACK["reason"] = f"cuda unavailable: {reason}"
    print(f"[runtime] warning: device 'auto' falls back to the CPU ({_FALLBACK['reason']})", file=sys.stderr)
    return torch.device("cpu")


def device_fallback() -> str | None:
    """Why ``device: auto`` fell back to the CPU in this process (None if it did not)."""
    return _FALLBACK.get("reason")


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
