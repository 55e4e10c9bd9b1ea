"""params.yaml: load, validate, and expand into runs and jobs.

``params.yaml`` is the single source of truth. :func:`load_params` validates it
(JSON schema shared with the Snakefile, then typed hyperparameters and dataset
options) before any work starts. :func:`make_plan` expands it into

- *runs*: one trained model = (experiment, grid configuration, seed);
- *jobs*: runs of one experiment grouped ``shard_size`` at a time, trained by
  one process (each process pays the torch import once);

and the fetch / reference stages the jobs depend on. DVC reads the same
expansion from ``runs.yaml`` (written by ``python -m pipeline plan --write``);
the Snakefile calls :func:`make_plan` directly. This module must not import
torch.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline import hparams as hparams_lib
from pipeline.data.kinds import KINDS
from pipeline.errors import ConfigError, did_you_mean
from pipeline.metrics.registry import data_type, resolve_metrics
from pipeline.registry import MODELS, hparams_class
from pipeline.yaml12 import YAMLSyntaxError, load_yaml

PARAMS_FILE = Path("params.yaml")
RUNS_FILE = Path("runs.yaml")
PROFILES_DIR = Path("profiles/params")
SCHEMA_FILE = Path(__file__).parent / "schema" / "params.schema.yaml"
GRID_PREFIXES = ("hparams.", "train.", "sample.")
DERIVED_BASE_KINDS = ("mnist_offline", "mnist", "fashion_mnist")
# Learning curves (pipeline/train_monitor.py), ours: image experiments scored with IS get
# EVALS_PER_RUN evaluations of EVAL_N samples by default (train.eval_every / train.eval_n
# override; eval_every 0 turns the curve off). No curve by default for grids (many short
# configurations summarised as a histogram, where ~0.3 s per evaluation would add the most
# time for the least reading), semi-supervised ladder networks (their result is a test
# error; the LN baseline has no generator) and DCD, whose generate also Langevin-refines
# every sample (~20x a plain draw, ~9 s per 500-sample evaluation on a 2-core CPU); set
# train.eval_every to draw any of them.
CURVE_METRIC = "is"
EVALS_PER_RUN = 10
EVAL_N = 500
NO_CURVE_MODELS = ("ebgan_ssl", "dcd")
# Train keys that never change a run's numbers (excluded from its configuration hash).
REPORTING_KEYS = ("log_every", "eval_every", "eval_n")


# --------------------------------------------------------------------------- loading


def read_yaml(path: Path | str) -> Any:
    """A params file read as YAML 1.2, as DVC reads it (:mod:`pipeline.yaml12`)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: file not found (run from the repository root, or pass --params)")
    try:
        return load_yaml(path.read_text())
    except YAMLSyntaxError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None


def load_schema() -> dict:
    return load_yaml(SCHEMA_FILE.read_text())


BOUND_WORDS = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}


def _dotted(path: Sequence[Any]) -> str:
    return ".".join(str(p) for p in path) or "<top level>"


def _schema_message(error: Any, where: str | None = None) -> str:
    """Turn a jsonschema error into 'key = value: what is allowed' (``where``: the key's
    dotted path, when the validated instance is not the whole params file)."""
    where = where or _dotted(error.absolute_path)
    v = error.validator
    if v == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        hint = did_you_mean(error.instance, error.validator_value)
        return f"{where} = {error.instance!r}: unknown value{hint}; allowed: {allowed}"
    if v == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        return f"{where}: missing required key(s) {', '.join(missing)}"
    if v == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        named = ", ".join(f"{key}{did_you_mean(key, allowed)}" for key in extra)
        return f"{where}: unknown key(s) {named}; allowed: {', '.join(allowed) or 'none'}"
    if v == "type":
        return f"{where} = {error.instance!r}: expected {error.validator_value}"
    if v in BOUND_WORDS:
        word = BOUND_WORDS[v]
        return f"{where} = {error.instance!r}: must be {word} {error.validator_value}"
    if v in ("minItems", "minProperties"):
        return f"{where}: must not be empty (at least {error.validator_value} entries)"
    return f"{where}: {error.message}"


