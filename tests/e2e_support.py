"""Helpers shared by the end-to-end tests (importable because pytest's
``pythonpath`` includes tests/)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from pipeline.benchmark.workflow import copy_tracked_files
from pipeline.report.aggregate import TIMING_PREFIX

TIMING_KEYS = {"wall_s", "score_s", "sample_s", "images_per_s", "provenance", "train"}


clone = copy_tracked_files  # the tracked files (working-tree versions) as a fresh git repository


def run(cmd: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1", **env})
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def strip_timing(obj):
    """A score file without the fields that legitimately differ between runs (timing, provenance,
    and the ``run/time_*`` metrics that the aggregate stage also sets apart as machine-dependent)."""
    if isinstance(obj, dict):
        return {k: strip_timing(v) for k, v in obj.items() if k not in TIMING_KEYS and not k.startswith(TIMING_PREFIX)}
    if isinstance(obj, list):
        return [strip_timing(v) for v in obj]
    return obj


def products(root: Path) -> set[str]:
    """Relative paths of every file the pipeline produced."""
    return {
        str(p.relative_to(root)) for top in ("runs", "scores", "refs", "reports") if (root / top).exists()
        for p in (root / top).rglob("*") if p.is_file() and not p.name.startswith(".")
    }
