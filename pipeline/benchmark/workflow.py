"""Workflow overheads: a no-op ``dvc repro``, ``snakemake -n``, and the end-to-end wall time
of ``dvc repro`` on a fresh copy of the repository (empty cache, every stage runs).

The no-op timing needs a pipeline that is up to date (``dvc status`` clean);
otherwise it is skipped with that reason rather than starting real work.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _timed(cmd: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, proc


def _median_time(cmd: list[str], cwd: Path, repeats: int) -> dict[str, Any]:
    times = []
    for _ in range(repeats):
        seconds, proc = _timed(cmd, cwd)
        if proc.returncode != 0:
            return {"skipped": f"`{' '.join(cmd)}` failed: {(proc.stderr or proc.stdout).strip()[-300:]}"}
        times.append(seconds)
    return {"seconds": statistics.median(times), "runs": times}


def noop_dvc_repro(root: Path, repeats: int = 3) -> dict[str, Any]:
    """Median wall time of ``dvc repro`` when nothing changed."""
    status = subprocess.run(["dvc", "status", "-q"], cwd=root, capture_output=True, text=True, check=False)
    if status.returncode != 0:
        return {"skipped": "the pipeline is not up to date here (dvc status reports changes); run `dvc repro` first"}
    return _median_time(["dvc", "repro"], root, repeats)


def snakemake_dry_run(root: Path, repeats: int = 3) -> dict[str, Any]:
    """Median wall time of ``snakemake -n`` (DAG building from params.yaml, nothing runs)."""
    return _median_time([sys.executable, "-m", "snakemake", "-n", "--workflow-profile", "profiles/local"],
                        root, repeats)


def copy_tracked_files(root: Path, dest: Path) -> Path:
    """The repository's tracked files (working-tree versions) in ``dest``, as a fresh git repository."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True, check=True)
    for rel in filter(None, files.stdout.split("\0")):
        src = root / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"],
                ["git", "-c", "user.email=bench@localhost", "-c", "user.name=bench", "commit", "-qm", "bench"]):
        subprocess.run(cmd, cwd=dest, check=True, capture_output=True)
    return dest


def end_to_end(root: Path, keep: Path | None = None) -> dict[str, Any]:
    """Wall time of ``dvc repro`` on the default profile in a fresh copy (every stage runs);
    the copy is a temporary folder, or ``keep`` (a new folder, left in place) to read its
    runs, scores and report afterwards."""
    if keep is not None:
        if keep.exists():
            raise FileExistsError(f"--keep-copy {keep}: exists; give a new folder")
        keep.mkdir(parents=True)
        return _timed_repro(copy_tracked_files(root, keep))
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
        return _timed_repro(copy_tracked_files(root, Path(tmp)))


def _timed_repro(copy: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DVC_")}
    start = time.perf_counter()
    proc = subprocess.run(["dvc", "repro"], cwd=copy, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        return {"skipped": f"dvc repro failed: {(proc.stderr or proc.stdout).strip()[-500:]}"}
    return {"seconds": seconds, "stages": proc.stdout.count("Running stage")}
