"""The time-to-quality race: its loop, summary, target, the public recipe, and the bench
section end to end on the tiny params (numbers are not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
import yaml
from curve_support import build_mnist_reference, curve_params

from pipeline.benchmark.quality import race, summarise
from pipeline.benchmark.render import render, targets, time_to_quality_speedup
from pipeline.benchmark.training import load_bench_module, open_data
from pipeline.config import make_plan


class FakeClock:
    """time.perf_counter for the race: advanced by the fake step and the fake evaluation."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr("pipeline.benchmark.quality.time.perf_counter", fake)
    return fake


def test_race_counts_training_time_only_and_stops_at_the_highest_threshold(clock):
    scores = iter([1.0, 3.0, 5.5, 7.5, 9.0])

    def step(i):
        clock.now += 0.01

    def evaluate():
        clock.now += 0.5  # never counted as training
        return {"is": next(scores), "fid": 1.0, "eval_s": 0.5}

    rows = race(step, evaluate, every_s=0.025, budget_s=10.0, max_steps=100, stop_at=7.0)
    assert [r["is"] for r in rows] == [1.0, 3.0, 5.5, 7.5]
    assert [r["step"] for r in rows] == [0, 3, 6, 9]  # 3 x 10 ms >= 25 ms
    assert [r["train_s"] for r in rows] == pytest.approx([0.0, 0.03, 0.06, 0.09])


def test_race_ends_at_the_budget_or_the_step_limit(clock):
    def step(i):
        clock.now += 1 / 64  # exact in binary: no rounding at the boundaries

    evaluate = lambda: {"is": 1.0, "fid": 1.0, "eval_s": 0.0}
    by_steps = race(step, evaluate, every_s=1.0, budget_s=10.0, max_steps=7, stop_at=7.0)
    assert [r["step"] for r in by_steps] == [0, 7]
    by_time = race(step, evaluate, every_s=4 / 64, budget_s=10 / 64, max_steps=10**6, stop_at=7.0)
    assert [r["step"] for r in by_time] == [0, 4, 8, 10] and by_time[-1]["train_s"] == 10 / 64


def test_summary_and_target():
    rows = [
        {"step": s, "train_s": t, "is": v, "fid": 10.0, "eval_s": 0.1}
        for s, t, v in [(0, 0.0, 1.0), (10, 2.0, 5.2), (20, 4.0, 6.0)]
    ]
    ours = summarise("pipeline", rows, 100, (5.0, 7.0))
    assert ours["reached"] == {"5": {"train_s": 2.0, "step": 10}, "7": None}
    assert ours["images_per_s"] == 500.0 and ours["best_is"] == 6.0 and ours["evaluations"] == 3
    slower = [{**r, "train_s": 2 * r["train_s"]} for r in rows]
    section = {"recipes": [ours, summarise("public", slower, 64, (5.0, 7.0))]}
    assert time_to_quality_speedup(section, 5.0) == 2.0
    assert time_to_quality_speedup(section, 7.0) == 0.0  # the pipeline never reached 7
    assert time_to_quality_speedup({}, 5.0) is None
    met = {t["key"]: t["met"] for t in targets({"time_to_quality": section})}
    assert met["is5_speedup"] is True and met["is7_speedup"] is False


def test_public_recipe_trains_and_samples_without_touching_batchnorm(tiny_params, fetched):
    plan = make_plan(tiny_params)
    public = load_bench_module("bench.public_gan").PublicGAN(
        open_data(plan, "mnist_subset", fetched), 0
    )
    assert [m.in_features for m in public.nets["G"] if isinstance(m, torch.nn.Linear)] == [
        100,
        128,
        256,
        512,
        1024,
    ]
    assert [m.out_features for m in public.nets["D"] if isinstance(m, torch.nn.Linear)] == [
        512,
        256,
        1,
    ]
    losses = public.step(0)
    assert set(losses) == {"loss_d", "loss_g"}
    buffers = {k: v.clone() for k, v in public.nets.state_dict().items()}
    images = public.generate(50, torch.Generator().manual_seed(0))["G"]
    assert images.shape == (50, 1, 28, 28) and 0 <= images.min() and images.max() <= 1
    assert all(torch.equal(buffers[k], v) for k, v in public.nets.state_dict().items())
    assert public.nets["G"].training


@pytest.fixture
def quality_dir(tmp_path, tiny_params, fetched):
    params = curve_params(tiny_params)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    build_mnist_reference(params, fetched, tmp_path / "refs" / "mnist_subset")
    return tmp_path


def test_bench_section_races_both_recipes(quality_dir, fetched):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "bench",
            "--data",
            str(fetched),
            "--sections",
            "time_to_quality",
            "--quality-budget",
            "0.5",
            "--quality-every",
            "0.2",
        ],
        cwd=quality_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    section = json.loads((quality_dir / "reports/bench.json").read_text())["sections"][
        "time_to_quality"
    ]
    assert [r["recipe"] for r in section["recipes"]] == ["pipeline", "public"]
    assert section["threads"] == 2 and section["matmul_peak_gflops"] > 0
    for recipe in section["recipes"]:
        assert (
            recipe["curve"][0][:2] == [0, 0.0]
            and recipe["steps"] > 0
            and set(recipe["reached"]) == {"5", "7"}
        )
    text = (quality_dir / "reports/bench.md").read_text()
    assert "## Time to quality" in text and "| public | bench/public_gan.py | 64 |" in text
    assert "public recipe / gan_mnist training seconds to IS 5" in render({"sections": {}})
