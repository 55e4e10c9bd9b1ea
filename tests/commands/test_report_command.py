"""``python -m pipeline report``: report files from a fixture tree; clear error without the aggregate."""

from __future__ import annotations

from report_support import build_tree

from pipeline.cli import main


def test_report_after_aggregate(workdir, tiny_params, capsys):
    build_tree(workdir, tiny_params)
    assert main(["aggregate", "--out", "reports/aggregate"]) == 0
    assert main(["report", "--aggregate", "reports/aggregate", "--runs", "runs", "--refs", "refs",
                 "--out", "reports"]) == 0
    out = capsys.readouterr().out
    assert "claims:" in out and "not run" in out
    md = (workdir / "reports" / "report.md").read_text()
    assert md.startswith("# Replication report") and "Profile **`test`**" in md
    assert (workdir / "reports" / "report.html").stat().st_size > (workdir / "reports" / "report.md").stat().st_size
    assert list((workdir / "reports" / "figures" / "gan").glob("*.png"))


def test_report_without_aggregate_says_what_to_run(workdir, capsys):
    assert main(["report", "--aggregate", "reports/aggregate"]) == 2
    assert "run `python -m pipeline aggregate` first" in capsys.readouterr().err
