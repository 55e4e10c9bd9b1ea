"""Learning curves: evaluation steps, isolation from training, resume, floor step, plan keys."""

from __future__ import annotations

import copy
import csv
import dataclasses
import json
import time

import pytest
import torch
import yaml
from curve_support import build_mnist_reference, curve_params
from kill_support import killed_after_checkpoint

from pipeline.config import make_plan
from pipeline.data.loader import open_dataset
from pipeline.errors import ConfigError
from pipeline.train import train_run
from pipeline.train_monitor import Monitor, first_reached, load_curve_reference

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def reference(fetched, tmp_path_factory):
    """refs/mnist_subset of the curve params (a one-epoch classifier)."""
    from conftest import TINY_PARAMS

    return build_mnist_reference(
        curve_params(TINY_PARAMS), fetched, tmp_path_factory.mktemp("refs") / "mnist_subset"
    )


def setup(params: dict, experiment: str, fetched, reference):
    plan = make_plan(params)
    job = next(j for j in plan.jobs if j.experiment == experiment)
    data = open_dataset(plan.datasets, job.dataset, fetched / job.storage)
    curve = load_curve_reference(plan, job, fetched / job.storage, reference)
    return job.runs[0], data, curve


def read_csv(path) -> list[dict]:
    with open(path) as fh:
        return list(csv.DictReader(fh))


def full_state(path) -> dict:
    return torch.load(path, weights_only=False)["model"]


def assert_same(a, b, where="model"):
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


def losses(path) -> list[dict]:
    return [
        {k: v for k, v in row.items() if k not in ("wall_s", "images_per_s")}
        for row in read_csv(path)
    ]


def curve_rows(path) -> list[tuple]:
    return [(int(r["step"]), r["is"], r["fid"]) for r in read_csv(path)]


def test_eval_rows_at_step_zero_every_k_steps_and_the_last(
    tiny_params, fetched, reference, tmp_path
):
    run, data, curve = setup(curve_params(tiny_params), "gan_mnist", fetched, reference)
    train_run(run, data, tmp_path / "out", CPU, "t", tmp_path / "ck", curve=curve)
    rows = read_csv(tmp_path / "out/eval_log.csv")
    assert list(rows[0]) == ["step", "wall_s", "is", "fid", "eval_s"]
    assert [int(r["step"]) for r in rows] == [0, 3, 6, 9, 12]
    assert all(float(r["is"]) >= 1.0 and float(r["fid"]) >= 0.0 for r in rows)
    walls = [float(r["wall_s"]) for r in rows]
    assert walls[0] == 0.0 and walls == sorted(walls)
    info = json.loads((tmp_path / "out/train.json").read_text())
    summary = info["curve"]
    assert summary["evaluations"] == 5 and summary["eval_n"] == 60 and summary["eval_every"] == 3
    assert summary["is_splits"] == round(4 * 60 / 200)  # the protocol's 50 samples per split
    assert info["eval_s"] == pytest.approx(sum(float(r["eval_s"]) for r in rows), abs=1e-2)
    assert summary["floor_is"] == pytest.approx(summary["floor_fraction"] * summary["real_is"])
    assert info["floor_step"] == summary["floor_step"]


def test_a_run_without_a_curve_writes_no_eval_log(tiny_params, fetched, reference, tmp_path):
    params = curve_params(tiny_params)
    params["experiments"]["gan_mnist"]["train"]["eval_every"] = 0
    run, data, curve = setup(params, "gan_mnist", fetched, reference)
    train_run(run, data, tmp_path / "out", CPU, "t", tmp_path / "ck", curve=curve)
    assert not (tmp_path / "out/eval_log.csv").exists()
    info = json.loads((tmp_path / "out/train.json").read_text())
    assert info["curve"] is None and info["floor_step"] is None and info["eval_s"] == 0


def ci_experiment(repo, name: str) -> dict:
    exp = yaml.safe_load((repo / "profiles/params/ci.yaml").read_text())["experiments"][name]
    exp.pop("grid", None)
    exp.update(seeds=[1], shard_size=1, score={"metrics": ["is", "fid"]})
    exp["train"].update(eval_every=2, eval_n=40, log_every=2, checkpoint_every=3)
    exp["sample"] = {"n": 40}
    return exp


@pytest.mark.parametrize(
    "name",
    ["gan_mnist", "ebgan_grid", "ebgan_grid_gan", "aan_mnist", "memorygan_mnist", "dcd_mnist"],
)
def test_training_is_bit_identical_with_and_without_the_monitor(
    tiny_params, fetched, reference, tmp_path, repo, name
):
    """Weights, optimiser states, losses and samples of every image model family."""
    params = curve_params(tiny_params)
    params["experiments"] = {name: ci_experiment(repo, name)}
    run, data, curve = setup(params, name, fetched, reference)
    train_run(run, data, tmp_path / "off", CPU, "t", tmp_path / "ck_off")
    train_run(run, data, tmp_path / "on", CPU, "t", tmp_path / "ck_on", curve=curve)
    assert (tmp_path / "on/eval_log.csv").is_file() and not (tmp_path / "off/eval_log.csv").exists()
    assert_same(full_state(tmp_path / "off/model.pt"), full_state(tmp_path / "on/model.pt"))
    assert losses(tmp_path / "off/train_log.csv") == losses(tmp_path / "on/train_log.csv")
    import numpy as np

    with np.load(tmp_path / "off/samples.npz") as off, np.load(tmp_path / "on/samples.npz") as on:
        assert off.files == on.files and all(np.array_equal(off[k], on[k]) for k in off.files)


