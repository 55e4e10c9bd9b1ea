"""The training loop: determinism, resume after a kill, divergence, outputs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import torch
import yaml
from kill_support import killed_after_checkpoint

from pipeline.config import make_plan
from pipeline.data.loader import open_dataset
from pipeline.train import train_job, train_run


def weights(path):
    state = torch.load(path, weights_only=False)["model"]["nets"]
    return {k: v.clone() for k, v in state.items()}


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def run_of(params, experiment, index=0):
    plan = make_plan(params)
    return plan, [r for r in plan.runs() if r.experiment == experiment][index]


def test_job_writes_every_output(tiny_params, fetched, tmp_path):
    plan = make_plan(tiny_params)
    job = plan.job("gan_ring8.0")
    outcomes = train_job(plan, job, fetched / "ring8", tmp_path / "out", tmp_path / "ckpt")
    assert [o.status for o in outcomes] == ["ok", "ok"]
    for run in job.runs:
        folder = tmp_path / "out" / run.name
        assert {p.name for p in folder.iterdir()} == {"model.pt", "samples.npz", "train_log.csv", "train.json"}
        info = json.loads((folder / "train.json").read_text())
        assert info["status"] == "ok" and info["steps_done"] == 30 and info["seed"] == run.seed
        assert info["provenance"]["libraries"]["torch"].startswith("2.")
        assert {r["name"]: r["source"] for r in info["hparams"]}["lr"] == "profile"
        samples = np.load(folder / "samples.npz")
        assert samples["G"].shape == (100, 2) and samples["G"].dtype == np.float32
        log = (folder / "train_log.csv").read_text().splitlines()
        assert log[0].startswith("step,loss_d,loss_g") and len(log) == 4
    assert not (tmp_path / "ckpt" / "gan_ring8").exists()  # checkpoints removed once the job is done


def test_parallel_runs_give_the_numbers_of_runs_one_after_another(tiny_params, fetched, tmp_path):
    plan = make_plan(tiny_params)
    job = plan.job("gan_ring8.0")
    train_job(plan, job, fetched / "ring8", tmp_path / "seq", tmp_path / "ck1")
    tiny_params["runtime"]["parallel_runs"] = 2
    plan = make_plan(tiny_params)
    outcomes = train_job(plan, plan.job("gan_ring8.0"), fetched / "ring8", tmp_path / "par", tmp_path / "ck2")
    assert [o.run_id for o in outcomes] == [r.id for r in job.runs]
    for run in job.runs:
        assert_same_weights(weights(tmp_path / "seq" / run.name / "model.pt"),
                            weights(tmp_path / "par" / run.name / "model.pt"))
        info = json.loads((tmp_path / "par" / run.name / "train.json").read_text())
        assert info["provenance"]["threads"] == 1
    assert not (tmp_path / "ck2" / "gan_ring8").exists()


def test_same_seed_same_numbers_different_seed_different(tiny_params, fetched, tmp_path):
    plan, run = run_of(tiny_params, "gan_mnist")
    data = open_dataset(plan.datasets, "mnist_subset", fetched / "mnist_subset")
    train_run(run, data, tmp_path / "a", torch.device("cpu"), "t", tmp_path / "ck1")
    train_run(run, data, tmp_path / "b", torch.device("cpu"), "t", tmp_path / "ck2")
    assert_same_weights(weights(tmp_path / "a/model.pt"), weights(tmp_path / "b/model.pt"))
    assert np.array_equal(np.load(tmp_path / "a/samples.npz")["G"], np.load(tmp_path / "b/samples.npz")["G"])
    assert np.load(tmp_path / "a/samples.npz")["G"].dtype == np.uint8
    tiny_params["experiments"]["gan_mnist"]["seeds"] = [4]
    plan, other = run_of(tiny_params, "gan_mnist")
    train_run(other, data, tmp_path / "c", torch.device("cpu"), "t", tmp_path / "ck3")
    assert not torch.equal(weights(tmp_path / "a/model.pt")["G.0.weight"], weights(tmp_path / "c/model.pt")["G.0.weight"])


def test_resume_from_checkpoint_is_bit_identical(tiny_params, fetched, tmp_path, monkeypatch):
    """Interrupt after the checkpoint at step 8, resume, compare with an uninterrupted run."""
    plan, run = run_of(tiny_params, "gan_mnist")
    data = open_dataset(plan.datasets, "mnist_subset", fetched / "mnist_subset")
    train_run(run, data, tmp_path / "full", torch.device("cpu"), "t", tmp_path / "ck_full")

    killed_after_checkpoint(monkeypatch, 8, lambda: train_run(run, data, tmp_path / "resumed",
                                                              torch.device("cpu"), "t", tmp_path / "ck"))
    assert not (tmp_path / "resumed" / "model.pt").exists()
    train_run(run, data, tmp_path / "resumed", torch.device("cpu"), "t", tmp_path / "ck")
    assert_same_weights(weights(tmp_path / "full/model.pt"), weights(tmp_path / "resumed/model.pt"))
    full = np.load(tmp_path / "full/samples.npz")["G"]
    assert np.array_equal(full, np.load(tmp_path / "resumed/samples.npz")["G"])
    strip = lambda text: [line.rsplit(",", 2)[0] for line in text.splitlines()]  # drop wall_s, images/s
    assert strip((tmp_path / "full/train_log.csv").read_text()) == strip((tmp_path / "resumed/train_log.csv").read_text())


def test_stale_checkpoint_of_another_config_is_ignored(tiny_params, fetched, tmp_path):
    plan, run = run_of(tiny_params, "gan_mnist")
    data = open_dataset(plan.datasets, "mnist_subset", fetched / "mnist_subset")
    from pipeline import checkpoint

    checkpoint.save(checkpoint.checkpoint_path(run.id, tmp_path / "ck"), {"config_hash": "other", "step": 11})
    outcome = train_run(run, data, tmp_path / "out", torch.device("cpu"), "t", tmp_path / "ck")
    assert outcome.steps_done == 12 and outcome.status == "ok"


def test_nan_marks_run_diverged_and_keeps_partial_log(tiny_params, fetched, tmp_path):
    tiny_params["experiments"]["gan_mnist"]["train"]["fault_nan_at_step"] = 5
    plan, run = run_of(tiny_params, "gan_mnist")
    data = open_dataset(plan.datasets, "mnist_subset", fetched / "mnist_subset")
    outcome = train_run(run, data, tmp_path / "out", torch.device("cpu"), "t", tmp_path / "ck")
    assert outcome.status == "diverged"
    info = json.loads((tmp_path / "out/train.json").read_text())
    assert info["status"] == "diverged" and info["diverged_at_step"] == 8 and info["steps_done"] == 8
    assert len((tmp_path / "out/train_log.csv").read_text().splitlines()) == 3  # header + steps 4, 8
    assert list(np.load(tmp_path / "out/samples.npz").keys()) == []
    json.loads((tmp_path / "out/train.json").read_text())  # valid JSON (no bare NaN)


def test_kill_9_then_rerun_resumes_and_matches(tiny_params, fetched, tmp_path):
    """A real SIGKILL of the CLI mid-run; the rerun resumes from its checkpoint."""
    exp = tiny_params["experiments"]["gan_mnist"]
    exp["train"].update(steps=400, log_every=20, checkpoint_every=20)
    exp["hparams"].update(g_hidden=[256, 256], d_hidden=[64, 64])
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(tiny_params))
    (tmp_path / "data").symlink_to(fetched)
    cmd = [sys.executable, "-m", "pipeline", "train", "gan_mnist.0", "--data", "data/mnist_subset"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(cmd + ["--out", "full", "--checkpoints", "ck_full"], cwd=tmp_path, check=True, env=env,
                   capture_output=True)
    proc = subprocess.Popen(cmd + ["--out", "killed", "--checkpoints", "ck"], cwd=tmp_path, env=env,
                            stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    ckpt = tmp_path / "ck" / "gan_mnist" / "s3" / "last.pt"
    deadline = time.time() + 60
    while not ckpt.exists() and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert ckpt.exists(), "no checkpoint was written before the kill"
    assert not (tmp_path / "killed" / "s3" / "model.pt").exists(), "run finished before the kill; make it longer"
    rerun = subprocess.run(cmd + ["--out", "killed", "--checkpoints", "ck"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, check=True)
    assert "resuming at step" in rerun.stderr
    assert_same_weights(weights(tmp_path / "full/s3/model.pt"), weights(tmp_path / "killed/s3/model.pt"))
