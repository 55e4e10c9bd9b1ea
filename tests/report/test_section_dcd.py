"""The DCD section: before/after tables, trajectory figures, cost table, the published
Table 1 beside ours, and the claims' verdicts from (fake) pipeline outputs with known values."""

from __future__ import annotations

import json

import numpy as np
import pytest
from report_support import build_tree

from pipeline.config import make_plan
from pipeline.report import aggregate
from pipeline.report.claims import Settings, evaluate_all, load_claims
from pipeline.report.context import SectionContext
from pipeline.report.sections.dcd import render

TOY = {"arch": "mlp", "z_dim": 2, "g_hidden": [8], "d_hidden": [8], "base_steps": 20, "finetune_steps": 10}
IMG = {"arch": "dcgan", "z_dim": 8, "g_channels": 8, "d_channels": 4, "bottom_width": 7, "base_steps": 20,
       "finetune_steps": 10}
HQ = {"G": 0.2, "pixel": 0.7, "latent": 0.5, "finetuned": 0.6}  # ring-8 high-quality fractions
IS = {"G": 3.0, "pixel": 3.5, "latent": 4.0, "finetuned": 3.8}  # MNIST IS; FID = 100 - 10 IS
LEARNED = 4.0  # added to every IS: 7.0-8.0, above the floor 0.65 x 9.5; without it all sets are below
GRID = np.linspace(-3, 3, 9).astype(np.float32)


@pytest.fixture
def params(tiny_params):
    common = {"paper": "dcd", "model": "dcd", "seeds": [0, 1, 2], "shard_size": 3,
              "train": {"steps": 30, "batch_size": 8, "log_every": 10}, "sample": {"n": 16}}
    tiny_params["experiments"] = {
        "dcd_ring8": {**common, "variant": "toy", "dataset": "ring8", "hparams": TOY},
        "dcd_mnist": {**common, "variant": "dcgan", "dataset": "mnist_subset", "hparams": IMG},
    }
    return tiny_params


def fake_dcd_outputs(root, params, is_offset: float) -> None:
    """What the DCD model and the score stage write: four sample sets, aux arrays, run metrics
    (MNIST IS of each set: ``IS`` + ``is_offset``)."""
    plan = make_plan(params)
    for job in plan.jobs:
        path = root / job.scores
        doc = json.loads(path.read_text())
        for entry, run in zip(doc["runs"], job.runs):
            m, jitter = entry["metrics"], 0.01 * run.seed
            folder = root / job.out / run.name
            if run.dataset == "ring8":
                for s, hq in HQ.items():
                    m.update({f"{s}/hq_fraction": hq + jitter, f"{s}/modes": 8.0, f"{s}/kl_uniform": 0.1})
                arrays = {s: np.full((20, 2), i, np.float32) for i, s in enumerate(HQ)}
                arrays |= {"aux/grid_axis": GRID, "aux/energy_base": np.add.outer(GRID, GRID) ** 2,
                           "aux/energy_finetuned": np.add.outer(GRID, GRID) ** 2,
                           "aux/traj_pixel": np.zeros((4, 5, 2), np.float32),
                           "aux/traj_latent": np.zeros((3, 5, 2), np.float32),
                           "aux/traj_finetuned": np.zeros((4, 5, 2), np.float32)}
            else:
                for s, v0 in IS.items():
                    v = v0 + is_offset
                    m.update({f"{s}/is": v + jitter, f"{s}/fid": 100 - 10 * v - jitter})
                arrays = {s: np.zeros((16, 1, 28, 28), np.uint8) for s in IS}
                arrays |= {f"aux/traj_{s}": np.full((21, 2, 1, 28, 28), 0.5, np.float32)
                           for s in ("pixel", "latent", "finetuned")}
            m |= {"run/extra_critic_grads_pixel": 20.0, "run/extra_critic_grads_latent": 20.0,
                  "run/extra_generator_grads_latent": 20.0, "run/time_ratio_pixel": 30.0 + run.seed,
                  "run/time_ratio_latent": 60.0, "run/critic_gain_pixel": 0.5}
            np.savez_compressed(folder / "samples.npz", **arrays)
        path.write_text(json.dumps(doc))


