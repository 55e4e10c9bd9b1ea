"""Report rendering from a tiny fixture tree: md structure, self-contained html, plot CSVs."""

from __future__ import annotations

import copy
import re

import pandas as pd
import pytest
from conftest import TINY_PARAMS
from report_support import build_tree

from pipeline.config import make_plan
from pipeline.report import aggregate, render
from pipeline.report.claims import Settings, evaluate_claim, parse_claim


@pytest.fixture(scope="module")
def params():
    p = copy.deepcopy(TINY_PARAMS)
    p["experiments"]["gan_mnist"]["seeds"] = [3, 4]
    return p


@pytest.fixture(scope="module")
def report(tmp_path_factory, params):
    tmp_path = tmp_path_factory.mktemp("tree")
    build_tree(tmp_path, params, diverged=("gan_mnist/s4",))
    plan = make_plan(params)
    aggregate.write_aggregate(plan, tmp_path / "scores", tmp_path / "refs", tmp_path / "reports" / "aggregate",
                              200, 0.95)
    out = render.build_report(plan, tmp_path / "reports" / "aggregate", tmp_path / "runs", tmp_path / "refs",
                              tmp_path / "reports")
    return tmp_path / "reports", out


def test_markdown_has_claims_first_then_papers_then_provenance(report):
    reports, out = report
    md = (reports / "report.md").read_text()
    headings = re.findall(r"^## (.+)$", md, flags=re.MULTILINE)
    assert headings[0] == "Claims" and headings[-1] == "Provenance"
    assert [h.split(" (")[0].split(":")[0] for h in headings[1:6]] == [
        "Generative Adversarial Nets", "Energy-based Generative Adversarial Network",
        "Associative Adversarial Networks", "MemoryGAN", "Discriminator Contrastive Divergence"]
    n_claims = sum(len(v) for v in out.results.values())
    claims_block = md.split("## Claims", 1)[1].split("\n## ", 1)[0]
    assert claims_block.count("\n| ") == n_claims + 1  # header + one row per claim
    assert all(f"`{r.claim.id}`" in claims_block for rs in out.results.values() for r in rs)
    assert "| not run |" in claims_block


def test_gan_section_tables_figures_and_hyperparameters(report):
    reports, _ = report
    md = (reports / "report.md").read_text()
    gan = md.split("## Generative Adversarial Nets", 1)[1].split("\n## ", 1)[0]
    assert "G/parzen_ll" in gan and "225 ± 2" in gan
    assert "real data (held-out)" in gan and "| 9.5 |" in gan.replace(" ± ", "|")  # IS ceiling
    assert "G/hq_fraction" in gan
    for name in ("gan_mnist_samples", "gan_ring8_samples", "gan_mnist_curves", "bars_G_is"):
        assert f"figures/gan/{name}.png" in gan
        assert (reports / "figures" / "gan" / f"{name}.png").stat().st_size > 1000
    assert "### Hyperparameters" in gan and "| z_dim | 2 | profile | 100 | code |" in gan
    assert "| lr | 0.1 | code |" in gan  # gan_mnist keeps the default
    prov = md.split("## Provenance", 1)[1]
    assert "`abc123`" in prov and "cpu:x86_64" in prov and "| gan_mnist | 2 | 1 |" in prov


def test_html_is_self_contained(report):
    reports, _ = report
    html = (reports / "report.html").read_text()
    srcs = re.findall(r'\bsrc="([^"]*)"', html)
    hrefs = re.findall(r'\bhref="([^"]*)"', html)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert all(h.startswith("#") for h in hrefs)
    assert "<link" not in html and "<script" not in html and "@import" not in html
    assert '<td class="verdict v-not-run">not run</td>' in html
    assert "<table>" in html


def test_dvc_plot_csvs(report):
    reports, _ = report
    folder = reports / "plots" / "train" / "gan_ring8"
    assert sorted(p.name for p in folder.glob("*.csv")) == ["loss_d.csv", "loss_g.csv"]
    lines = (folder / "loss_g.csv").read_text().splitlines()
    assert lines[0] == "step,loss_g" and lines[1:] == ["10,0.2", "20,0.1", "30,0.06666666666666667"]


def test_rerender_replaces_stale_figures(report, params):
    reports, _ = report
    stale = reports / "figures" / "gan" / "old.png"
    stale.write_bytes(b"x")
    root = reports.parent
    render.build_report(make_plan(params), reports / "aggregate", root / "runs", root / "refs", reports)
    assert not stale.exists() and (reports / "figures" / "gan" / "gan_mnist_samples.png").is_file()



def test_claims_below_the_quality_floor_are_shown_apart(report, tmp_path):
    reports, _ = report
    md = (reports / "report.md").read_text()
    assert "floor (`scoring.quality_floor` × the real held-out IS; here mnist_subset 6.17)" in md
    base = {"paper": "p", "model": "m", "variant": "v", "dataset": "d", "dataset_kind": "mnist", "seed": "0",
            "config": "", "grid_point": "{}", "status": "ok"}
    noise = pd.DataFrame(
        [{**base, "run_id": f"{e}/s{i}", "experiment": e, "metric": "G/is", "value": v}
         for e, vs in (("a", [1.3, 1.35, 1.4]), ("b", [1.0, 1.01, 1.02])) for i, v in enumerate(vs)]
        + [{**base, "run_id": "reference/d", "experiment": "", "variant": "real data", "metric": "real/is_floor",
            "value": 5.98}])
    c = parse_claim({"id": "c", "source": "T1", "statement": "A beats B", "test": "greater", "metric": "G/is",
                     "groups": [{"label": "A", "select": {"experiment": "a"}},
                                {"label": "B", "select": {"experiment": "b"}}]}, "p", "p.yaml")
    text = render.claims_table({"p": [evaluate_claim(c, noise, Settings("test", 200, 0.95))]})
    assert ("| inconclusive — below the quality floor | below the quality floor "
            "(IS 1.35 < 5.98 for A; IS 1.01 < 5.98 for B) |") in text
    html = render.to_html(text, tmp_path, "t")
    assert ('<td class="verdict v-inconclusive v-below-floor">inconclusive — below the quality floor</td>'
            in html)
