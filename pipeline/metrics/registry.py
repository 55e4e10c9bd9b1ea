"""Metric names usable in an experiment's ``score: {metrics: [...]}`` and what they yield.

Each name produces ``<set>/<output>`` values for every sample set of a run
(``G``, ``pixel``, ...). Which names apply depends on the data type of the
dataset kind: ``image``, ``mixture`` (2D Gaussian mixture with known modes) or
``points`` (2D data without modes, the Swiss roll). When an experiment gives no
``metrics``, :data:`DEFAULT_METRICS` of its data type are computed. Image kinds
use a feature extractor: our domain classifier (:mod:`pipeline.metrics.classifiers`)
for digit-like data, torch-fidelity's Inception-v3 for natural images.

This module must not import torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pipeline.errors import ConfigError

DataType = Literal["image", "mixture", "points"]


@dataclass(frozen=True)
class MetricInfo:
    outputs: tuple[str, ...]  # suffixes of <set>/<output>
    data_types: tuple[DataType, ...]
    reference: str


METRICS: dict[str, MetricInfo] = {
    "is": MetricInfo(("is", "is_std"), ("image",), "Salimans et al. 2016: exp E_x KL(p(y|x) || p(y))"),
    "is_mod": MetricInfo(("is_mod",), ("image",), "Zhao et al. 2017 (EBGAN), Sec. 4.1 / App. C: E_x KL(p(y) || p(y|x))"),
    "fid": MetricInfo(("fid",), ("image",), "Heusel et al. 2017: Frechet distance of feature Gaussians"),
    "kid": MetricInfo(("kid",), ("image",), "Binkowski et al. 2018: unbiased MMD^2, cubic kernel"),
    "prd": MetricInfo(("precision", "recall"), ("image",), "Kynkaanniemi et al. 2019: k-NN manifolds"),
    "parzen": MetricInfo(("parzen_ll", "parzen_se"), ("image", "mixture", "points"),
                         "Goodfellow et al. 2014, Sec. 5 (Breuleux et al. 2011): Parzen-window LL"),
    "modes": MetricInfo(("modes", "hq_fraction", "kl_uniform"), ("mixture",),
                        "2D mode metrics (e.g. VEEGAN, PacGAN): modes, high quality within 3 std, KL to uniform"),
    "swd": MetricInfo(("swd",), ("mixture", "points"), "sliced 2-Wasserstein distance to held-out real points"),
}

DEFAULT_METRICS: dict[DataType, tuple[str, ...]] = {
    "image": ("is", "is_mod", "fid", "kid", "prd"),
    "mixture": ("modes",),
    "points": ("swd",),
}

KIND_DATA_TYPE: dict[str, DataType] = {"ring8": "mixture", "grid25": "mixture", "swissroll": "points"}

#: image kinds scored with torch-fidelity's Inception-v3 (all other image kinds: our classifier)
INCEPTION_KINDS = ("cifar10", "stl10", "celeba", "lsun_bedroom")
INCEPTION = "inception-v3-compat"
CLASSIFIER = "domain-classifier"


def data_type(kind: str) -> DataType:
    return KIND_DATA_TYPE.get(kind, "image")


def extractor_name(kind: str) -> str | None:
    """torch-fidelity feature extractor of an image kind (None for 2D kinds)."""
    if data_type(kind) != "image":
        return None
    return INCEPTION if kind in INCEPTION_KINDS else CLASSIFIER


def resolve_metrics(score: Mapping[str, Any] | None, kind: str, where: str) -> tuple[str, ...]:
    """The metric names an experiment's ``score`` block asks for, checked against its data
    kind (raises ConfigError naming the key)."""
    dtype = data_type(kind)
    names = tuple((score or {}).get("metrics") or DEFAULT_METRICS[dtype])
    for name in names:
        if name not in METRICS:
            raise ConfigError(f"{where}.score.metrics: unknown metric {name!r}; known: {', '.join(METRICS)}")
        if dtype not in METRICS[name].data_types:
            raise ConfigError(
                f"{where}.score.metrics: {name!r} does not apply to {kind} data ({dtype}); "
                f"metrics for {dtype} data: {', '.join(n for n, m in METRICS.items() if dtype in m.data_types)}"
            )
    return names


def output_names(metrics: Sequence[str], set_name: str) -> list[str]:
    """``<set>/<output>`` keys the metrics produce for one sample set."""
    return [f"{set_name}/{out}" for name in metrics for out in METRICS[name].outputs]