def validate_schema(params: Any) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema())
    errors = sorted(validator.iter_errors(params), key=lambda e: (len(e.absolute_path), str(e.path)))
    if errors:
        lines = [_schema_message(e) for e in errors[:10]]
        raise ConfigError("params.yaml is invalid:\n  " + "\n  ".join(lines))


def _check_per_dataset_keys(params: Mapping[str, Any]) -> None:
    """``scoring.*_overrides`` name datasets defined under ``datasets``, and the scoring
    settings build (the reference and score stages read them later; a typo stops here)."""
    from pipeline.metrics.settings import load_settings

    scoring = params.get("scoring") or {}
    for block in ("classifier_overrides", "quality_floor_overrides"):
        for name in scoring.get(block) or {}:
            if name not in params["datasets"]:
                raise ConfigError(
                    f"scoring.{block}.{name}: no such dataset{did_you_mean(name, params['datasets'])}; "
                    f"defined: {', '.join(sorted(params['datasets']))}"
                )
    load_settings(scoring)


def load_params(path: Path | str = PARAMS_FILE) -> dict:
    """Read and fully validate params.yaml; raises ConfigError naming the bad key."""
    params = read_yaml(path)
    if not isinstance(params, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    validate_schema(params)
    make_plan(params)  # semantic checks: references, hparams, dataset options
    _check_per_dataset_keys(params)
    return params


# --------------------------------------------------------------------------- plan objects


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class DatasetConfig:
    name: str
    kind: str
    options: Mapping[str, Any]
    storage: str  # dataset name whose data/<storage>/ holds the files

    @property
    def stored(self) -> bool:
        return self.storage == self.name

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "options": dict(self.options), "storage": self.storage}


@dataclass(frozen=True)
class Run:
    """One trained model: an experiment's configuration with one seed."""

    id: str
    name: str
    experiment: str
    paper: str
    model: str
    variant: str
    dataset: str
    seed: int
    config_index: int | None
    grid_point: Mapping[str, Any]
    hparams: Mapping[str, Any]
    train: Mapping[str, Any]
    sample: Mapping[str, Any]
    score: Mapping[str, Any]
    job: str

    def identity(self) -> dict[str, Any]:
        """Everything that determines this run's numbers (used to validate checkpoints)."""
        return {
            "model": self.model,
            "dataset": self.dataset,
            "seed": self.seed,
            "hparams": dict(self.hparams),
            "train": {k: v for k, v in self.train.items() if k not in REPORTING_KEYS},
            "sample": dict(self.sample),
        }

    def config_hash(self) -> str:
        return hashlib.sha256(canonical_json(self.identity()).encode()).hexdigest()[:16]

    @property
    def curve(self) -> bool:
        """Whether training records a learning curve (IS / FID every ``eval_every`` steps)."""
        return self.train.get("eval_every", 0) > 0

    def row(self) -> dict[str, Any]:
        return {
            "run_id": self.id,
            "paper": self.paper,
            "model": self.model,
            "variant": self.variant,
            "dataset": self.dataset,
            "seed": self.seed,
            "config": "" if self.config_index is None else self.config_index,
            "steps": self.train["steps"],
            "batch": self.train["batch_size"],
            "job": self.job,
        }


def _module_file(import_path: str) -> str:
    return import_path.partition(":")[0].replace(".", "/") + ".py"


@dataclass(frozen=True)
class Job:
    """Runs trained (and scored) by one process; the unit DVC and Snakemake schedule."""

    id: str
    experiment: str
    paper: str
    model: str
    dataset: str
    storage: str
    runs: tuple[Run, ...]
    out: str
    scores: str

    @property
    def model_source(self) -> str:
        """Source file of the model implementation (a dependency of the train stage)."""
        return _module_file(MODELS[self.model].impl)

    @property
    def hparams_source(self) -> str:
        """Source file of the model's hyperparameter defaults."""
        return _module_file(MODELS[self.model].hparams)

    @property
    def curve(self) -> bool:
        """Whether the job's training reads refs/<dataset> to record learning curves."""
        return any(run.curve for run in self.runs)


