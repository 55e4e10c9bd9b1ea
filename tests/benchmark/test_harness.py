"""The bench harness: step spreading, FLOP counting, case selection, targets, and the
command writing bench.json / bench.md (on the tiny test params; numbers are not asserted)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
import torch
import yaml

from pipeline.benchmark.render import render, targets
from pipeline.benchmark.training import cases, flops_per_step, spread
from pipeline.config import make_plan


def test_spread_covers_the_schedule():
    assert spread(10, 5) == [0, 2, 4, 6, 8]
    assert spread(3, 10) == [0, 1, 2]
    assert spread(280, 4)[-1] == 210


def test_flop_count_of_a_matmul_is_2mnk():
    a, b = torch.randn(8, 16), torch.randn(16, 4)
    assert flops_per_step(lambda s: a @ b, [0, 1]) == 2 * 8 * 16 * 4


def test_flop_count_works_around_autograd_grad():
    """DCD's latent Langevin calls autograd.grad inside a training step (module hooks break it)."""
    net = torch.nn.Linear(8, 4)
    z = torch.randn(16, 8, requires_grad=True)
    assert flops_per_step(lambda s: torch.autograd.grad(net(z).sum(), z), [0]) == 2 * (2 * 16 * 8 * 4)


def test_one_case_per_model_and_dataset(tiny_params):
    params = copy.deepcopy(tiny_params)
    params["experiments"]["gan_mnist_again"] = copy.deepcopy(params["experiments"]["gan_mnist"])
    found = cases(make_plan(params))
    assert [(c.model, c.dataset, c.experiment) for c in found] == [("gan", "ring8", "gan_ring8"),
                                                                   ("gan", "mnist_subset", "gan_mnist")]


def test_targets_are_computed_from_the_measurements():
    sections = {"training": {"cases": [{"speedup": 1.7}, {"speedup": 1.2}]},
                "workflow": {"noop_dvc_repro": {"seconds": 2.5}, "snakemake_dry_run": {"skipped": "no"}}}
    verdicts = {t["key"]: t["met"] for t in targets(sections)}
    assert verdicts == {"end_to_end_s": None, "min_speedup": False, "is5_speedup": None,
                        "is7_speedup": None, "noop_dvc_repro_s": True, "snakemake_dry_run_s": None}
    workflow_only = {"workflow": {"noop_dvc_repro": {"seconds": 3.5}}}
    assert "| no-op `dvc repro` <= 3 s | 3.5 | **not met** |" in render({"sections": workflow_only})


@pytest.fixture
def bench_dir(tmp_path, tiny_params, fetched):
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(tiny_params, sort_keys=False))
    return tmp_path


def _bench(cwd, fetched, *args):
    proc = subprocess.run([sys.executable, "-m", "pipeline", "bench", "--data", str(fetched), "--round-seconds",
                           "0.05", "--rounds", "2", *args], cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads((cwd / "reports/bench.json").read_text())


def test_bench_writes_results_and_keeps_sections_it_did_not_measure(bench_dir, fetched):
    first = _bench(bench_dir, fetched, "--sections", "training", "--experiments", "gan_ring8")
    (case,) = first["sections"]["training"]["cases"]
    assert case["experiment"] == "gan_ring8" and case["ours_images_per_s"] > 0 and case["reference_images_per_s"] > 0
    assert abs(sum(case["phase_fraction"].values()) - 1) < 1e-6 and case["gflop_per_step"] > 0
    assert first["machine"]["matmul_peak_gflops"] > 0

    second = _bench(bench_dir, fetched, "--sections", "workflow")
    assert second["sections"]["training"] == first["sections"]["training"]
    assert "skipped" in second["sections"]["workflow"]["noop_dvc_repro"]  # not a DVC repository
    text = (bench_dir / "reports/bench.md").read_text()
    assert "| gan/ring8 | gan_ring8 |" in text and "## Targets" in text


def test_unknown_section_is_refused_before_any_work(bench_dir, fetched):
    proc = subprocess.run([sys.executable, "-m", "pipeline", "bench", "--sections", "speed"], cwd=bench_dir,
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "--sections: unknown speed" in proc.stderr
    assert not (bench_dir / "reports").exists()


def test_end_to_end_keeps_its_copy_only_in_a_new_folder(tmp_path, monkeypatch):
    from pipeline.benchmark import workflow

    root = tmp_path / "repo"
    root.mkdir()
    (root / "params.yaml").write_text("profile: x\n")
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"],
                ["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "t"]):
        subprocess.run(cmd, cwd=root, check=True)
    monkeypatch.setattr(workflow, "_timed_repro", lambda copy: {"seconds": 1.0, "in": str(copy)})
    kept = tmp_path / "kept"
    assert workflow.end_to_end(root, kept) == {"seconds": 1.0, "in": str(kept)}
    assert (kept / "params.yaml").read_text() == "profile: x\n"
    with pytest.raises(FileExistsError, match="give a new folder"):
        workflow.end_to_end(root, kept)  # never runs over an existing folder
