"""train.json records the sha256 of a run's model.pt and samples.npz; verify_run checks
them and names the file and the repair."""

from __future__ import annotations

import json

import pytest

from pipeline.artefacts import ArtefactError, artefact_hashes, verify_run
from pipeline.config import make_plan
from pipeline.train import train_job

REPAIR = "retrain the job: `python -m pipeline train gan_ring8.0 ...`"


@pytest.fixture
def trained(tiny_params, fetched, tmp_path):
    """The folder of a freshly trained run."""
    tiny_params["experiments"]["gan_ring8"].update(seeds=[0], shard_size=1)
    plan = make_plan(tiny_params)
    train_job(plan, plan.job("gan_ring8.0"), fetched / "ring8", tmp_path / "out", tmp_path / "ckpt")
    return tmp_path / "out" / "s0"


def test_train_json_records_the_sha256_of_model_and_samples(trained):
    recorded = json.loads((trained / "train.json").read_text())["sha256"]
    assert recorded == artefact_hashes(trained) and set(recorded) == {"model.pt", "samples.npz"}
    verify_run(trained, REPAIR)


@pytest.mark.parametrize("damage", ["truncated", "missing"])
def test_a_damaged_artefact_names_the_file_and_the_repair(trained, damage):
    model = trained / "model.pt"
    if damage == "truncated":
        model.write_bytes(model.read_bytes()[:200])
    else:
        model.unlink()
    with pytest.raises(ArtefactError) as err:
        verify_run(trained, REPAIR)
    assert str(model) in str(err.value) and str(err.value).endswith(REPAIR)


def test_a_run_without_recorded_hashes_is_refused(trained):
    info = json.loads((trained / "train.json").read_text())
    del info["sha256"]
    (trained / "train.json").write_text(json.dumps(info))
    with pytest.raises(ArtefactError, match="records no sha256 of model.pt / samples.npz"):
        verify_run(trained, REPAIR)
