# The pipeline DAG for Snakemake: the same jobs, commands and outputs as
# dvc.yaml. params.yaml is validated with the same JSON schema as the CLI uses
# and expanded with the same code (pipeline.config.make_plan).
#
#   snakemake --workflow-profile profiles/local            # this machine
#   snakemake --workflow-profile profiles/slurm            # a SLURM cluster

from pipeline.config import SCHEMA_FILE, make_plan
from snakemake.utils import validate


configfile: "params.yaml"


validate(config, str(SCHEMA_FILE))
RUNLIST = make_plan(config).run_list()
FETCH, REFS, JOBS = RUNLIST["fetch"], RUNLIST["references"], RUNLIST["jobs"]
CURVE_JOBS = RUNLIST["curve_jobs"]
ENV = "profiles/conda/pipeline.yaml"


wildcard_constraints:
    dataset="[A-Za-z0-9_]+",
    experiment="[A-Za-z0-9_]+",
    shard="[0-9]+",


localrules:
    all,
    fetch,


rule all:
    input:
        "reports/report.md",
        "reports/report.html",


rule fetch:
    input:
        "pipeline/data/fetch.py",
        "pipeline/data/formats.py",
        "pipeline/data/synthetic.py",
    output:
        directory("data/{dataset}"),
    params:
        options=lambda w: config["datasets"][w.dataset],
    log:
        "logs/fetch/{dataset}.log",
    conda:
        ENV
    shell:
        "python -m pipeline fetch {wildcards.dataset} --out {output} --log {log}"


def job_of(w):
    return JOBS[f"{w.experiment}.{w.shard}"]


def curve_ref(w):
    """refs/<dataset> for a job with learning curves (dvc.yaml's train stage), else nothing
    (dvc.yaml's train_plain stage)."""
    job_id = f"{w.experiment}.{w.shard}"
    return [CURVE_JOBS[job_id]["ref"]] if job_id in CURVE_JOBS else []


rule train:
    input:
        data=lambda w: job_of(w)["data"],
        ref=curve_ref,
        model=lambda w: job_of(w)["model_source"],
        hparams=lambda w: job_of(w)["hparams_source"],
        code=[
            "pipeline/train.py",
            "pipeline/train_monitor.py",
            "pipeline/models/base.py",
            "pipeline/nets",
            "pipeline/data/sources.py",
            "pipeline/data/affine.py",
        ],
    output:
        directory("runs/{experiment}/shard{shard}"),
    params:
        settings=lambda w: {
            "runtime": config["runtime"],
            "dataset": config["datasets"][job_of(w)["dataset"]],
            "experiment": config["experiments"][w.experiment],
        },
        ref_arg=lambda w, input: f" --ref {input.ref}" if input.ref else "",
    log:
        "logs/train/{experiment}.{shard}.log",
    conda:
        ENV
    shell:
        "python -m pipeline train {wildcards.experiment}.{wildcards.shard} --data {input.data}{params.ref_arg} --out {output} --log {log}"


rule reference:
    input:
        data=lambda w: REFS[w.dataset]["data"],
        code="pipeline/metrics",
    output:
        directory("refs/{dataset}"),
    params:
        settings=lambda w: {"scoring": config["scoring"], "dataset": config["datasets"][w.dataset]},
    log:
        "logs/reference/{dataset}.log",
    conda:
        ENV
    shell:
        "python -m pipeline reference {wildcards.dataset} --data {input.data} --out {output} --log {log}"


rule score:
    input:
        runs="runs/{experiment}/shard{shard}",
        data=lambda w: job_of(w)["data"],
        ref=lambda w: job_of(w)["ref"],
        code="pipeline/metrics",
    output:
        "scores/{experiment}/shard{shard}.json",
    params:
        settings=lambda w: {"scoring": config["scoring"], "experiment": config["experiments"][w.experiment]},
    log:
        "logs/score/{experiment}.{shard}.log",
    conda:
        ENV
    shell:
        "python -m pipeline score {wildcards.experiment}.{wildcards.shard} --runs {input.runs} --data {input.data} --ref {input.ref} --out {output} --log {log}"


rule aggregate:
    input:
        scores=[job["scores"] for job in JOBS.values()],
        refs=[ref["out"] for ref in REFS.values()],
        code=["pipeline/report/aggregate.py", "pipeline/report/stats.py"],
    output:
        "reports/aggregate/runs.csv",
        "reports/aggregate/timings.csv",
        "reports/aggregate/summary.csv",
        "reports/aggregate/metrics.json",
    params:
        scoring=config["scoring"],
    log:
        "logs/aggregate.log",
    conda:
        ENV
    shell:
        "python -m pipeline aggregate --scores scores --refs refs --out reports/aggregate --log {log}"


rule report:
    input:
        "reports/aggregate/runs.csv",
        "reports/aggregate/timings.csv",
        "reports/aggregate/summary.csv",
        [job["out"] for job in JOBS.values()],
        [ref["out"] for ref in REFS.values()],
        "pipeline/report",
        "pipeline/claims",
    output:
        "reports/report.md",
        "reports/report.html",
        directory("reports/figures"),
        directory("reports/plots"),
    log:
        "logs/report.log",
    conda:
        ENV
    shell:
        "python -m pipeline report --aggregate reports/aggregate --runs runs --refs refs --out reports --log {log}"
