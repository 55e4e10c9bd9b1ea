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
FETCH, JOBS = RUNLIST["fetch"], RUNLIST["jobs"]
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
        [job["out"] for job in JOBS.values()],


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


rule train:
    input:
        data=lambda w: job_of(w)["data"],
        model=lambda w: job_of(w)["model_source"],
        hparams=lambda w: job_of(w)["hparams_source"],
        code=[
            "pipeline/train.py",
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
    log:
        "logs/train/{experiment}.{shard}.log",
    conda:
        ENV
    shell:
        "python -m pipeline train {wildcards.experiment}.{wildcards.shard} --data {input.data} --out {output} --log {log}"
