"""Score sample sets against a dataset's real-data reference (used by the ``reference``
and ``score`` stages).

A *real context* holds what scoring needs from the real data, loaded once per
process: for images the feature extractor and the cached real features
(refs/<dataset>/real_features.npz: held-out features, their mean and
covariance); for 2D data the mixture centres and held-out points; for Parzen
the validation and test points. :func:`score_set` maps one sample set to
``{<output>: value}`` for the requested metric names
(:data:`pipeline.metrics.registry.METRICS`).

Parzen's validation set is the dataset's validation split when it has one;
otherwise (ours) the first ``parzen.n_validation`` points of the held-out split
choose sigma and the remaining held-out points are the test set, so neither
overlaps the training data the generator saw.

Torch and torch-fidelity are imported only for image data or Parzen: scoring
2D mode metrics needs numpy alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import ConfigError
from pipeline.metrics import modes as modes_lib
from pipeline.metrics.settings import ScoringSettings

REAL_FEATURES = "real_features.npz"
REAL_POINTS = "real_points.npy"
REFERENCE_JSON = "reference.json"
CLASSIFIER_FILE = "classifier.pt"


@dataclass
class ParzenSets:
    validation: Any  # tensor (N_val, ...) in the data's scale
    test: Any


def parzen_sets(heldout: Any, validation: Any | None, n_validation: int, dataset: str) -> ParzenSets:
    """Validation and test points of the Parzen protocol (see the module docstring)."""
    if validation is not None:
        return ParzenSets(validation[:n_validation], heldout)
    if n_validation >= len(heldout):
        raise ConfigError(
            f"scoring.parzen.n_validation = {n_validation}: dataset {dataset!r} has no validation split and only "
            f"{len(heldout)} held-out points to split into validation and test; lower it"
        )
    return ParzenSets(heldout[:n_validation], heldout[n_validation:])


@dataclass
class RealContext:
    """Real-data side of every metric (fields unused by a data type stay None)."""

    settings: ScoringSettings
    device: Any = None
    extractor: Any = None  # torch-fidelity FeatureExtractorBase
    real_features: Any = None  # tensor (N, D)
    real_stats: Any = None  # feature_distances.GaussianStats
    centres: np.ndarray | None = None
    std: float | None = None
    real_points: np.ndarray | None = None
    parzen: ParzenSets | None = None


def to_unit(x: Any) -> Any:
    """uint8 images -> float64 in [0, 1] (tensors); float data unchanged (as float64)."""
    import torch

    t = torch.as_tensor(np.asarray(x))
    return t.double() / 255.0 if t.dtype == torch.uint8 else t.double()


def _parzen(samples: Any, ctx: RealContext) -> dict[str, float]:
    from pipeline.metrics.parzen import parzen_protocol, sigma_grid

    p = ctx.settings.parzen
    if ctx.parzen is None:
        raise ValueError("parzen requested but no validation / test points were loaded")
    result = parzen_protocol(to_unit(samples[: p.n_samples]), ctx.parzen.validation, ctx.parzen.test,
                             sigma_grid(p.log10_sigma_min, p.log10_sigma_max, p.n_sigmas), p.batch_size,
                             p.sample_block)
    return {"parzen_ll": result.ll, "parzen_se": result.se}


def feature_scores(feats: dict[str, Any], metrics: Sequence[str], ctx: RealContext) -> dict[str, float]:
    """IS, I', FID, KID, precision/recall from extracted ``{"logits", "features"}``."""
    from pipeline.metrics import classifier_scores as cs
    from pipeline.metrics import feature_distances as fd

    s = ctx.settings
    splits = s.is_splits_for(len(feats["logits"]))
    out: dict[str, float] = {}
    if "is" in metrics:
        out["is"], out["is_std"] = cs.inception_score(feats["logits"], splits, seed=s.rng_seed)
    if "is_mod" in metrics:
        out["is_mod"] = cs.modified_inception_score(feats["logits"], splits, s.is_mod_clip, seed=s.rng_seed)[0]
    if "fid" in metrics:
        out["fid"] = fd.fid(feats["features"], ctx.real_stats)
    if "kid" in metrics:
        out["kid"] = fd.kid(feats["features"], ctx.real_features, s.kid_subsets, s.kid_subset_size, s.kid_degree,
                            s.rng_seed)
    if "prd" in metrics:
        out["precision"], out["recall"] = fd.precision_recall(feats["features"], ctx.real_features, s.prd_k)
    return out


FEATURE_METRICS = ("is", "is_mod", "fid", "kid", "prd")


def score_set(samples: np.ndarray, metrics: Sequence[str], ctx: RealContext) -> dict[str, float]:
    """``{output: value}`` of one sample set (images uint8 (N, C, H, W) or points (N, 2))."""
    out: dict[str, float] = {}
    s = ctx.settings
    if any(m in FEATURE_METRICS for m in metrics):
        from pipeline.metrics.extractors import extract

        feats = extract(ctx.extractor, samples, s.batch_size, ctx.device)
        out.update(feature_scores(feats, metrics, ctx))
    if "modes" in metrics:
        out.update(modes_lib.mode_metrics(samples, ctx.centres, ctx.std, s.mode_sigmas))
    if "swd" in metrics:
        out["swd"] = modes_lib.sliced_wasserstein(samples, ctx.real_points, s.swd_directions)
    if "parzen" in metrics:
        out.update(_parzen(samples, ctx))
    return out


def json_safe(x: Any) -> Any:
    """JSON-safe numbers: NaN / inf -> None, numpy scalars -> Python."""
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


def load_real_features(ref_dir: Path) -> tuple[Any, Any]:
    """The cached held-out features and their Gaussian statistics from the reference."""
    import torch

    from pipeline.metrics.feature_distances import GaussianStats

    with np.load(Path(ref_dir) / REAL_FEATURES) as z:
        return torch.from_numpy(z["features"]), GaussianStats(z["mu"], z["sigma"])
