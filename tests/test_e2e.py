"""End to end: the ci profile through `dvc repro` and through `snakemake`, in
temporary copies of the repository; both must produce the same files and the
same numbers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

SKIP_KEYS = {"wall_s", "sample_s", "images_per_s", "provenance", "train"}


def clone(repo: Path, dest: Path) -> Path:
    """Copy the tracked files (and the working-tree versions of them) into a fresh git repo."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=repo, capture_output=True, text=True, check=True)
    for rel in filter(None, files.stdout.split("\0")):
        src = repo / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    subprocess.run(["git", "add", "-A"], cwd=dest, check=True)
    subprocess.run(["git", "-c", "user.email=ci@example.org", "-c", "user.name=ci", "commit", "-qm", "ci"],
                   cwd=dest, check=True)
    return dest


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def strip_timing(obj):
    if isinstance(obj, dict):
        return {k: strip_timing(v) for k, v in obj.items() if k not in SKIP_KEYS}
    if isinstance(obj, list):
        return [strip_timing(v) for v in obj]
    return obj


def products(root: Path) -> set[str]:
    keep = ("runs", "scores", "refs", "reports")
    return {
        str(p.relative_to(root)) for top in keep if (root / top).exists()
        for p in (root / top).rglob("*") if p.is_file() and not p.name.startswith(".")
    }


@pytest.fixture(scope="module")
def dvc_run(repo, tmp_path_factory):
    root = clone(repo, tmp_path_factory.mktemp("dvc"))
    run([sys.executable, "-m", "pipeline", "profile", "ci"], root)
    first = run(["dvc", "repro"], root)
    return root, first


@pytest.fixture(scope="module")
def snakemake_run(repo, tmp_path_factory):
    root = clone(repo, tmp_path_factory.mktemp("smk"))
    run([sys.executable, "-m", "pipeline", "profile", "ci"], root)
    run([sys.executable, "-m", "snakemake", "--workflow-profile", "profiles/local", "--cores", "2"], root)
    return root


def test_dvc_repro_builds_the_report_and_then_does_nothing(dvc_run):
    root, first = dvc_run
    assert (root / "reports/report.html").stat().st_size > 1000
    assert "Running stage 'report'" in first.stdout
    again = run(["dvc", "repro"], root)
    assert "Data and pipelines are up to date" in again.stdout
    assert "Running stage" not in again.stdout


def test_snakemake_and_dvc_produce_the_same_files_and_numbers(dvc_run, snakemake_run):
    dvc_root, _ = dvc_run
    smk_root = snakemake_run
    assert products(dvc_root) == products(smk_root)
    for path in sorted((dvc_root / "scores").rglob("*.json")):
        rel = path.relative_to(dvc_root)
        a, b = json.loads(path.read_text()), json.loads((smk_root / rel).read_text())
        assert strip_timing(a) == strip_timing(b), rel
    for name in ("runs.csv",):
        assert (dvc_root / "reports/aggregate" / name).read_text() == (smk_root / "reports/aggregate" / name).read_text()