@dataclass
class Plan:
    profile: str
    datasets: dict[str, DatasetConfig]
    jobs: list[Job]
    params: Mapping[str, Any] = field(repr=False)

    def runs(self) -> list[Run]:
        return [r for j in self.jobs for r in j.runs]

    def job(self, job_id: str) -> Job:
        for j in self.jobs:
            if j.id == job_id:
                return j
        known = ", ".join(j.id for j in self.jobs[:20])
        raise ConfigError(
            f"job {job_id!r} is not in params.yaml{did_you_mean(job_id, (j.id for j in self.jobs))} "
            f"(known: {known}{', ...' if len(self.jobs) > 20 else ''}). "
            "If you edited params.yaml, regenerate the DVC run list: python -m pipeline plan --write"
        )

    def used_datasets(self) -> list[str]:
        return sorted({j.dataset for j in self.jobs})

    def stored_datasets(self) -> list[str]:
        """Datasets with a fetch stage: every storage a job or derived dataset needs."""
        return sorted({self.datasets[d].storage for d in self.used_datasets()})

    def run_list(self) -> dict[str, Any]:
        """The content of runs.yaml: what dvc.yaml's foreach stages iterate over. ``jobs``
        (every job: the score stage) splits into ``curve_jobs`` (trained with learning
        curves, so after refs/<dataset>: the train stage) and ``plain_jobs`` (train_plain)."""
        jobs = {
            j.id: {
                "experiment": j.experiment,
                "model": j.model,
                "model_source": j.model_source,
                "hparams_source": j.hparams_source,
                "dataset": j.dataset,
                "storage": j.storage,
                "data": f"data/{j.storage}",
                "ref": f"refs/{j.dataset}",
                "out": j.out,
                "scores": j.scores,
            }
            for j in self.jobs
        }
        return {
            "fetch": {d: {"kind": self.datasets[d].kind, "out": f"data/{d}"} for d in self.stored_datasets()},
            "references": {
                d: {"data": f"data/{self.datasets[d].storage}", "storage": self.datasets[d].storage,
                    "out": f"refs/{d}"}
                for d in self.used_datasets()
            },
            "jobs": jobs,
            "curve_jobs": {j.id: dict(jobs[j.id]) for j in self.jobs if j.curve},
            "plain_jobs": {j.id: dict(jobs[j.id]) for j in self.jobs if not j.curve},
        }


# --------------------------------------------------------------------------- expansion


def _dataset_configs(params: Mapping[str, Any]) -> dict[str, DatasetConfig]:
    out = {}
    datasets = params["datasets"]
    for name, spec in datasets.items():
        kind = spec["kind"]
        opts = {k: v for k, v in spec.items() if k != "kind"}
        options = hparams_lib.build(KINDS[kind].options, opts, f"datasets.{name}")
        storage = name
        if not KINDS[kind].stored:
            base = options.base
            if base not in datasets:
                raise ConfigError(
                    f"datasets.{name}.base = {base!r}: no such dataset{did_you_mean(base, datasets)}; "
                    f"define it under datasets (known: {', '.join(sorted(datasets))})"
                )
            if datasets[base]["kind"] not in DERIVED_BASE_KINDS:
                raise ConfigError(
                    f"datasets.{name}.base = {base!r} is of kind {datasets[base]['kind']}; "
                    f"allowed base kinds: {', '.join(DERIVED_BASE_KINDS)}"
                )
            storage = base
        out[name] = DatasetConfig(name, kind, hparams_lib.as_dict(options), storage)
    return out


