"""End to end: the ci profile through `dvc repro` and through `snakemake`, in
temporary copies of the repository; both must produce the same files and the
same numbers."""

from __future__ import annotations

import csv
import json
import sys

import pytest
from e2e_support import clone, products, run, strip_timing

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def dvc_run(repo, tmp_path_factory):
    root = clone(repo, tmp_path_factory.mktemp("dvc"))
    run([sys.executable, "-m", "pipeline", "profile", "ci"], root)
    first = run(["dvc", "repro"], root)
    return root, first


@pytest.fixture(scope="module")
def snakemake_run(repo, tmp_path_factory):
    root = clone(repo, tmp_path_factory.mktemp("smk"))
    run([sys.executable, "-m", "pipeline", "profile", "ci"], root)
    run([sys.executable, "-m", "snakemake", "--workflow-profile", "profiles/local", "--cores", "2"], root)
    return root


def test_dvc_repro_builds_the_report_and_then_does_nothing(dvc_run):
    root, first = dvc_run
    assert (root / "reports/report.html").stat().st_size > 1000
    assert "Running stage 'report'" in first.stdout
    again = run(["dvc", "repro"], root)
    assert "Data and pipelines are up to date" in again.stdout
    assert "Running stage" not in again.stdout


def test_snakemake_and_dvc_produce_the_same_files_and_numbers(dvc_run, snakemake_run):
    dvc_root, _ = dvc_run
    smk_root = snakemake_run
    assert products(dvc_root) == products(smk_root)
    for path in sorted((dvc_root / "scores").rglob("*.json")):
        rel = path.relative_to(dvc_root)
        a, b = json.loads(path.read_text()), json.loads((smk_root / rel).read_text())
        assert strip_timing(a) == strip_timing(b), rel
    for name in ("runs.csv",):
        assert (dvc_root / "reports/aggregate" / name).read_text() == (smk_root / "reports/aggregate" / name).read_text()


def test_a_run_that_hit_nan_is_recorded_as_diverged_and_the_report_still_shows_it(dvc_run):
    root, _ = dvc_run
    with open(root / "reports/aggregate/runs.csv") as fh:
        statuses = {row["status"] for row in csv.DictReader(fh) if row["run_id"] == "gan_ring8_nan/s0"}
    assert statuses == {"diverged"}
    train = json.loads((root / "runs/gan_ring8_nan/shard0/s0/train.json").read_text())
    assert 10 < train["diverged_at_step"] <= 15  # caught at the first loss log (every 5 steps) after the NaN
    assert (root / "runs/gan_ring8_nan/shard0/s0/train_log.csv").read_text().count("\n") == 4  # header + 3 logs
    assert "| gan_ring8_nan | 1 | 1 |" in (root / "reports/report.md").read_text()
