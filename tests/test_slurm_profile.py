"""The SLURM profile on the paper profile, by a dry run (``snakemake -n``: nothing submitted):
hundreds of cluster jobs, not thousands, and no GPU for the rules that need none."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from e2e_support import clone

CPU_RULES = {"train_cpu", "reference", "score", "aggregate", "report"}
GPU_RULES = {"train", "reference_inception", "score_inception"}
LOCAL_RULES = {"all", "validate", "fetch"}  # the Snakefile's localrules: run on the submit host
JOB = re.compile(r"^(?:local)?rule (\w+):\n(.*?)(?=^\[|^(?:local)?rule |^Job stats|\Z)", re.MULTILINE | re.DOTALL)


@pytest.fixture(scope="module")
def paper_dry_run(repo, tmp_path_factory) -> list[tuple[str, bool, str]]:
    """(rule, runs on the submit host, text) of every job of the SLURM profile's dry run of the paper profile."""
    root = clone(repo, tmp_path_factory.mktemp("paper_slurm"))
    subprocess.run([sys.executable, "-m", "pipeline", "profile", "paper"], cwd=root, check=True,
                   capture_output=True)
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--workflow-profile", "profiles/slurm", "-n",
                           "--nocolor"], check=False, cwd=root, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return [(m.group(1), m.group(1) in LOCAL_RULES, m.group(2)) for m in JOB.finditer(proc.stdout + proc.stderr)]


def gpus(text: str) -> int:
    """GPUs a job requests: its ``gpu`` resource or a gpu ``gres``."""
    resources = re.search(r"^\s*resources: (.*)$", text, re.MULTILINE).group(1)
    gpu = re.search(r"(?:^|, )gpu=(\d+)", resources)
    gres = re.search(r"(?:^|, )gres=\S*gpu", resources)
    return int(gpu.group(1)) if gpu else int(bool(gres))


def test_the_paper_profile_is_hundreds_of_cluster_jobs(paper_dry_run):
    submitted = [rule for rule, local, _ in paper_dry_run if not local]
    assert 100 <= len(submitted) < 1000, len(submitted)


def test_cpu_only_rules_request_no_gpu_and_gpu_rules_one(paper_dry_run):
    by_rule: dict[str, set[int]] = {}
    for rule, local, text in paper_dry_run:
        if not local:
            by_rule.setdefault(rule, set()).add(gpus(text))
    assert set(by_rule) == CPU_RULES | GPU_RULES
    assert {r: g for r, g in by_rule.items() if r in CPU_RULES} == {r: {0} for r in CPU_RULES}
    assert {r: g for r, g in by_rule.items() if r in GPU_RULES} == {r: {1} for r in GPU_RULES}


def test_the_cluster_profile_reports_from_whatever_is_scored(paper_dry_run):
    commands = {rule: re.search(r"python -m pipeline .*", text).group(0) for rule, _, text in paper_dry_run
                if rule in ("aggregate", "report")}
    assert all(cmd.endswith(" --allow-missing") for cmd in commands.values()), commands