def test_resume_after_an_interruption_reproduces_the_eval_rows(
    tiny_params, fetched, reference, tmp_path, monkeypatch
):
    run, data, curve = setup(curve_params(tiny_params), "gan_mnist", fetched, reference)
    train_run(run, data, tmp_path / "full", CPU, "t", tmp_path / "ck_full", curve=curve)
    killed_after_checkpoint(monkeypatch, 8, lambda: train_run(run, data, tmp_path / "resumed", CPU, "t",
                                                              tmp_path / "ck", curve=curve))
    train_run(run, data, tmp_path / "resumed", CPU, "t", tmp_path / "ck", curve=curve)
    full = curve_rows(tmp_path / "full/eval_log.csv")
    assert curve_rows(tmp_path / "resumed/eval_log.csv") == full
    assert [step for step, _, _ in full] == [0, 3, 6, 9, 12]


def test_the_clocks_exclude_evaluations(tiny_params, fetched, reference, tmp_path, monkeypatch):
    run, data, curve = setup(curve_params(tiny_params), "gan_mnist", fetched, reference)

    def slow(self, model):
        time.sleep(0.5)
        return {"is": 2.0, "fid": 1.0, "eval_s": 0.5}

    monkeypatch.setattr(Monitor, "evaluate", slow)
    train_run(run, data, tmp_path / "out", CPU, "t", tmp_path / "ck", curve=curve)
    info = json.loads((tmp_path / "out/train.json").read_text())
    assert info["eval_s"] == pytest.approx(2.5)
    assert info["wall_s"] < 1.0, "five 0.5 s evaluations were counted as training time"
    walls = [float(r["wall_s"]) for r in read_csv(tmp_path / "out/eval_log.csv")]
    assert walls[-1] <= info["wall_s"] < 1.0


def test_floor_step_is_the_first_evaluated_step_at_or_above_the_floor(
    tiny_params, fetched, reference
):
    run, _, curve = setup(curve_params(tiny_params), "gan_mnist", fetched, reference)
    rows = [
        {"step": s, "wall_s": s / 10, "is": v, "fid": 1.0, "eval_s": 0.1}
        for s, v in [(0, 1.0), (3, 4.0), (6, None), (9, 6.0), (12, 5.0)]
    ]
    assert first_reached(rows, 5.0)["step"] == 9
    assert first_reached(rows, 4.0)["step"] == 3
    assert first_reached(rows, 7.0) is None
    at = lambda fraction: Monitor(
        dataclasses.replace(curve, real_is=10.0, floor_fraction=fraction), run
    )
    summary = at(0.5).summary(rows)
    assert (
        summary["floor_is"] == 5.0 and summary["floor_step"] == 9 and summary["floor_wall_s"] == 0.9
    )
    assert at(0.65).summary(rows)["floor_step"] is None
    assert (
        Monitor(dataclasses.replace(curve, real_is=None), run).summary(rows)["floor_step"] is None
    )


def test_plan_defaults_and_checks(tiny_params):
    plan = make_plan(tiny_params)
    mnist = next(r for r in plan.runs() if r.experiment == "gan_mnist")
    ring = next(r for r in plan.runs() if r.experiment == "gan_ring8")
    assert mnist.train["eval_every"] == 2 and mnist.train["eval_n"] == 500  # ceil(12 / 10)
    assert mnist.curve and not ring.curve and ring.train["eval_every"] == 0
    run_list = plan.run_list()
    assert list(run_list["curve_jobs"]) == ["gan_mnist.0"]
    assert list(run_list["plain_jobs"]) == ["gan_ring8.0"]

    params = copy.deepcopy(tiny_params)
    params["experiments"]["gan_mnist"]["train"].update(eval_every=5, eval_n=100)
    tuned = next(r for r in make_plan(params).runs() if r.experiment == "gan_mnist")
    assert tuned.config_hash() == mnist.config_hash()  # curves never change a run's numbers

    def curves(edit) -> list[bool]:
        changed = copy.deepcopy(tiny_params)
        edit(changed["experiments"])
        return [r.curve for r in make_plan(changed).runs() if r.experiment == "gan_mnist"]

    assert curves(lambda e: e["gan_mnist"].update(score={"metrics": ["fid"]})) == [False]
    grid = {"space": {"hparams.lr": [0.1, 0.01]}}
    assert curves(lambda e: e["gan_mnist"].update(grid=grid)) == [False, False]
    assert curves(
        lambda e: e["gan_mnist"].update(
            grid=grid, train={**e["gan_mnist"]["train"], "eval_every": 4}
        )
    ) == [True, True]
    params["experiments"]["gan_ring8"]["train"]["eval_every"] = 10
    with pytest.raises(ConfigError, match="experiments.gan_ring8.train.eval_every"):
        make_plan(params)