def _grid_points(exp_name: str, grid: Mapping[str, Any] | None) -> list[tuple[int | None, dict[str, Any]]]:
    """All (index, overrides) of an experiment's grid, or [(None, {})] without a grid.

    Indices number the full Cartesian product in declaration order, so a sampled
    subset keeps the index of each configuration in the full grid."""
    if not grid:
        return [(None, {})]
    space = grid["space"]
    for key in space:
        if not key.startswith(GRID_PREFIXES):
            raise ConfigError(
                f"experiments.{exp_name}.grid.space.{key}: grid keys must start with one of "
                f"{', '.join(GRID_PREFIXES)}"
            )
        section, _, name = key.partition(".")
        if section != "hparams":  # hparams values: checked by the typed hyperparameters
            _check_grid_values(f"experiments.{exp_name}.grid.space.{key}", section, name, space[key])
    keys = list(space)
    combos = list(itertools.product(*(space[k] for k in keys)))
    indices = list(range(len(combos)))
    sample = grid.get("sample", "all")
    if sample != "all":
        if sample > len(combos):
            raise ConfigError(
                f"experiments.{exp_name}.grid.sample = {sample}: the grid has only {len(combos)} configurations"
            )
        rng = random.Random(grid.get("sample_seed", 0))
        indices = sorted(rng.sample(indices, sample))
    return [(i, dict(zip(keys, combos[i]))) for i in indices]


def _check_grid_values(where: str, section: str, name: str, values: Sequence[Any]) -> None:
    """A grid's ``train.*`` / ``sample.*`` values meet the schema of that key, as if each
    were written under the experiment's ``train`` / ``sample``."""
    import jsonschema

    schema = load_schema()
    allowed = schema["properties"]["experiments"]["additionalProperties"]["properties"][section]["properties"]
    if name not in allowed:
        raise ConfigError(f"{where}: unknown key {name}{did_you_mean(name, allowed)}; "
                          f"allowed: {', '.join(sorted(allowed))}")
    validator = jsonschema.Draft202012Validator({"$defs": schema["$defs"], **allowed[name]})
    for i, value in enumerate(values):
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
        if error is not None:
            raise ConfigError("params.yaml is invalid:\n  " + _schema_message(error, f"{where}[{i}]"))


