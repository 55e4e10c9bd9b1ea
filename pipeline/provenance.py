"""Where a number came from: code version, libraries, machine."""

from __future__ import annotations

import functools
import platform
import subprocess
import sys
from importlib import metadata
from typing import Any

LIBRARIES = ("torch", "torchvision", "numpy", "torch-fidelity", "dvc", "snakemake", "pandas", "scikit-learn")


@functools.cache
def git_commit() -> str:
    """HEAD's commit, with ``+dirty`` when tracked files differ from it; ``unknown`` outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


@functools.cache
def library_versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def device_name(device: Any) -> str:
    if getattr(device, "type", str(device)) == "cuda":
        import torch

        return f"cuda:{torch.cuda.get_device_name(device)}"
    return f"cpu:{platform.processor() or platform.machine()}"


def provenance(device: Any = "cpu") -> dict[str, Any]:
    import os

    torch = sys.modules.get("torch")  # threads of this process, without importing torch for 2D scoring
    runtime = sys.modules.get("pipeline.runtime")  # loaded wherever a device was chosen
    return {
        "git_commit": git_commit(),
        "libraries": library_versions(),
        "device": device_name(device),
        "device_fallback": runtime.device_fallback() if runtime is not None else None,
        "cpu_count": os.cpu_count(),
        "threads": torch.get_num_threads() if torch is not None else None,
        "platform": platform.platform(),
    }
