"""The scoring defaults table (params.yaml ``scoring:``), read by the CLI and the code.

Like torch-fidelity's ``DEFAULTS``, one table holds every scoring setting; here
each default also carries its provenance (``paper`` / ``code`` / ``ours``, see
:mod:`pipeline.hparams`). Defaults are the paper-scale protocol; the smoke and
ci profiles override them (``scoring:`` in profiles/params/*.yaml).

- Inception Score: 50,000 samples in 10 splits (Salimans et al. 2016, Sec. 4).
- KID: cubic polynomial kernel k(x, y) = (x.y / d + 1)^3, 100 subsets of 1,000
  (Binkowski et al. 2018, Sec. 4 and App. D).
- Precision / recall: k = 3 nearest neighbours (Kynkaanniemi et al. 2019, Sec. 3).
- Parzen window: 10,000 samples, sigma from logspace(-1, 0, 10) chosen on 1,000
  validation images (Goodfellow et al. 2014, Sec. 5; the authors' code).
- EBGAN's I' clips p(y|x) at ``is_mod_clip`` (ours: the paper names no value).
- The quality floor (ours): a run has *learned* when its IS under the domain
  classifier reaches ``quality_floor`` x the real held-out data's IS (per-dataset
  ``quality_floor_overrides``); comparisons over runs below it get no verdict.
- The domain classifier's training recipe is ours; ``classifier_overrides`` changes
  it for named datasets (e.g. fewer epochs on the costlier 40x40 affine-MNIST).

``bootstrap_samples`` and ``ci_level`` belong to the aggregate stage
(:mod:`pipeline.report.aggregate`) and are not read here. This module must not
import torch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline import hparams as hparams_lib
from pipeline.errors import ConfigError
from pipeline.hparams import hp

AGGREGATE_KEYS = ("bootstrap_samples", "ci_level")


@dataclass(frozen=True)
class ParzenSettings:
    """Parzen-window log-likelihood protocol (Goodfellow et al. 2014, Sec. 5, Table 1)."""

    n_samples: int = hp(10000, "paper", gt=0, note="generated samples that centre the kernels")
    n_validation: int = hp(1000, "paper", gt=0, note="validation images that choose sigma")
    log10_sigma_min: float = hp(-1.0, "code", note="sigma grid: logspace(min, max, n_sigmas)")
    log10_sigma_max: float = hp(0.0, "code")
    n_sigmas: int = hp(10, "code", ge=1)
    batch_size: int = hp(256, "ours", gt=0, note="test points per block (bounds memory)")
    sample_block: int = hp(4096, "ours", gt=0, note="kernel centres per block (bounds memory)")


@dataclass(frozen=True)
class ClassifierSettings:
    """Training recipe of the domain classifiers (ours): a 3-conv-layer ConvNet as in
    EBGAN's App. C, trained with Adam and a one-cycle schedule on randomly rotated,
    zoomed and shifted images."""

    epochs: int = hp(20, "ours", ge=1)
    batch_size: int = hp(64, "ours", gt=0)
    lr: float = hp(0.003, "ours", gt=0, note="peak of the one-cycle learning-rate schedule")
    width: int = hp(16, "ours", gt=0, note="channels of the first conv layer (doubling per layer)")
    kernel: int = hp(3, "ours", ge=1, note="kernel size of the first two conv layers")
    feature_dim: int = hp(128, "ours", gt=0, note="penultimate features (FID / KID / precision-recall)")
    dropout: float = hp(0.3, "ours", ge=0, lt=1)
    shift: float = hp(2.0, "ours", ge=0, note="augmentation: random translation up to this many pixels")
    rotation: float = hp(8.0, "ours", ge=0, note="augmentation: random rotation up to this many degrees")
    scale: float = hp(0.05, "ours", ge=0, lt=1, note="augmentation: random zoom by up to this fraction")
    seed: int = hp(0, "ours", ge=0)


@dataclass(frozen=True)
class ScoringSettings:
    n_samples: int = hp(50000, "paper", gt=0, note="samples per set for IS / FID / KID / precision-recall")
    batch_size: int = hp(500, "ours", gt=0, note="images per feature-extraction batch")
    is_splits: int = hp(10, "paper", ge=1)
    is_mod_clip: float = hp(1e-6, "ours", gt=0, lt=1, note="EBGAN's I': p(y|x) clipped below at this value")
    kid_subsets: int = hp(100, "paper", ge=1)
    kid_subset_size: int = hp(1000, "paper", ge=2)
    kid_degree: int = hp(3, "paper", ge=1, note="polynomial kernel degree (cubic)")
    prd_k: int = hp(3, "paper", ge=1, note="k-th nearest neighbour radius of the manifolds")
    rng_seed: int = hp(2020, "ours", ge=0, note="IS split shuffling and KID subsets (torch-fidelity's default)")
    mode_sigmas: float = hp(3.0, "paper", gt=0, note="a sample is high quality within this many std of a mode")
    swd_directions: int = hp(256, "ours", ge=2, note="evenly spaced directions of the sliced Wasserstein distance")
    inception_weights: str = hp("", "ours", note="path of torch-fidelity's Inception weights (else the torch hub cache)")
    parzen: ParzenSettings = dataclasses.field(default_factory=ParzenSettings, metadata={"source": "paper"})
    classifier: ClassifierSettings = dataclasses.field(default_factory=ClassifierSettings,
                                                       metadata={"source": "ours"})
    classifier_overrides: dict[str, dict[str, Any]] = dataclasses.field(
        default_factory=dict, metadata={"source": "ours", "note": "per dataset: classifier keys that differ"})
    quality_floor: float = hp(0.65, "ours", gt=0, le=1,
                              note="a run has learned when its IS >= this fraction of the real held-out IS")
    quality_floor_overrides: dict[str, float] = dataclasses.field(
        default_factory=dict, metadata={"source": "ours", "note": "per dataset: its own quality-floor fraction"})

    def is_splits_for(self, n: int) -> int:
        """IS splits of ``n`` samples at the protocol's split size ``n_samples / is_splits``
        (Salimans et al. 2016: 10 splits of 5,000 at 50,000), rounded to a whole number of
        splits in [1, n]. The estimator's downward bias grows as splits shrink, so real data,
        runs scored on fewer samples and learning curves share one split size and one scale."""
        return max(1, min(n, round(self.is_splits * n / self.n_samples)))

    def floor_for(self, dataset: str) -> float:
        """The quality floor of one dataset, as a fraction of its real held-out IS."""
        return float(self.quality_floor_overrides.get(dataset, self.quality_floor))

    def classifier_for(self, dataset: str) -> ClassifierSettings:
        """The classifier recipe of one dataset (``classifier`` + its overrides)."""
        return dataclasses.replace(self.classifier, **self.classifier_overrides.get(dataset, {}))


def load_settings(scoring: Mapping[str, Any] | None) -> ScoringSettings:
    """Validate params.yaml's ``scoring`` block into :class:`ScoringSettings` (raises
    ConfigError naming the bad key)."""
    values = {k: v for k, v in (scoring or {}).items() if k not in AGGREGATE_KEYS}
    classifier = values.pop("classifier", None) or {}
    nested = {
        "parzen": hparams_lib.build(ParzenSettings, values.pop("parzen", None), "scoring.parzen"),
        "classifier": hparams_lib.build(ClassifierSettings, classifier, "scoring.classifier"),
    }
    flat = hparams_lib.build(_FlatSettings, values, "scoring")
    for name, override in flat.classifier_overrides.items():
        if not isinstance(override, Mapping):
            raise ConfigError(f"scoring.classifier_overrides.{name} = {override!r}: expected a mapping")
        hparams_lib.build(ClassifierSettings, {**classifier, **override}, f"scoring.classifier_overrides.{name}")
    for name, fraction in flat.quality_floor_overrides.items():
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction <= 1:
            raise ConfigError(f"scoring.quality_floor_overrides.{name} = {fraction!r}: expected a number in (0, 1]")
    return ScoringSettings(**hparams_lib.as_dict(flat), **nested)


def as_dict(settings: ScoringSettings) -> dict[str, Any]:
    """Plain nested dict (for reference.json / score provenance)."""
    return dataclasses.asdict(settings)


def _flat_fields() -> type:
    """ScoringSettings without its nested blocks, for :func:`pipeline.hparams.build`."""
    fields = [(f.name, f.type, f) for f in dataclasses.fields(ScoringSettings) if f.name not in ("parzen", "classifier")]
    cls = dataclasses.make_dataclass("ScoringSettings", fields, frozen=True)
    cls.__module__ = __name__  # resolve the string annotations in this module
    return cls


_FlatSettings = _flat_fields()