def _apply_overrides(exp: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    sections = {s: dict(exp.get(s) or {}) for s in ("hparams", "train", "sample")}
    for key, value in overrides.items():
        section, _, name = key.partition(".")
        sections[section][name] = value
    return sections


def _run_name(config_index: int | None, n_configs: int, seed: int) -> str:
    if config_index is None:
        return f"s{seed}"
    width = max(3, len(str(n_configs - 1)))
    return f"c{config_index:0{width}d}-s{seed}"


def _curve_settings(train: dict[str, Any], by_default: bool, allowed: bool, where: str) -> None:
    """Fill in ``eval_every`` (default: EVALS_PER_RUN evaluations per run when ``by_default``,
    else 0 = no curve) and, for a curve, ``eval_n``; a curve needs image data scored with IS."""
    train.setdefault("eval_every", math.ceil(train["steps"] / EVALS_PER_RUN) if by_default else 0)
    if train["eval_every"] <= 0:
        return
    if not allowed:
        raise ConfigError(f"{where}.train.eval_every = {train['eval_every']}: learning curves need "
                          f"image data scored with {CURVE_METRIC!r} (score.metrics); set it to 0 "
                          "or remove it")
    train.setdefault("eval_n", EVAL_N)


def make_plan(params: Mapping[str, Any]) -> Plan:
    """Expand validated params into jobs of runs; raises ConfigError on bad references."""
    datasets = _dataset_configs(params)
    jobs: list[Job] = []
    for exp_name, exp in params["experiments"].items():
        where = f"experiments.{exp_name}"
        if exp["dataset"] not in datasets:
            raise ConfigError(
                f"{where}.dataset = {exp['dataset']!r}: no such dataset"
                f"{did_you_mean(exp['dataset'], datasets)}; defined: {', '.join(sorted(datasets))}"
            )
        if "/" in exp_name or "." in exp_name:
            raise ConfigError(f"{where}: experiment names may not contain '/' or '.'")
        metrics = resolve_metrics(exp.get("score"), datasets[exp["dataset"]].kind, where)
        curve_ok = data_type(datasets[exp["dataset"]].kind) == "image" and CURVE_METRIC in metrics
        hp_cls = hparams_class(exp["model"])
        points = _grid_points(exp_name, exp.get("grid"))
        n_configs = len(list(itertools.product(*exp["grid"]["space"].values()))) if exp.get("grid") else 1
        runs: list[dict[str, Any]] = []
        for config_index, overrides in points:
            sections = _apply_overrides(exp, overrides)
            hp_obj = hparams_lib.build(hp_cls, sections["hparams"], f"{where}.hparams")
            if sections["train"].get("checkpoint_every") is None:
                sections["train"]["checkpoint_every"] = sections["train"]["steps"]
            sections["train"].setdefault("log_every", max(1, min(100, sections["train"]["steps"])))
            by_default = curve_ok and exp["model"] not in NO_CURVE_MODELS and not exp.get("grid")
            _curve_settings(sections["train"], by_default, curve_ok, where)
            for seed in exp["seeds"]:
                runs.append(
                    dict(
                        name=_run_name(config_index, n_configs, seed),
                        experiment=exp_name,
                        paper=exp["paper"],
                        model=exp["model"],
                        variant=exp.get("variant", "default"),
                        dataset=exp["dataset"],
                        seed=seed,
                        config_index=config_index,
                        grid_point=overrides,
                        hparams=hparams_lib.as_dict(hp_obj),
                        train=sections["train"],
                        sample=sections["sample"],
                        score=dict(exp.get("score") or {}),
                    )
                )
        shard = exp.get("shard_size", 1)
        n_shards = (len(runs) + shard - 1) // shard
        width = len(str(n_shards - 1))
        for k in range(n_shards):
            job_id = f"{exp_name}.{k:0{width}d}"
            shard_dir = f"shard{k:0{width}d}"
            members = tuple(
                Run(id=f"{exp_name}/{r['name']}", job=job_id, **r) for r in runs[k * shard : (k + 1) * shard]
            )
            jobs.append(
                Job(
                    id=job_id,
                    experiment=exp_name,
                    paper=exp["paper"],
                    model=exp["model"],
                    dataset=exp["dataset"],
                    storage=datasets[exp["dataset"]].storage,
                    runs=members,
                    out=f"runs/{exp_name}/{shard_dir}",
                    scores=f"scores/{exp_name}/{shard_dir}.json",
                )
            )
    return Plan(profile=params["profile"], datasets=datasets, jobs=jobs, params=params)


# --------------------------------------------------------------------------- run list file

RUNS_HEADER = (
    "# Generated by `python -m pipeline plan --write` from params.yaml: the jobs\n"
    "# dvc.yaml iterates over. Do not edit; regenerate after changing experiments,\n"
    "# seeds, grids, shard sizes or datasets (hyperparameter edits need no regeneration).\n"
)


def render_run_list(plan: Plan) -> str:
    """runs.yaml text. Its keys must not clash with params.yaml's: DVC merges both into
    one namespace for templating."""
    header = RUNS_HEADER + f"# profile: {plan.profile}\n"
    return header + yaml.safe_dump(plan.run_list(), sort_keys=False, width=120)


def write_run_list(plan: Plan, path: Path | str = RUNS_FILE) -> Path:
    from pipeline.io import atomic_write_text

    return atomic_write_text(Path(path), render_run_list(plan))


def run_list_is_current(plan: Plan, path: Path | str = RUNS_FILE) -> bool:
    path = Path(path)
    return path.is_file() and path.read_text() == render_run_list(plan)


def profile_path(name: str) -> Path:
    path = PROFILES_DIR / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))
        raise ConfigError(f"profile {name!r} not found at {path}{did_you_mean(name, known)}; "
                          f"available: {', '.join(known)}")
    return path
