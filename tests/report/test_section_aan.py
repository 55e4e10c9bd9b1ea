"""The AAN section: Gibbs-steps figure, chain change, training balance and the claims'
verdicts from (fake) pipeline outputs with known values."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from report_support import build_tree

from pipeline.config import make_plan
from pipeline.report import aggregate
from pipeline.report.claims import Settings, evaluate_all, load_claims
from pipeline.report.context import SectionContext
from pipeline.report.sections.aan import balance_ratio, render

HP = {"arch": "mlp", "visible": 8, "hidden": 8}
EXPERIMENTS = {"aan_small": "rbm_small", "aan_large": "rbm_large", "aan_noise": "noise_gan"}
CHANGE = {"rbm_small": 0.10, "rbm_large": 0.05}  # per-step pixel change of the fake runs
GAP = {"rbm_small": 0.1, "rbm_large": 0.5, "noise_gan": 0.3}
LEARNED_IS, NOISE_IS = 8.0, 1.0  # G/is of every variant: above / far below the floor 0.65 x 9.5


@pytest.fixture
def params(tiny_params):
    tiny_params["experiments"] = {
        name: {"paper": "aan", "model": "aan", "variant": variant, "dataset": "mnist_subset",
               "seeds": [0, 1, 2], "shard_size": 3,
               "hparams": {**HP, **({"prior": "noise"} if variant == "noise_gan" else {})},
               "train": {"steps": 30, "batch_size": 8, "log_every": 10}, "sample": {"n": 16}}
        for name, variant in EXPERIMENTS.items()
    }
    return tiny_params


def fake_aan_outputs(root, params, g_is: float) -> None:
    """Add what the AAN model writes: aux arrays, both balance terms, run metrics (G/is =
    ``g_is`` + 0.1 x seed for every variant)."""
    plan = make_plan(params)
    for job in plan.jobs:
        path = root / job.scores
        doc = json.loads(path.read_text())
        for entry, run in zip(doc["runs"], job.runs):
            v = run.variant
            noise = 0.01 * run.seed
            entry["metrics"]["run/balance_gap"] = GAP[v] + noise
            entry["metrics"]["G/is"] = g_is + 0.1 * run.seed
            folder = root / job.out / run.name
            with np.load(folder / "samples.npz") as z:
                arrays = {k: z[k] for k in z.files}
            if v in CHANGE:
                entry["metrics"]["run/chain_change_per_step"] = CHANGE[v] + noise
                entry["metrics"]["run/chain_feature_change_per_step"] = 2 * CHANGE[v]
                arrays["aux/gibbs_chain"] = np.full((3, 11, 1, 28, 28), 40 * run.seed, dtype=np.uint8)
                arrays["aux/chain_change"] = np.full(9, CHANGE[v], dtype=np.float32)
                arrays["aux/chain_drift"] = CHANGE[v] * np.minimum(np.arange(10), 3).astype(np.float32)
            np.savez_compressed(folder / "samples.npz", **arrays)
            ratio = 1 + GAP[v]
            (folder / "train_log.csv").write_text(
                "step,loss_d,loss_g,log_d_real,log_1m_d_fake,wall_s,images_per_s\n"
                + "".join(f"{s},1.2,0.9,{-0.6 * ratio},-0.6,{s / 10},1000\n" for s in (10, 20, 30)))
        path.write_text(json.dumps(doc))


def make_ctx(tmp_path, params, g_is: float) -> SectionContext:
    build_tree(tmp_path, params)
    fake_aan_outputs(tmp_path, params, g_is)
    plan = make_plan(params)
    aggregate.write_aggregate(plan, tmp_path / "scores", tmp_path / "refs", tmp_path / "agg", 200, 0.95)
    runs, summary = aggregate.read_aggregate(tmp_path / "agg")
    settings = Settings("test", 200, 0.95)
    files = load_claims()
    results = evaluate_all({"aan": files["aan"]}, runs, settings)["aan"]
    return SectionContext("aan", files["aan"].title, "test", plan, runs[runs["paper"] == "aan"],
                          summary[summary["paper"] == "aan"], summary[summary["variant"] == "real data"],
                          results, tmp_path / "runs", tmp_path / "out", settings)


@pytest.fixture
def ctx(tmp_path, params):
    return make_ctx(tmp_path, params, LEARNED_IS)


def test_verdicts_follow_the_measured_numbers(ctx):
    verdicts = {r.claim.id: r.verdict for r in ctx.claims}
    assert verdicts["aan-f-gibbs-mixing"] == "holds"  # large 0.05 < small 0.10
    assert verdicts["aan-f-balance-mnist"] == "holds"  # AAN gap 0.1 < noise 0.3
    assert verdicts["aan-f-gibbs-samples"] == "inconclusive"  # qualitative
    assert verdicts["aan-f-balance-celeba"] == "not run"  # no CelebA experiment here
    assert verdicts["aan-quality-fid-mnist"] == "inconclusive"  # fake FIDs are equal across variants
    assert not any(r.below_floor for r in ctx.claims)  # every variant learned (G/is 8.0-8.2)


def test_noise_level_generators_are_never_judged(tmp_path, params):
    ctx = make_ctx(tmp_path, params, NOISE_IS)
    results = {r.claim.id: r for r in ctx.claims}
    for cid in ("aan-f-gibbs-mixing", "aan-f-balance-mnist", "aan-quality-is-mnist", "aan-quality-fid-mnist"):
        r = results[cid]
        assert r.verdict == "inconclusive" and r.below_floor, cid  # run/ metrics are judged on G
        assert r.reason.startswith("below the quality floor (IS 1.10 < 6.17 for ")
    assert results["aan-f-gibbs-samples"].verdict == "inconclusive" and not results["aan-f-gibbs-samples"].below_floor
    assert results["aan-f-balance-celeba"].verdict == "not run"
    text = render(ctx)
    assert "| aan_small | rbm_small | mnist_subset | 3 | 0 | no (IS 1.10 < 6.17) |" in text
    assert "**inconclusive — below the quality floor** (Figure (training balance), `aan-f-balance-mnist`)" in text


def test_section_draws_the_papers_figures_and_tables(ctx):
    text = render(ctx)
    names = {p.name for p in ctx.figures_written}
    assert {"gibbs_chain_mnist_subset.png", "chain_change_mnist_subset.png", "balance_mnist_subset.png"} <= names
    assert "### Gibbs steps on `mnist_subset`" in text and "### Training balance on `mnist_subset`" in text
    assert "run/chain_change_per_step" in text and "run/balance_gap" in text
    assert "(our question)" in text and "Best mean G/is here: 8.1; real held-out data: 9.5" in text
    assert "| aan_noise | noise_gan | mnist_subset | 3 | 0 | yes 3/3 |" in text  # the learned column
    for r in ctx.claims:
        assert f"`{r.claim.id}`" in text


def test_balance_ratio_of_logged_windows():
    log = pd.DataFrame({"step": [1, 2, 3], "log_d_real": [-0.7, -0.1, -1.0], "log_1m_d_fake": [-0.7, -2.0, 0.0]})
    ratio = balance_ratio(log)
    assert ratio.iloc[0] == pytest.approx(1.0) and ratio.iloc[1] == pytest.approx(0.05)
    assert np.isnan(ratio.iloc[2])


def test_section_without_aan_experiments(tmp_path, tiny_params):
    build_tree(tmp_path, tiny_params)
    plan = make_plan(tiny_params)
    aggregate.write_aggregate(plan, tmp_path / "scores", tmp_path / "refs", tmp_path / "agg", 100, 0.95)
    runs, summary = aggregate.read_aggregate(tmp_path / "agg")
    empty = SectionContext("aan", "AAN", "test", plan, runs[runs["paper"] == "aan"],
                           summary[summary["paper"] == "aan"], summary[summary["variant"] == "real data"],
                           [], tmp_path / "runs", tmp_path / "out", Settings("test", 100, 0.95))
    assert "_No AAN experiment runs at profile `test`._" in render(empty)
