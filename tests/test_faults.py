"""Faults: kill -9 and resume through DVC, corrupt data, malformed params,
concurrent `dvc repro`. (Atomic writes: tests/test_io.py; NaN in training:
tests/test_train.py and the ci profile's faulty experiment in tests/test_e2e.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from e2e_support import clone, run

pytestmark = pytest.mark.e2e

LONG_GAN = {
    "paper": "gan", "model": "gan", "dataset": "mnist_subset", "seeds": [0],
    "hparams": {"g_hidden": [256, 256], "d_hidden": [64, 64]},
    "train": {"steps": 600, "batch_size": 50, "log_every": 20, "checkpoint_every": 20},
    "sample": {"n": 100},
}


@pytest.fixture(scope="module")
def fault_repo(repo, tmp_path_factory) -> Path:
    """A clone on the ci profile plus one longer GAN experiment, with its data fetched."""
    root = clone(repo, tmp_path_factory.mktemp("faults"))
    run([sys.executable, "-m", "pipeline", "profile", "ci"], root)
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["experiments"]["gan_long"] = LONG_GAN
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run([sys.executable, "-m", "pipeline", "plan", "--write"], root)
    run(["dvc", "repro", "fetch@mnist_subset"], root)
    return root


def nets(path: Path) -> dict:
    return torch.load(path, weights_only=False)["model"]["nets"]


def wait_for(predicate, timeout=120.0):
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def test_kill_9_during_dvc_repro_then_rerun_resumes_to_the_same_model(fault_repo):
    root = fault_repo
    ckpt = root / "checkpoints/gan_long/s0/last.pt"
    proc = subprocess.Popen(["dvc", "repro", "train@gan_long.0"], cwd=root, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    wait_for(ckpt.exists)
    time.sleep(0.3)

    os.killpg(proc.pid, signal.SIGKILL)  # DVC and the training process it started
    proc.wait()
    assert not (root / "runs/gan_long/shard0/s0/model.pt").exists(), "finished before the kill; lengthen it"
    rerun = run(["dvc", "repro", "train@gan_long.0"], root)
    assert "resuming at step" in rerun.stdout + rerun.stderr
    resumed = nets(root / "runs/gan_long/shard0/s0/model.pt")
    run([sys.executable, "-m", "pipeline", "train", "gan_long.0", "--data", "data/mnist_subset", "--out",
         "uninterrupted", "--checkpoints", "ck_clean"], root)
    clean = nets(root / "uninterrupted/s0/model.pt")
    assert all(torch.equal(resumed[k], clean[k]) for k in clean)


def test_corrupt_byte_stops_the_next_stage_and_fetch_repairs(fault_repo):
    root = fault_repo
    target = root / "data/mnist_subset/x_test.npy"
    original = target.read_bytes()
    data = bytearray(original)
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    proc = subprocess.run([sys.executable, "-m", "pipeline", "train", "gan_mnist.0", "--data", "data/mnist_subset",
                           "--out", "tmp_out"], cwd=root, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "checksum error" in proc.stderr and "x_test.npy" in proc.stderr and "fetch mnist_subset" in proc.stderr
    assert not (root / "tmp_out").exists()
    run([sys.executable, "-m", "pipeline", "fetch", "mnist_subset"], root)
    assert target.read_bytes() == original


@pytest.mark.parametrize(
    "edit, key",
    [
        (lambda p: p["experiments"]["gan_mnist"].update(model="gan2"), "experiments.gan_mnist.model"),
        (lambda p: p["experiments"]["gan_mnist"].update(dataset="imagenet"), "experiments.gan_mnist.dataset"),
        (lambda p: p["experiments"]["gan_mnist"]["hparams"].update(lr=-1), "experiments.gan_mnist.hparams.lr"),
        (lambda p: p["experiments"]["gan_mnist"]["train"].pop("steps"), "experiments.gan_mnist.train"),
        (lambda p: p["experiments"]["gan_mnist"]["train"].update(batch_size="64"), "experiments.gan_mnist.train.batch_size"),
        (lambda p: p["experiments"]["gan_mnist"].update(seeds=[]), "experiments.gan_mnist.seeds"),
    ],
)
def test_malformed_params_fail_before_any_work(repo, tmp_path, edit, key):
    params = yaml.safe_load((repo / "profiles/params/ci.yaml").read_text())
    edit(params)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    proc = subprocess.run([sys.executable, "-m", "pipeline", "train", "gan_mnist.0", "--data", "data/mnist_subset",
                           "--out", "runs/x"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 2 and key in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "runs").exists()


def test_a_typo_anywhere_in_params_stops_dvc_repro_before_any_work(repo, tmp_path):
    """No stage tracks a misspelt top-level key, but the validate stage depends on the
    whole file: `dvc repro` runs it first and stops there, naming the key and the fix."""
    root = clone(repo, tmp_path)
    run([sys.executable, "-m", "pipeline", "profile", "ci"], root)
    run(["dvc", "repro", "validate"], root)
    params = root / "params.yaml"
    params.write_text(params.read_text().replace("\nscoring:", "\nscorring:", 1))
    proc = subprocess.run(["dvc", "repro"], cwd=root, capture_output=True, text=True, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "scorring (did you mean scoring?)" in out and "Traceback" not in out
    assert "Running stage 'validate'" in proc.stdout
    assert not any(p.is_dir() for p in (root / "data").iterdir()) and not (root / "runs").exists()


def test_second_concurrent_dvc_repro_refuses_with_the_lock_message(fault_repo):
    root = fault_repo
    first = subprocess.Popen(["dvc", "repro", "--force", "train@gan_long.0"], cwd=root,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for(lambda: (root / "checkpoints/gan_long").exists() or first.poll() is not None)
    second = subprocess.run(["dvc", "repro", "train@gan_mnist.0"], cwd=root, capture_output=True, text=True)
    out_first, _ = first.communicate(timeout=600)
    assert first.returncode == 0, out_first
    assert second.returncode != 0
    assert "lock" in (second.stdout + second.stderr).lower()
    status = run(["dvc", "status", "train@gan_long.0"], root)
    assert "changed" not in status.stdout
