"""The ``reference`` stage: everything the score stage needs from a dataset's real data,
and the real data's own scores (the ceiling a reader compares runs with).

Writes refs/<dataset>/ (built beside the target and renamed into place):

- ``reference.json``, keys:
    - ``dataset``, ``kind``, ``data_type`` (image / mixture / points), ``profile``;
    - ``extractor``: torch-fidelity feature extractor name (``domain-classifier``,
      ``inception-v3-compat``; empty for 2D data); ``extractor_info``: weights file
      (relative to the folder for our classifier), its sha256, layers used, feature size;
    - ``classifier_accuracy``: held-out accuracy of our domain classifier (images
      scored with it); ``classifier``: architecture, training recipe, steps, seconds, sizes;
    - ``real``: the real data's own value of every metric that applies to the data
      type, keyed like the score stage's ``<set>/<name>`` suffixes (``is``,
      ``is_std``, ``is_mod``, ``fid``, ``kid``, ``precision``, ``recall``,
      ``parzen_ll``, ``parzen_se``; ``modes``, ``hq_fraction``, ``kl_uniform``, ``swd``);
    - ``real_n``: the number of real points behind each ceiling; ``real_protocol``: what
      was compared with what;
    - ``mixture``: ``centres`` and ``std`` of 2D mixtures;
    - ``scoring``: the scoring settings used (the score stage refuses a mismatch);
    - ``files``: sha256 of the other files; ``wall_s``; ``provenance``.
  Non-finite numbers are written as null.
- ``classifier.pt``: the domain classifier (digit-like image kinds).
- ``real_features.npz`` (images): ``features`` of the held-out split (for KID and
  precision/recall), their ``mu`` and ``sigma`` (for FID).
- ``real_points.npy`` (2D): the held-out points (for the sliced Wasserstein distance).

Ceilings, under the same extractor, splits and settings as generated samples:
IS and I' of min(n_samples, N_heldout) held-out images; FID / KID /
precision-recall of min(n_samples, N_train) training images (a fixed
permutation) against the held-out reference, i.e. the score of a generator that
reproduces its training data; Parzen LL with min(parzen.n_samples, N_train)
training images as kernel centres. For 2D data a fresh draw from the true
distribution (seed :data:`REAL_DRAW_SEED`) of the held-out size plays the
generator: mode metrics of the held-out points, SWD and Parzen of the fresh draw.
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pipeline.config import Plan
from pipeline.data.loader import open_dataset
from pipeline.data.manifest import sha256_file
from pipeline.data.sources import DataSource
from pipeline.io import atomic_open, atomic_write_json, staging_dir, swap_dir
from pipeline.metrics import scoring
from pipeline.metrics.registry import (
    CLASSIFIER,
    DEFAULT_METRICS,
    METRICS,
    data_type,
    extractor_name,
)
from pipeline.metrics.settings import ScoringSettings, as_dict, load_settings
from pipeline.provenance import provenance

REAL_DRAW_SEED = 999_983  # never a run seed: the "generator" of 2D ceilings
TRAIN_ORDER_SEED = 4_242  # fixed permutation of the training split for image ceilings


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """Images in [0, 1] -> uint8 as the trainer stores samples."""
    return x.clamp(0, 1).mul(255).round().to(torch.uint8)


def _image_reference(data: DataSource, kind: str, settings: ScoringSettings, out: Path, device: torch.device,
                     info: dict[str, Any]) -> None:
    from pipeline.metrics import extractors as ex  # torch-fidelity: only for images
    from pipeline.metrics.classifiers import save_classifier, train_classifier
    from pipeline.metrics.feature_distances import feature_statistics

    name = extractor_name(kind)
    if name == CLASSIFIER:
        recipe = settings.classifier_for(data.spec.name)
        trained = train_classifier(data, recipe, device)
        weights = save_classifier(out / scoring.CLASSIFIER_FILE, trained, recipe)
        info["classifier_accuracy"] = trained.heldout_accuracy
        info["classifier"] = {"arch": asdict(trained.arch), "recipe": asdict(recipe), "steps": trained.steps,
                              "train_s": round(trained.train_s, 3),
                              "n_train": data.spec.n_train, "n_heldout": len(data.heldout()[1])}
        print(f"[reference] {data.spec.name}: classifier held-out accuracy {trained.heldout_accuracy:.4f} "
              f"after {trained.steps} steps ({trained.train_s:.1f}s)", file=sys.stderr)
        weights_ref = scoring.CLASSIFIER_FILE
    else:
        weights = ex.inception_weights(settings.inception_weights)
        weights_ref = str(weights)
    extractor = ex.create_extractor(name, weights, device)
    x_held = data.heldout()[0]
    held = ex.extract(extractor, to_uint8(x_held), settings.batch_size, device)
    stats = feature_statistics(held["features"])
    with atomic_open(out / scoring.REAL_FEATURES, "wb") as fh:
        np.savez(fh, features=held["features"].numpy(), mu=stats.mu, sigma=stats.sigma)
    info["extractor"] = name
    info["extractor_info"] = {"weights": weights_ref, "weights_sha256": sha256_file(Path(weights)),
                              "layers": ex.metric_layers(name), "feature_dim": int(held["features"].shape[1])}

    x_train = data.train_arrays()[0].cpu()
    order = torch.from_numpy(np.random.default_rng(TRAIN_ORDER_SEED).permutation(len(x_train)))
    n_is = min(settings.n_samples, len(x_held))
    n_fid = min(settings.n_samples, len(x_train))
    n_parzen = min(settings.parzen.n_samples, len(x_train))
    ctx = scoring.RealContext(settings, device, extractor, held["features"], stats)
    train_sample = to_uint8(x_train[order[: max(n_fid, n_parzen)]])
    held_feats = {k: v[:n_is] for k, v in held.items()}
    real = scoring.feature_scores(held_feats, ("is", "is_mod"), ctx)
    real.update(scoring.score_set(train_sample[:n_fid].numpy(), ("fid", "kid", "prd"), ctx))
    parzen, parzen_n = _parzen_ceiling(train_sample[:n_parzen].numpy(), x_held.double(), _validation(data),
                                       settings, data.spec.name)
    info["real"] = {**real, **parzen}
    info["real_n"] = {"is": n_is, "is_mod": n_is, "fid": n_fid, "kid": n_fid, "prd": n_fid, "heldout": len(x_held),
                      **parzen_n}
    info["real_protocol"] = ("IS / I': held-out images; FID / KID / precision-recall: training images vs the "
                             "held-out reference; Parzen: training images as kernel centres")


def _parzen_ceiling(centres: np.ndarray, heldout: torch.Tensor, validation: torch.Tensor | None,
                    settings: ScoringSettings, dataset: str) -> tuple[dict[str, float], dict[str, int]]:
    """Parzen LL with real points as kernel centres, or nothing (with a note) when the
    held-out split is too small to give both validation and test points."""
    n_val = settings.parzen.n_validation
    if validation is None and n_val >= len(heldout):
        print(f"[reference] {dataset}: no Parzen ceiling: {len(heldout)} held-out points cannot give "
              f"{n_val} validation points (scoring.parzen.n_validation) and test points", file=sys.stderr)
        return {}, {}
    sets = scoring.parzen_sets(heldout, validation, n_val, dataset)
    values = scoring.score_set(centres, ("parzen",), scoring.RealContext(settings, parzen=sets))
    return values, {"parzen": len(centres), "parzen_validation": len(sets.validation), "parzen_test": len(sets.test)}


def _validation(data: DataSource) -> torch.Tensor | None:
    val = data.validation()
    return None if val is None else val[0].double()


def _points_reference(data: DataSource, dtype: str, settings: ScoringSettings, out: Path,
                      info: dict[str, Any]) -> None:
    held = data.heldout()[0].numpy().astype(np.float32)
    with atomic_open(out / scoring.REAL_POINTS, "wb") as fh:
        np.save(fh, held)
    fresh = data.batch(0, len(held), REAL_DRAW_SEED)[0].cpu().numpy()
    ctx = scoring.RealContext(settings, real_points=held)
    real: dict[str, float] = {}
    if dtype == "mixture":
        ctx.centres, ctx.std = np.asarray(data.spec.centres), float(data.spec.mode_std)
        info["mixture"] = {"centres": ctx.centres.tolist(), "std": ctx.std}
        real.update(scoring.score_set(held, ("modes",), ctx))
    real.update(scoring.score_set(fresh, ("swd",), ctx))
    parzen, parzen_n = _parzen_ceiling(fresh[: settings.parzen.n_samples], torch.from_numpy(held).double(), None,
                                       settings, data.spec.name)
    info["extractor"] = ""
    info["real"] = {**real, **parzen}
    info["real_n"] = {"modes": len(held), "swd": len(fresh), "heldout": len(held), **parzen_n}
    info["real_protocol"] = ("mode metrics: held-out points; SWD and Parzen: a fresh draw from the true "
                             f"distribution (seed {REAL_DRAW_SEED}) against the held-out points")


def build_reference(plan: Plan, dataset: str, data_dir: Path, out: Path, device: torch.device) -> dict[str, Any]:
    """Write refs/<dataset>/ (see the module docstring); returns reference.json's content."""
    settings = load_settings(plan.params.get("scoring"))
    cfg = plan.datasets[dataset]
    dtype = data_type(cfg.kind)
    data = open_dataset(plan.datasets, dataset, data_dir).to(device)
    out = Path(out)
    start = time.perf_counter()
    with staging_dir(out.parent, f".tmp-ref-{dataset}-") as work:
        info: dict[str, Any] = {"dataset": dataset, "kind": cfg.kind, "data_type": dtype, "profile": plan.profile}
        if dtype == "image":
            _image_reference(data, cfg.kind, settings, work, device, info)
        else:
            _points_reference(data, dtype, settings, work, info)
        info["metrics"] = {n: list(m.outputs) for n, m in METRICS.items() if dtype in m.data_types}
        info["default_metrics"] = list(DEFAULT_METRICS[dtype])
        info["scoring"] = as_dict(settings)
        info["files"] = {p.name: sha256_file(p) for p in sorted(work.iterdir()) if p.is_file()}
        info["wall_s"] = round(time.perf_counter() - start, 3)
        info["provenance"] = provenance(device)
        info = scoring.json_safe(info)
        atomic_write_json(work / scoring.REFERENCE_JSON, info)
        swap_dir(work, out)
    return info
