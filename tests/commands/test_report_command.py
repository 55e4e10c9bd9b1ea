"""``python -m pipeline report``: report files from a fixture tree; clear error without the
aggregate; a kill mid-report leaves the previous report complete."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

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


def test_an_unwritable_reports_folder_exits_2_naming_it(workdir, tiny_params, monkeypatch, capsys):
    build_tree(workdir, tiny_params)
    assert main(["aggregate", "--out", "reports/aggregate"]) == 0

    def denied(**kwargs):  # what mkdtemp meets in a read-only folder (root is never refused)
        raise PermissionError(13, "Permission denied", kwargs["dir"])

    monkeypatch.setattr("pipeline.io.tempfile.mkdtemp", denied)
    assert main(REPORT) == 2
    err = capsys.readouterr().err
    assert "reports: not writable by this user; make it writable (chmod u+w reports)" in err
    assert "Traceback" not in err


def test_report_without_aggregate_says_what_to_run(workdir, capsys):
    assert main(["report", "--aggregate", "reports/aggregate"]) == 2
    assert "run `python -m pipeline aggregate` first" in capsys.readouterr().err


def test_a_missing_job_is_reported_only_when_allowed_and_listed(workdir, tiny_params, capsys):
    """One unscored job (a cluster job that timed out) blocks nothing with --allow-missing:
    the aggregate marks its runs missing, the report lists them; strict mode refuses."""
    import json

    build_tree(workdir, tiny_params, skip_jobs=("gan_ring8.0",))
    assert main(["aggregate", "--out", "reports/aggregate", "--allow-missing"]) == 0
    assert "3 runs (0 failed, 2 missing)" in capsys.readouterr().out
    metrics = json.loads((workdir / "reports" / "aggregate" / "metrics.json").read_text())
    assert metrics["runs_missing"] == 2 and metrics["runs_failed"] == 0
    report = ["report", "--aggregate", "reports/aggregate", "--runs", "runs", "--refs", "refs", "--out", "reports"]
    assert main(report) == 2
    assert "1 job(s) have no scores in the aggregate (gan_ring8.0)" in capsys.readouterr().err
    assert main([*report, "--allow-missing"]) == 0
    md = (workdir / "reports" / "report.md").read_text()
    assert "## Missing and failed runs" in md and "| gan_ring8.0 | gan_ring8 | missing | 2 |" in md


REPORT = ["report", "--aggregate", "reports/aggregate", "--runs", "runs", "--refs", "refs", "--out", "reports"]


def report_files(reports: Path) -> dict[str, bytes]:
    """The report's files (not the aggregate) by path relative to ``reports``."""
    files = [reports / "report.md", reports / "report.html"]
    files += [p for d in ("figures", "plots") for p in sorted((reports / d).rglob("*")) if p.is_file()]
    return {str(p.relative_to(reports)): p.read_bytes() for p in files}


def test_kill_9_during_report_leaves_the_previous_report_complete(workdir, tiny_params):
    build_tree(workdir, tiny_params)
    assert main(["aggregate", "--out", "reports/aggregate"]) == 0
    cmd = [sys.executable, "-m", "pipeline", *REPORT]
    subprocess.run(cmd, cwd=workdir, check=True, capture_output=True)
    before = report_files(workdir / "reports")
    start = time.time()
    proc = subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = start + 120
    while not any(p.stat().st_mtime >= start for p in (workdir / "reports").rglob("*.png")):
        assert proc.poll() is None and time.time() < deadline, "the report finished before a figure was seen"
        time.sleep(0.005)
    proc.kill()  # SIGKILL while the figures are being drawn
    assert proc.wait() == -signal.SIGKILL
    assert report_files(workdir / "reports") == before
    md = (workdir / "reports" / "report.md").read_text()
    assert all((workdir / "reports" / f).is_file() for f in re.findall(r"\((figures/[^)]+\.png)\)", md))
    subprocess.run(cmd, cwd=workdir, check=True, capture_output=True)  # the next report cleans up
    assert not list((workdir / "reports").glob(".tmp-*"))
