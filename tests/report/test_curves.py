"""Learning curves in the report: figure, caption, floor table and DVC plot data."""

from __future__ import annotations

import copy
import json

import pandas as pd
import pytest
from conftest import TINY_PARAMS
from report_support import build_tree

from pipeline.config import make_plan
from pipeline.report import aggregate, figures, render

ROWS = (
    "step,wall_s,is,fid,eval_s\n0,0.0,1.0,300.0,0.2\n6,1.5,{mid},80.0,0.2\n12,3.0,{end},20.0,0.2\n"
)


def add_curves(root, params) -> None:
    """eval_log.csv and train.json's curve record for the gan_mnist runs of the fixture tree."""
    plan = make_plan(params)
    for job in plan.jobs:
        if job.experiment != "gan_mnist":
            continue
        for run in job.runs:
            folder = root / job.out / run.name
            mid, end = (6.5, 8.0) if run.seed == 3 else (3.0, 4.0)
            (folder / "eval_log.csv").write_text(ROWS.format(mid=mid, end=end))
            info = json.loads((folder / "train.json").read_text())
            reached = run.seed == 3
            info["curve"] = {
                "eval_every": 6,
                "eval_n": 500,
                "eval_s_mean": 0.2,
                "real_is": 9.5,
                "floor_fraction": 0.65,
                "floor_is": 6.175,
                "floor_step": 6 if reached else None,
                "floor_wall_s": 1.5 if reached else None,
            }
            (folder / "train.json").write_text(json.dumps(info))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    params = copy.deepcopy(TINY_PARAMS)
    params["experiments"]["gan_mnist"]["seeds"] = [3, 4]
    root = tmp_path_factory.mktemp("tree")
    build_tree(root, params)
    add_curves(root, params)
    plan = make_plan(params)
    reports = root / "reports"
    aggregate.write_aggregate(
        plan, root / "scores", root / "refs", reports / "aggregate", 200, 0.95
    )
    render.build_report(plan, reports / "aggregate", root / "runs", root / "refs", reports)
    return reports


def test_gan_section_draws_the_learning_curves_with_caption_and_floor_table(report):
    md = (report / "report.md").read_text()
    gan = md.split("## Generative Adversarial Nets", 1)[1].split("\n## ", 1)[0]
    assert "### Learning curves" in gan and "figures/gan/gan_mnist_learning.png" in gan
    assert (report / "figures/gan/gan_mnist_learning.png").stat().st_size > 1000
    assert "_gan_mnist on mnist_subset, seeds 3, 4: IS and FID" in gan
    assert "every 6 training steps" in gan and "IS = 6.17" in gan  # the floor in the caption
    assert "| gan_mnist | mnist_subset | 1/2 | s3: 6 | s3: 1.5 | 0.2 |" in gan
    assert "gan_ring8_learning" not in gan  # no curve for the 2D toy
    other = md.split("## Energy-based", 1)[1]
    assert "### Learning curves" not in other.split("\n## ", 1)[0]


def test_curves_are_dvc_plot_data(report):
    is_csv = pd.read_csv(report / "plots/curves/gan_mnist/is.csv")
    assert list(is_csv.columns) == ["step", "is"] and list(is_csv["step"]) == [0, 6, 12]
    assert is_csv["is"].tolist() == pytest.approx([1.0, 4.75, 6.0])
    assert list(pd.read_csv(report / "plots/curves/gan_mnist/fid.csv").columns) == ["step", "fid"]
    assert not (report / "plots/curves/gan_ring8").exists()


def test_learning_curves_figure_has_is_and_fid_panels_with_reference_lines():
    log = pd.read_csv(pd.io.common.StringIO(ROWS.format(mid=5.0, end=7.0)))
    fig = figures.learning_curves({"s0": log, "s1": log}, floor=6.0, real_is=9.0, title="t")
    ax_is, ax_fid = fig.axes[:2]
    assert len(ax_is.lines) == 4 and len(ax_fid.lines) == 2  # two runs + floor + real IS
    assert ax_fid.get_yscale() == "log"  # FID 300 -> 20
    narrow = log.assign(fid=[300.0, 250.0, 200.0])
    assert figures.learning_curves({"s0": narrow}).axes[1].get_yscale() == "linear"
    assert {line.get_ydata()[0] for line in ax_is.lines[2:]} == {6.0, 9.0}
