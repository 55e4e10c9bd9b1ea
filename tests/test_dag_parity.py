"""DVC and Snakemake describe the same DAG: same jobs, commands, inputs and outputs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import PurePosixPath

import pytest


def normalise(path: str) -> str:
    return str(PurePosixPath(path))


def dvc_jobs(root) -> dict[str, dict[str, set[str]]]:
    """command -> {"outs", "deps"} for every stage of dvc.yaml (params files excluded)."""
    from dvc.repo import Repo

    jobs = {}
    with Repo(str(root)) as repo:
        for stage in repo.index.stages:
            deps = {normalise(d.def_path) for d in stage.deps if not getattr(d, "IS_PARAMS", False)
                    and type(d).__name__ != "ParamsDependency"}
            jobs[stage.cmd] = {"outs": {normalise(o.def_path) for o in stage.outs}, "deps": deps}
    return jobs


SHELL = re.compile(r"^(?:Shell command: )?(python -m pipeline .*)$", re.M)


def snakemake_jobs(root) -> dict[str, dict[str, set[str]]]:
    """command -> {"outs", "deps"} parsed from a forced dry run with printed shell commands."""
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--dry-run", "--forceall", "--printshellcmds", "--cores", "1",
         "--nocolor"],
        cwd=root, capture_output=True, text=True, check=True,
    )
    text = proc.stdout + proc.stderr
    jobs = {}
    for chunk in re.split(r"\n(?=(?:local)?rule \w+:\n)", text):
        head = re.match(r"(?:local)?rule (\w+):\n", chunk)
        if not head or head.group(1) == "all":
            continue
        fields = dict(re.findall(r"^    (input|output): (.*)$", chunk, re.M))
        cmd = SHELL.search(chunk).group(1).strip()
        split = lambda s: {normalise(p.strip()) for p in s.split(",") if p.strip()} if s else set()
        jobs[cmd] = {"outs": split(fields.get("output")), "deps": split(fields.get("input"))}
    return jobs


def expand_directory_deps(jobs: dict[str, dict[str, set[str]]]) -> None:
    """A DVC dependency on a folder holding other stages' outputs stands for those outputs."""
    outs = {o for job in jobs.values() for o in job["outs"]}
    for job in jobs.values():
        expanded = set()
        for dep in job["deps"]:
            inside = {o for o in outs if o.startswith(dep + "/")}
            expanded |= inside if inside and dep not in outs else {dep}
        job["deps"] = expanded


@pytest.fixture(scope="module")
def both(repo):
    return dvc_jobs(repo), snakemake_jobs(repo)


def test_same_commands(both):
    dvc, smk = both
    assert set(dvc) == set(smk)
    assert all(cmd.startswith("python -m pipeline ") for cmd in dvc)


def test_same_outputs(both):
    dvc, smk = both
    for cmd in dvc:
        assert dvc[cmd]["outs"] == smk[cmd]["outs"], cmd


def test_same_data_dependencies(both):
    """Inputs that are pipeline products (data/, refs/, runs/, scores/, reports/, the validate
    stage's stamp) agree; source-code dependencies may be declared at different granularity."""
    dvc, smk = both
    expand_directory_deps(dvc)
    products = ("data/", "refs/", "runs/", "scores/", "reports/", "logs/params.valid")
    for cmd in dvc:
        pick = lambda deps: {d for d in deps if d.startswith(products)}
        assert pick(dvc[cmd]["deps"]) == pick(smk[cmd]["deps"]), cmd


def test_every_fetch_waits_for_the_validated_params(both):
    """The validate stage (the whole params file) runs before any fetch, in both engines."""
    for deps in both:
        validate = [cmd for cmd in deps if " plan " in cmd and "--stamp logs/params.valid" in cmd]
        fetches = [job for cmd, job in deps.items() if cmd.startswith("python -m pipeline fetch ")]
        assert len(validate) == 1 and fetches
        assert all("logs/params.valid" in job["deps"] for job in fetches)


def test_every_planned_job_has_a_train_and_score_stage(both, repo):
    from pipeline.config import load_params, make_plan

    dvc, _ = both
    plan = make_plan(load_params(repo / "params.yaml"))
    commands = " ".join(dvc)
    for job in plan.jobs:
        assert f"train {job.id} " in commands and f"score {job.id} " in commands
