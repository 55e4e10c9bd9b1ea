"""``python -m pipeline score``: score files of real run folders (images, 2D, a diverged
run), valid JSON, stale references refused, 2D scoring without torch."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys

import numpy as np
import pytest
import yaml

from pipeline.artefacts import artefact_hashes
from pipeline.cli import main
from pipeline.metrics.registry import output_names


def strict_json(path):
    def no_constants(name):
        raise AssertionError(f"{path} holds {name}, not valid JSON")

    return json.loads(path.read_text(), parse_constant=no_constants)


def score(job: str, exp: str, dataset: str, out: str) -> int:
    return main(["score", job, "--runs", f"runs/{exp}/shard0", "--data", f"data/{dataset}",
                 "--ref", f"refs/{dataset}", "--out", out])


def test_image_job_scores(in_workspace, capsys):
    assert score("gan_mnist.0", "gan_mnist", "mnist_subset", "scores/gan_mnist/shard0.json") == 0
    assert "scored gan_mnist.0: 1 run(s), 0 failed" in capsys.readouterr().out
    doc = strict_json(in_workspace / "scores" / "gan_mnist" / "shard0.json")
    assert (doc["job"], doc["experiment"], doc["profile"]) == ("gan_mnist.0", "gan_mnist", "test")
    (entry,) = doc["runs"]
    assert {k: entry[k] for k in ("run_id", "paper", "model", "variant", "dataset", "seed", "config", "status")} == {
        "run_id": "gan_mnist/s3", "paper": "gan", "model": "gan", "variant": "default", "dataset": "mnist_subset",
        "seed": 3, "config": "", "status": "ok"}
    expected = output_names(["is", "is_mod", "fid", "kid", "prd", "parzen"], "G") + ["run/failed"]
    assert sorted(entry["metrics"]) == sorted(expected)
    assert all(math.isfinite(entry["metrics"][k]) for k in expected)
    m = entry["metrics"]
    assert m["run/failed"] == 0 and 1.0 <= m["G/is"] <= 10.0 and m["G/fid"] > 0 and 0 <= m["G/precision"] <= 1
    assert set(entry["train"]) == {"wall_s", "images_per_s", "steps_done", "sample_s"}
    assert entry["train"]["steps_done"] == 12
    prov = entry["provenance"]
    assert prov["n_scored"] == {"G": 120} and prov["extractor"] == "domain-classifier"
    assert prov["train"]["git_commit"] and prov["score"]["libraries"]["torch-fidelity"]


def test_scores_are_deterministic(in_workspace):
    assert score("gan_mnist.0", "gan_mnist", "mnist_subset", "scores/a.json") == 0
    assert score("gan_mnist.0", "gan_mnist", "mnist_subset", "scores/b.json") == 0
    a, b = strict_json(in_workspace / "scores" / "a.json"), strict_json(in_workspace / "scores" / "b.json")
    assert a["runs"][0]["metrics"] == b["runs"][0]["metrics"]


def test_mixture_job_and_evaluation_metrics(in_workspace):
    assert score("gan_ring8.0", "gan_ring8", "ring8", "scores/gan_ring8/shard0.json") == 0
    doc = strict_json(in_workspace / "scores" / "gan_ring8" / "shard0.json")
    assert [r["run_id"] for r in doc["runs"]] == ["gan_ring8/s0", "gan_ring8/s1"]
    for entry in doc["runs"]:
        m = entry["metrics"]
        assert sorted(m) == sorted(output_names(["modes", "swd", "parzen"], "G") + ["run/failed"])
        assert 0 <= m["G/modes"] <= 8 and 0 <= m["G/hq_fraction"] <= 1 and m["G/swd"] >= 0
        assert entry["provenance"]["n_scored"] == {"G": 100}  # all samples of a 2D set


def test_diverged_run_is_failed_with_null_metrics(in_workspace, capsys):
    assert score("gan_ring8_nan.0", "gan_ring8_nan", "ring8", "scores/nan.json") == 0
    assert "1 failed" in capsys.readouterr().out
    (entry,) = strict_json(in_workspace / "scores" / "nan.json")["runs"]
    assert entry["status"] == "diverged"
    assert entry["metrics"] == {"G/modes": None, "G/hq_fraction": None, "G/kl_uniform": None, "run/failed": 1}
    assert entry["train"]["steps_done"] == 10


def test_two_dimensional_scoring_does_not_import_torch(in_workspace):
    params = yaml.safe_load((in_workspace / "params.yaml").read_text())
    params["experiments"]["gan_ring8"]["score"] = {"metrics": ["modes", "swd"]}
    (in_workspace / "no_parzen.yaml").write_text(yaml.safe_dump(params))
    code = ("import sys; from pipeline.cli import main; "
            "rc = main(['score', 'gan_ring8.0', '--params', 'no_parzen.yaml', '--runs', 'runs/gan_ring8/shard0', "
            "'--data', 'data/ring8', '--ref', 'refs/ring8', '--out', 'scores/sub.json']); "
            "assert rc == 0, rc; assert 'torch' not in sys.modules, 'torch imported'")
    done = subprocess.run([sys.executable, "-c", code], cwd=in_workspace, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    doc = strict_json(in_workspace / "scores" / "sub.json")
    assert all(r["metrics"]["G/modes"] is not None for r in doc["runs"])


def test_stale_reference_is_refused(in_workspace, capsys):
    params = yaml.safe_load((in_workspace / "params.yaml").read_text())
    params["scoring"]["is_splits"] = 2
    (in_workspace / "stale.yaml").write_text(yaml.safe_dump(params))
    rc = main(["score", "gan_mnist.0", "--params", "stale.yaml", "--runs", "runs/gan_mnist/shard0",
               "--data", "data/mnist_subset", "--ref", "refs/mnist_subset", "--out", "scores/stale.json"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "other scoring settings" in err and "python -m pipeline reference mnist_subset" in err
    assert not (in_workspace / "scores" / "stale.json").exists()


@pytest.mark.parametrize("missing", ["runs", "refs"])
def test_missing_inputs_name_the_fix(in_workspace, capsys, missing):
    runs = "runs/none" if missing == "runs" else "runs/gan_ring8/shard0"
    ref = "refs/none" if missing == "refs" else "refs/ring8"
    assert main(["score", "gan_ring8.0", "--runs", runs, "--data", "data/ring8", "--ref", ref,
                 "--out", "scores/missing.json"]) == 2
    err = capsys.readouterr().err
    assert ("python -m pipeline train gan_ring8.0" in err) if missing == "runs" else \
        ("python -m pipeline reference ring8" in err)


def test_run_without_sample_sets_keeps_only_run_metrics(in_workspace):
    # a model without a generator (e.g. a supervised baseline) and evaluation metrics
    runs = in_workspace / "runs" / "no_sets"
    shutil.copytree(in_workspace / "runs" / "gan_ring8" / "shard0", runs)
    for run in ("s0", "s1"):
        np.savez(runs / run / "samples.npz", **{"aux/curve": np.arange(3.0)})
        train = json.loads((runs / run / "train.json").read_text())
        train["metrics"] = {"test_error": 0.25, "undefined": None}
        train["sha256"] = artefact_hashes(runs / run)
        (runs / run / "train.json").write_text(json.dumps(train))
    assert main(["score", "gan_ring8.0", "--runs", str(runs), "--data", "data/ring8", "--ref", "refs/ring8",
                 "--out", "scores/no_sets.json"]) == 0
    for entry in strict_json(in_workspace / "scores" / "no_sets.json")["runs"]:
        assert entry["metrics"] == {"run/test_error": 0.25, "run/undefined": None, "run/failed": 0}
        assert entry["status"] == "ok"


def test_a_truncated_model_stops_score_naming_the_file_and_the_repair(in_workspace, capsys):
    runs = in_workspace / "runs" / "truncated"
    shutil.copytree(in_workspace / "runs" / "gan_ring8" / "shard0", runs)
    model = runs / "s1" / "model.pt"
    model.write_bytes(model.read_bytes()[:200])
    assert main(["score", "gan_ring8.0", "--runs", str(runs), "--data", "data/ring8", "--ref", "refs/ring8",
                 "--out", "scores/truncated.json"]) == 2
    err = capsys.readouterr().err
    assert f"{model}: sha256 differs from the one train.json recorded" in err
    assert f"python -m pipeline train gan_ring8.0 --data data/ring8 --out {runs}" in err
    assert "dvc repro -f -s train_plain@gan_ring8.0" in err
    assert not (in_workspace / "scores" / "truncated.json").exists()
