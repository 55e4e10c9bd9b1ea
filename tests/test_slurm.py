"""The ci profile on a real single-node SLURM cluster through profiles/slurm.

The cluster (slurm-wlm + munge) is brought up in a temporary folder by
profiles/slurm/local_cluster.py and torn down by its daemons' pids. Skipped,
with the reason, only where those packages are not installed (.ci/run installs
them)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time

import pytest
from e2e_support import clone, products, strip_timing

pytestmark = [pytest.mark.e2e, pytest.mark.slurm]


def load_cluster_module(repo):
    spec = importlib.util.spec_from_file_location("local_cluster", repo / "profiles/slurm/local_cluster.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cluster(repo, tmp_path_factory):
    mod = load_cluster_module(repo)
    missing = mod.missing_tools()
    if missing:
        pytest.skip(f"SLURM not installed ({', '.join(missing)} missing): apt-get install -y slurm-wlm munge")
    if os.geteuid() != 0:
        pytest.skip("the local SLURM cluster runs its daemons as root; run the tests as root (as CI does)")
    folder = tmp_path_factory.mktemp("slurm")
    conf = mod.up(folder)
    yield conf
    mod.down(folder)
    for name in mod.DAEMONS:
        pid = int((folder / f"{name}.pid").read_text().split()[0]) if (folder / f"{name}.pid").exists() else None
        assert pid is None or not mod._alive(pid), f"{name} still running"


SMALL = "mem_mb=1000 cpus_per_task=1 gpu=0 runtime=30"


def test_ci_profile_through_slurm_matches_a_local_run(repo, cluster, tmp_path_factory):
    root = clone(repo, tmp_path_factory.mktemp("slurm_run"))
    local = clone(repo, tmp_path_factory.mktemp("local_run"))
    env = {**os.environ, "SLURM_CONF": str(cluster), "OMP_NUM_THREADS": "1"}
    for folder in (root, local):
        subprocess.run([sys.executable, "-m", "pipeline", "profile", "ci"], cwd=folder, check=True, env=env,
                       capture_output=True)
    rules = ("reference", "reference_inception", "train", "train_cpu", "score", "score_inception", "aggregate",
             "report")
    overrides = [f"{rule}:{kv}" for rule in rules for kv in SMALL.split()]
    start = time.time()
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--workflow-profile", "profiles/slurm",
         "--slurm-status-command", "squeue", "--slurm-no-account", "--slurm-init-seconds-before-status-checks", "2",
         "--jobs", "4", "--set-resources", *overrides],
        cwd=root, env=env, capture_output=True, text=True, timeout=1500,
    )
    wall = time.time() - start
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    log = proc.stdout + proc.stderr
    assert "sbatch" in log.lower() or "slurm" in log.lower()
    print(f"SLURM end-to-end wall time: {wall:.0f} s")
    subprocess.run([sys.executable, "-m", "snakemake", "--workflow-profile", "profiles/local"],
                   cwd=local, env=env, check=True, capture_output=True)
    assert products(root) == products(local)
    for path in sorted((local / "scores").rglob("*.json")):
        rel = path.relative_to(local)
        assert strip_timing(json.loads(path.read_text())) == strip_timing(json.loads((root / rel).read_text())), rel
