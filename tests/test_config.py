"""params.yaml validation and expansion into runs and jobs."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from pipeline.config import load_params, make_plan, render_run_list, validate_schema
from pipeline.errors import ConfigError


def check(params):
    validate_schema(params)
    return make_plan(params)


@pytest.mark.parametrize(
    "mutate, words",
    [
        (lambda p: p["experiments"]["gan_mnist"].update(model="gann"), ["experiments.gan_mnist.model", "'gann'", "gan"]),
        (lambda p: p["experiments"]["gan_mnist"].update(dataset="cifar"), ["experiments.gan_mnist.dataset", "cifar", "mnist_subset"]),
        (lambda p: p["experiments"]["gan_mnist"]["hparams"].update(lr=-0.1), ["experiments.gan_mnist.hparams.lr", "-0.1", "> 0"]),
        (lambda p: p["experiments"]["gan_mnist"]["train"].update(batch_size=0), ["experiments.gan_mnist.train.batch_size", ">= 1"]),
        (lambda p: p["experiments"]["gan_mnist"].pop("seeds"), ["experiments.gan_mnist", "missing", "seeds"]),
        (lambda p: p["experiments"]["gan_mnist"].update(seeds=[]), ["experiments.gan_mnist.seeds", "empty"]),
        (lambda p: p["experiments"]["gan_mnist"]["train"].update(steps="many"), ["experiments.gan_mnist.train.steps", "'many'", "integer"]),
        (lambda p: p["experiments"]["gan_mnist"]["hparams"].update(z_dim=1.5), ["experiments.gan_mnist.hparams.z_dim", "expected int"]),
        (lambda p: p["experiments"]["gan_mnist"]["hparams"].update(lrr=0.1), ["unknown key", "lrr", "allowed", "lr_decay"]),
        (lambda p: p["datasets"]["ring8"].update(kind="ring9"), ["datasets.ring8.kind", "ring9", "grid25"]),
        (lambda p: p["datasets"]["ring8"].update(geometry="square"), ["datasets.ring8.geometry", "'dcd'"]),
        (lambda p: p.pop("runtime"), ["missing", "runtime"]),
        (lambda p: p["experiments"]["gan_mnist"].update(colour="red"), ["unknown key", "colour"]),
    ],
)
def test_bad_params_fail_naming_the_key(tiny_params, mutate, words):
    mutate(tiny_params)
    with pytest.raises(ConfigError) as err:
        check(tiny_params)
    for word in words:
        assert word in str(err.value), (word, str(err.value))


def test_expansion_into_jobs_and_runs(tiny_params):
    plan = check(tiny_params)
    assert [j.id for j in plan.jobs] == ["gan_ring8.0", "gan_mnist.0"]
    ring = plan.job("gan_ring8.0")
    assert [r.id for r in ring.runs] == ["gan_ring8/s0", "gan_ring8/s1"]
    assert ring.out == "runs/gan_ring8/shard0" and ring.scores == "scores/gan_ring8/shard0.json"
    run = ring.runs[0]
    assert run.hparams["lr"] == 0.001 and run.hparams["k_steps"] == 1  # override + dataclass default
    assert plan.stored_datasets() == ["mnist_subset", "ring8"]


def test_shards_split_runs_and_ids_match_folders(tiny_params):
    tiny_params["experiments"]["gan_ring8"].update(seeds=list(range(12)), shard_size=5)
    plan = check(tiny_params)
    jobs = [j for j in plan.jobs if j.experiment == "gan_ring8"]
    assert [len(j.runs) for j in jobs] == [5, 5, 2]
    assert [j.id for j in jobs] == ["gan_ring8.0", "gan_ring8.1", "gan_ring8.2"]
    assert [j.out.rsplit("/", 1)[1] for j in jobs] == ["shard0", "shard1", "shard2"]


def test_grid_sampling_is_deterministic_and_keeps_full_grid_indices(tiny_params):
    exp = tiny_params["experiments"]["gan_mnist"]
    exp["grid"] = {"space": {"hparams.lr": [0.1, 0.01, 0.001], "hparams.k_steps": [1, 2]},
                   "sample": 4, "sample_seed": 7}
    runs_a = [r for r in check(tiny_params).runs() if r.experiment == "gan_mnist"]
    runs_b = [r for r in check(tiny_params).runs() if r.experiment == "gan_mnist"]
    assert [r.id for r in runs_a] == [r.id for r in runs_b]
    assert len(runs_a) == 4
    for r in runs_a:
        lr_index, k_index = divmod(r.config_index, 2)
        assert r.hparams["lr"] == [0.1, 0.01, 0.001][lr_index]
        assert r.hparams["k_steps"] == [1, 2][k_index]
        assert r.name.startswith(f"c{r.config_index:03d}-")


def test_grid_values_are_validated(tiny_params):
    tiny_params["experiments"]["gan_mnist"]["grid"] = {"space": {"hparams.lr": [0.1, -1.0]}}
    with pytest.raises(ConfigError, match="hparams.lr"):
        check(tiny_params)


def test_config_hash_changes_with_hparams_not_with_logging(tiny_params):
    base = check(tiny_params).runs()[0].config_hash()
    tiny_params["experiments"]["gan_ring8"]["train"]["log_every"] = 5
    assert check(tiny_params).runs()[0].config_hash() == base
    tiny_params["experiments"]["gan_ring8"]["hparams"]["lr"] = 0.002
    assert check(tiny_params).runs()[0].config_hash() != base


def test_repository_params_are_the_smoke_profile_and_run_list_is_current(repo, monkeypatch):
    monkeypatch.chdir(repo)
    assert (repo / "params.yaml").read_text() == (repo / "profiles/params/smoke.yaml").read_text()
    plan = make_plan(load_params(repo / "params.yaml"))
    assert (repo / "runs.yaml").read_text() == render_run_list(plan), "run `python -m pipeline plan --write`"


@pytest.mark.parametrize("profile", ["smoke", "ci", "paper"])
def test_every_profile_validates(repo, profile):
    plan = make_plan(load_params(repo / f"profiles/params/{profile}.yaml"))
    assert plan.profile == profile and plan.jobs


def test_smoke_profile_has_three_seeds_everywhere(repo):
    plan = make_plan(load_params(repo / "profiles/params/smoke.yaml"))
    for exp, spec in plan.params["experiments"].items():
        if not spec.get("grid"):
            assert len(spec["seeds"]) >= 3, exp


def test_schema_error_is_fast_and_before_any_work(workdir):
    text = (workdir / "params.yaml").read_text().replace("model: gan\n", "model: ganx\n", 1)
    (workdir / "params.yaml").write_text(text)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pipeline", "train", "gan_ring8.0", "--data", "data/ring8",
                           "--out", "runs/x"], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 2
    assert "experiments.gan_ring8.model" in proc.stderr and "allowed: gan" in proc.stderr
    assert not (workdir / "runs").exists()
    assert elapsed < 10  # generous bound for loaded CI machines; typically ~0.3 s


def test_unknown_job_names_the_fix(tiny_params):
    with pytest.raises(ConfigError, match="plan --write"):
        check(tiny_params).job("nope.0")
