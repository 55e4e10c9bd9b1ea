# The pipeline DAG for Snakemake: the same jobs, commands and outputs as
# dvc.yaml. params.yaml is validated with the same JSON schema as the CLI uses
# and expanded with the same code (pipeline.config.make_plan); it is read as YAML 1.2,
# as the CLI and DVC read it (`lr: 1e-3` is a number).
#
#   snakemake --workflow-profile profiles/local            # this machine
#   snakemake --workflow-profile profiles/slurm            # a SLURM cluster
#
# Train, reference and score each run as a GPU rule and a CPU rule with the same
# command (pipeline/cluster.py says which jobs need a GPU), so that a cluster
# profile requests GPUs only where they are used. `--config allow_missing=true`
# (on in profiles/slurm) passes --allow-missing to aggregate and report and, when
# jobs still fail after their retries, reports from whatever was scored.

from pipeline import cluster
from pipeline.config import PARAMS_FILE, SCHEMA_FILE, load_params, make_plan
from snakemake.utils import validate


configfile: "params.yaml"


config.update(load_params(PARAMS_FILE))  # again as YAML 1.2 (Snakemake's loader is YAML 1.1)

ALLOW_MISSING = cluster.truthy(config.pop("allow_missing", False))  # not a params.yaml key
validate(config, str(SCHEMA_FILE))
PLAN = make_plan(config)
RUNLIST = PLAN.run_list()
DEVICE = cluster.split(PLAN)
MISSING_FLAG = " --allow-missing" if ALLOW_MISSING else ""
FETCH, REFS, JOBS = RUNLIST["fetch"], RUNLIST["references"], RUNLIST["jobs"]
CURVE_JOBS = RUNLIST["curve_jobs"]
ENV = "profiles/conda/pipeline.yaml"


wildcard_constraints:
    dataset="[A-Za-z0-9_]+",
    experiment="[A-Za-z0-9_]+",
    shard="[0-9]+",


localrules:
    all,
    validate,
    fetch,


rule all:
    input:
        "reports/report.md",
        "reports/report.html",


# dvc.yaml's validate stage: the whole params file, checked again whenever it changes.
# `ancient`: the fetches need the check to have passed, but never rerun because it reran.
rule validate:
    input:
        "params.yaml",
        "pipeline/config.py",
        "pipeline/schema",
        "pipeline/hparams",
    output:
        "logs/params.valid",
    log:
        "logs/validate.log",
    conda:
        ENV
    shell:
        "python -m pipeline plan --summary --stamp {output} --log {log}"


rule fetch:
    input:
        ancient("logs/params.valid"),
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
    wildcard_constraints:
        experiment=DEVICE["gpu_train"],
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


use rule train as train_cpu with:
    wildcard_constraints:
        experiment=DEVICE["cpu_train"],


rule reference:
    wildcard_constraints:
        dataset=DEVICE["cpu_reference"],
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


use rule reference as reference_inception with:
    wildcard_constraints:
        dataset=DEVICE["gpu_reference"],


rule score:
    wildcard_constraints:
        experiment=DEVICE["cpu_score"],
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


use rule score as score_inception with:
    wildcard_constraints:
        experiment=DEVICE["gpu_score"],


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
        missing=MISSING_FLAG,
    log:
        "logs/aggregate.log",
    conda:
        ENV
    shell:
        "python -m pipeline aggregate --scores scores --refs refs --out reports/aggregate --log {log}{params.missing}"


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
    params:
        missing=MISSING_FLAG,
    log:
        "logs/report.log",
    conda:
        ENV
    shell:
        "python -m pipeline report --aggregate reports/aggregate --runs runs --refs refs --out reports --log {log}{params.missing}"


onerror:
    # Jobs failed after their retries, so aggregate and report (which need every score
    # file as input) did not run: with allow_missing, build them here, on the submit host
    # (CPU only), from what was scored; the report lists the missing jobs. A rerun of the
    # workflow retries the failed jobs (training resumes from its checkpoints).
    if ALLOW_MISSING:
        shell(
            "python -m pipeline aggregate --scores scores --refs refs --out reports/aggregate"
            " --log logs/aggregate.log --allow-missing"
            " && python -m pipeline report --aggregate reports/aggregate --runs runs --refs refs"
            " --out reports --log logs/report.log --allow-missing"
        )
