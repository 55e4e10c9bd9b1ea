"""Section plug-ins: every paper has one, they render from the context alone, and the
generic layout copes with papers that have no experiment at this profile."""

from __future__ import annotations

import pytest
from report_support import build_tree

from pipeline.config import make_plan
from pipeline.report import aggregate
from pipeline.report.claims import PAPERS, Settings, evaluate_all, load_claims
from pipeline.report.context import SectionContext, md_table, stat_text
from pipeline.report.sections import renderer
from pipeline.report.sections.common import hparams_table


@pytest.fixture
def contexts(tmp_path, tiny_params):
    build_tree(tmp_path, tiny_params)
    plan = make_plan(tiny_params)
    aggregate.write_aggregate(plan, tmp_path / "scores", tmp_path / "refs", tmp_path / "agg", 100, 0.95)
    runs, summary = aggregate.read_aggregate(tmp_path / "agg")
    settings = Settings("test", 100, 0.95)
    files = load_claims()
    results = evaluate_all(files, runs, settings)
    return {p: SectionContext(p, files[p].title, "test", plan, runs[runs["paper"] == p],
                              summary[summary["paper"] == p], summary[summary["variant"] == "real data"],
                              results[p], tmp_path / "runs", tmp_path / "out", settings) for p in PAPERS}


def test_every_paper_has_a_section_that_renders(contexts):
    for paper, ctx in contexts.items():
        text = renderer(paper)(ctx)
        assert "### Claims" in text and all(f"`{r.claim.id}`" in text for r in ctx.claims), paper
    assert "No experiment of this paper runs at profile `test`" in renderer("dcd")(contexts["dcd"])


def test_context_helpers(contexts):
    ctx = contexts["gan"]
    assert ctx.experiments() == ["gan_ring8", "gan_mnist"]
    assert ctx.run_dir("gan_ring8/s1").name == "s1" and ctx.run_dir("nope/s0") is None
    assert set(ctx.samples("gan_mnist/s3")) == {"G"}
    assert list(ctx.train_log("gan_ring8/s0")["step"]) == [10, 20, 30]
    centres, std = ctx.mixture("ring8")
    assert centres.shape == (8, 2) and std == pytest.approx(0.02 / 1.414)
    assert ctx.mixture("mnist_subset") is None
    assert ctx.ceiling("mnist_subset", "G/is")["mean"] == 9.5
    table = ctx.metric_table(["G/is"], ["gan_mnist"])
    assert "| gan_mnist | default | mnist_subset | 1 | 0 | yes 1/1 | 8 |" in table and "| 9.5 |" in table
    assert "| failed | learned | G/is |" in table  # every experiment table shows whether G learned
    assert ctx.scored_metrics("gan_ring8") == ["G/hq_fraction", "G/kl_uniform", "G/modes", "run/failed"]
    assert "G/learned" not in ctx.scored_metrics("gan_mnist")  # a column of its own, not a metric
    assert ctx.learned(["gan_ring8"]) == "n/a"  # 2D toy: no IS
    assert "| gan_ring8 | mlp2d | ring8 | 2 | 0 | n/a |" in ctx.metric_table(["G/modes"], ["gan_ring8"])


def test_hparams_table_marks_sources_and_grid(contexts, tiny_params):
    ctx = contexts["gan"]
    table = hparams_table(ctx, "gan_ring8")
    assert "| lr | 0.001 | profile | 0.1 | code |" in table and "| k_steps | 1 | paper |" in table
    ctx.plan.params["experiments"]["gan_ring8"]["grid"] = {"space": {"hparams.lr": [0.001, 0.01]}}
    assert "| lr | [0.001, 0.01] | grid |" in hparams_table(ctx, "gan_ring8")


def test_markdown_helpers():
    assert stat_text(1.23456, 0.1, 1.0, 1.5, 3) == "1.235 ± 0.1 [1, 1.5] (n=3)"
    assert stat_text(float("nan")) == "—"
    assert md_table([["a|b", 1]], ["x", "y"]) == "| x | y |\n|---|---|\n| a\\|b | 1 |\n"
