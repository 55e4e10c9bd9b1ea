"""Which Snakemake jobs need a GPU: the split behind the Snakefile's CPU / GPU rules.

On a cluster a GPU is the scarce resource, so the Snakefile runs each stage as
two rules with the same command, one per device class, and
``profiles/slurm/config.yaml`` requests a GPU only for the GPU rules:

- ``train`` (GPU) / ``train_cpu``: image models train on a GPU; the 2D toys
  (small MLPs on points) train on the CPU.
- ``reference_inception`` / ``score_inception`` (GPU) and ``reference`` /
  ``score`` (CPU): natural images are scored under Inception-v3 on a GPU;
  MNIST-like data under the small domain classifier, and 2D data by mode
  metrics, on the CPU.

This module must not import torch (the Snakefile imports it on the submit host).
"""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.config import Plan
from pipeline.metrics.registry import INCEPTION_KINDS, data_type

NOTHING = "(?!)"  # a wildcard constraint no name matches: the rule has no jobs


def alternation(names: Iterable[str]) -> str:
    """A wildcard constraint matching exactly ``names``."""
    names = sorted(names)
    return "|".join(names) if names else NOTHING


def inception_datasets(plan: Plan) -> set[str]:
    """Datasets whose reference and scores use Inception-v3 (a GPU's work at 50k samples)."""
    return {d for d in plan.used_datasets() if plan.datasets[d].kind in INCEPTION_KINDS}


def split(plan: Plan) -> dict[str, str]:
    """Wildcard constraints of each device class: ``{gpu,cpu}_train`` and ``{gpu,cpu}_score``
    (experiments), ``{gpu,cpu}_reference`` (datasets)."""
    experiments = {j.experiment: j.dataset for j in plan.jobs}
    points = {e for e, d in experiments.items() if data_type(plan.datasets[d].kind) != "image"}
    inception = inception_datasets(plan)
    scored_on_gpu = {e for e, d in experiments.items() if d in inception}
    return {
        "gpu_train": alternation(experiments.keys() - points),
        "cpu_train": alternation(points),
        "gpu_score": alternation(scored_on_gpu),
        "cpu_score": alternation(experiments.keys() - scored_on_gpu),
        "gpu_reference": alternation(inception),
        "cpu_reference": alternation(set(plan.used_datasets()) - inception),
    }


def truthy(value: object) -> bool:
    """A ``--config key=value`` switch: true for True, 1, "true", "yes", "on"."""
    return str(value).strip().lower() in {"1", "true", "yes", "on"}
