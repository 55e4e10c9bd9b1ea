"""``python -m pipeline aggregate``: outputs on a fixture tree, clear error on missing scores."""

from __future__ import annotations

import json

from report_support import build_tree

from pipeline.cli import main


def test_aggregate_writes_the_three_files(workdir, tiny_params, capsys):
    build_tree(workdir, tiny_params, diverged=("gan_ring8/s1",))
    assert main(["aggregate", "--scores", "scores", "--refs", "refs", "--out", "reports/aggregate"]) == 0
    out = capsys.readouterr().out
    assert "3 runs (1 failed)" in out
    for name in ("runs.csv", "summary.csv", "metrics.json"):
        assert (workdir / "reports" / "aggregate" / name).is_file()
    metrics = json.loads((workdir / "reports" / "aggregate" / "metrics.json").read_text())
    assert metrics["runs_failed"] == 1 and metrics["gan_ring8/run/failed"] == 0.5


def test_missing_score_file_is_a_clear_error(workdir, tiny_params, capsys):
    build_tree(workdir, tiny_params, skip_jobs=("gan_ring8.0",))
    assert main(["aggregate", "--scores", "scores", "--refs", "refs", "--out", "reports/aggregate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: job gan_ring8.0: no score file") and "plan --write" in err
    assert not (workdir / "reports" / "aggregate" / "runs.csv").exists()
