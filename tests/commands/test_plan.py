"""``python -m pipeline plan``: the pre-flight check refuses every bad input with exit
code 2 and a message that names the key and the fix (never a traceback); the stamp of
the validate stage."""

from __future__ import annotations

import pytest
import yaml

from pipeline.cli import main
from pipeline.commands.plan import STAMP_TEXT
from pipeline.config import load_params, make_plan


def grid(p: dict, space: dict) -> None:
    p["experiments"]["gan_mnist"]["grid"] = {"space": space}


BAD_INPUTS = {
    "steps beyond 10**8": (
        lambda p: p["experiments"]["gan_mnist"]["train"].update(steps=10**12),
        ["experiments.gan_mnist.train.steps = 1000000000000: must be <= 100000000"]),
    "a learning rate of 1e6": (
        lambda p: p["experiments"]["gan_mnist"]["hparams"].update(lr=1e6),
        ["experiments.gan_mnist.hparams.lr = 1000000.0: must be <= 10.0"]),
    "a seed above 2**64": (
        lambda p: p["experiments"]["gan_mnist"].update(seeds=[2**64 + 1]),
        ["experiments.gan_mnist.seeds.0 = 18446744073709551617: must be < 9223372036854775808"]),
    "a seed in a dataset's options": (
        lambda p: p["datasets"]["mnist_subset"].update(split_seed=2**63),
        ["datasets.mnist_subset.split_seed = 9223372036854775808: must be < 9223372036854775808"]),
    "steps beyond 10**8 in a grid": (
        lambda p: grid(p, {"train.steps": [10, 10**9]}),
        ["experiments.gan_mnist.grid.space.train.steps[1] = 1000000000: must be <= 100000000"]),
    "a misspelt train key in a grid": (
        lambda p: grid(p, {"train.stepz": [10]}),
        ["experiments.gan_mnist.grid.space.train.stepz: unknown key stepz (did you mean steps?)"]),
    "a misspelt top-level key": (
        lambda p: p.update(scorring=p.pop("scoring")),
        ["<top level>: unknown key(s) scorring (did you mean scoring?)"]),
    "a misspelt hyperparameter": (
        lambda p: p["experiments"]["gan_mnist"]["hparams"].update(lrr=0.1),
        ["experiments.gan_mnist.hparams: unknown key(s) lrr (did you mean lr?)"]),
    "a misspelt key in classifier_overrides": (
        lambda p: p["scoring"].update(classifier_overrides={"mnist_subset": {"epoch": 3}}),
        ["scoring.classifier_overrides.mnist_subset: unknown key(s) epoch (did you mean epochs?)"]),
    "a learning rate of 1e6 in classifier_overrides": (
        lambda p: p["scoring"].update(classifier_overrides={"mnist_subset": {"lr": 1e6}}),
        ["scoring.classifier_overrides.mnist_subset.lr = 1000000.0: must be <= 10"]),
    "a misspelt dataset in classifier_overrides": (
        lambda p: p["scoring"].update(classifier_overrides={"mnist_subst": {"epochs": 3}}),
        ["scoring.classifier_overrides.mnist_subst: no such dataset (did you mean mnist_subset?)"]),
    "a misspelt dataset in quality_floor_overrides": (
        lambda p: p["scoring"].update(quality_floor_overrides={"ring9": 0.5}),
        ["scoring.quality_floor_overrides.ring9: no such dataset (did you mean ring8?)"]),
    "a report block (no report hints are read)": (
        lambda p: p["experiments"]["gan_mnist"].update(report={"sample_grids": True}),
        ["experiments.gan_mnist: unknown key(s) report"]),
    "a misspelt model": (
        lambda p: p["experiments"]["gan_mnist"].update(model="gann"),
        ["experiments.gan_mnist.model = 'gann': unknown value (did you mean gan?)"]),
    "a misspelt dataset reference": (
        lambda p: p["experiments"]["gan_mnist"].update(dataset="mnist_subst"),
        ["experiments.gan_mnist.dataset = 'mnist_subst': no such dataset (did you mean mnist_subset?)"]),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exits_2_naming_the_key_and_the_fix(workdir, tiny_params, capsys, case):
    mutate, words = BAD_INPUTS[case]
    mutate(tiny_params)
    (workdir / "params.yaml").write_text(yaml.safe_dump(tiny_params, sort_keys=False))
    assert main(["plan"]) == 2
    err = capsys.readouterr().err
    for word in words:
        assert word in err, err
    assert "Traceback" not in err


def test_a_key_given_twice_exits_2_naming_the_line(workdir, capsys):
    text = (workdir / "params.yaml").read_text()
    (workdir / "params.yaml").write_text(text.replace("profile: test\n", "profile: test\nprofile: again\n"))
    assert main(["plan"]) == 2
    err = capsys.readouterr().err
    assert 'params.yaml: not valid YAML: line 2, column 1: found duplicate key "profile"' in err, err


def test_numbers_are_read_as_yaml_1_2(workdir):
    """`lr: 1e-3` is a number, as DVC reads it (PyYAML's YAML 1.1 makes it a string)."""
    text = (workdir / "params.yaml").read_text()
    (workdir / "params.yaml").write_text(text.replace("lr: 0.001", "lr: 1e-3"))
    assert main(["plan"]) == 0
    run = make_plan(load_params("params.yaml")).job("gan_ring8.0").runs[0]
    assert run.hparams["lr"] == 0.001


def test_the_stamp_never_changes_with_the_params(workdir, tiny_params, capsys):
    assert main(["plan", "--summary", "--stamp", "logs/a"]) == 0
    tiny_params["experiments"]["gan_mnist"]["hparams"]["g_hidden"] = [64]
    (workdir / "params.yaml").write_text(yaml.safe_dump(tiny_params, sort_keys=False))
    assert main(["plan", "--summary", "--stamp", "logs/b"]) == 0
    assert (workdir / "logs/a").read_text() == (workdir / "logs/b").read_text() == STAMP_TEXT
    assert "gan_mnist" in capsys.readouterr().out


def test_no_stamp_for_invalid_params(workdir, tiny_params):
    tiny_params["experiments"]["gan_mnist"]["train"]["steps"] = 0
    (workdir / "params.yaml").write_text(yaml.safe_dump(tiny_params, sort_keys=False))
    assert main(["plan", "--stamp", "logs/params.valid"]) == 2
    assert not (workdir / "logs/params.valid").exists()