def context(tmp_path, params) -> SectionContext:
    plan = make_plan(params)
    aggregate.write_aggregate(plan, tmp_path / "scores", tmp_path / "refs", tmp_path / "agg", 200, 0.95)
    runs, summary = aggregate.read_aggregate(tmp_path / "agg")
    settings = Settings("test", 200, 0.95)
    files = load_claims()
    results = evaluate_all({"dcd": files["dcd"]}, runs, settings)["dcd"]
    return SectionContext("dcd", files["dcd"].title, "test", plan, runs[runs["paper"] == "dcd"],
                          summary[summary["paper"] == "dcd"], summary[summary["variant"] == "real data"],
                          results, tmp_path / "runs", tmp_path / "out", settings)


@pytest.fixture
def ctx(tmp_path, params):
    build_tree(tmp_path, params)
    fake_dcd_outputs(tmp_path, params, LEARNED)
    return context(tmp_path, params)


def test_verdicts_follow_the_measured_numbers(ctx):
    v = {r.claim.id: r.verdict for r in ctx.claims}
    assert v["dcd-toy-ring8-pixel-hq"] == v["dcd-toy-ring8-latent-hq"] == "holds"  # 0.7, 0.5 > 0.2
    assert v["dcd-toy-ring8-pixel-modes"] == "holds"  # 8 = 8 in every run
    assert v["dcd-mnist-latent-vs-pixel-is"] == v["dcd-mnist-latent-vs-g-fid"] == "holds"
    assert v["dcd-toy-grid25-pixel-hq"] == v["dcd-t1-cifar10-latent-vs-g-is"] == "not run"
    assert v["dcd-t1-cifar10-latent-is-abs"] == "not run"  # paper profile only
    assert v["dcd-toy-swissroll"] == "not run"
    assert not any(r.below_floor for r in ctx.claims)


def test_refinement_of_a_generator_below_the_floor_is_never_judged(tmp_path, params):
    build_tree(tmp_path, params)
    fake_dcd_outputs(tmp_path, params, 0.0)  # IS 3-4, as the smoke profile's SN-CNN after 300 steps
    ctx = context(tmp_path, params)
    results = {r.claim.id: r for r in ctx.claims}
    for cid in ("dcd-mnist-pixel-vs-g-is", "dcd-mnist-latent-vs-g-is", "dcd-mnist-latent-vs-pixel-is",
                "dcd-mnist-pixel-vs-g-fid", "dcd-mnist-latent-vs-g-fid"):
        assert results[cid].verdict == "inconclusive" and results[cid].below_floor, cid
    assert results["dcd-mnist-latent-vs-g-is"].reason == (
        "below the quality floor (IS 4.01 < 6.17 for DCD latent; IS 3.01 < 6.17 for base G)")
    assert results["dcd-toy-ring8-pixel-hq"].verdict == "holds"  # 2D toy: no IS, not applicable
    text = render(ctx)
    mnist = text.split("**`dcd_mnist`**")[1]
    assert "| latent Langevin (base critic) | no (IS 4.01 < 6.17) |" in mnist
    assert "| dcd_mnist | no (IS 3.01 < 6.17) | 20 ± 0 |" in text  # the cost table's learned column


def test_section_tables_and_figures(ctx):
    text = render(ctx)
    names = {p.name for p in ctx.figures_written}
    assert {"dcd_ring8_trajectories.png", "dcd_mnist_trajectories.png", "dcd_ring8_samples.png"} <= names
    ring = text.split("**`dcd_ring8`**")[1].split("**`dcd_mnist`**")[0]
    assert "| pixel Langevin (base critic) | n/a | 8 ± 0 [8, 8] | 0.71 ± 0.01 [0.7, 0.72]" in ring
    assert "| real data (held-out) |  | 8 | 0.989 |" in ring
    mnist = text.split("**`dcd_mnist`**")[1].split("###")[0]
    assert "| latent Langevin (base critic) | yes 3/3 | 8.01 ± 0.01" in mnist
    assert "| cifar10 | SNGAN-DCD (latent) |  | 9.11 | not run at `test` | 16.24 | not run at `test` |" in text
    assert "| dcd_mnist | yes 3/3 | 20 ± 0 | 20 ± 0 | 20 ± 0 | 31 ± 1 | 60 ± 0 | 0.5 ± 0 |" in text
    for r in ctx.claims:
        assert f"`{r.claim.id}`" in text


def test_section_without_dcd_experiments(tmp_path, tiny_params):
    build_tree(tmp_path, tiny_params)
    text = render(context(tmp_path, tiny_params))
    assert "_No experiment of this paper runs at profile `test`._" in text and "not run at `test`" in text
