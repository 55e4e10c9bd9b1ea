"""Scoring speed: our batched feature extraction with cached real statistics vs
torch-fidelity's default path, on the same images and the same extractor.

- *extraction*: images/s through the domain classifier, ours (``extract``:
  uint8 tensors in batches of ``scoring.batch_size`` under inference mode) vs
  torch-fidelity (``calculate_metrics`` reads a Dataset through its DataLoader in
  batches of its default 64 and extracts both inputs on every call);
- *one sample set scored* (IS + FID): ours extracts the generated set only (the
  real features are the reference stage's cache) vs torch-fidelity extracting
  the generated and the real set; both computed in alternating rounds.

The classifier is the reference stage's refs/<dataset>/classifier.pt when it
exists, else a one-epoch classifier trained here (speed does not depend on
accuracy).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from pipeline import runtime
from pipeline.config import Plan
from pipeline.data.sources import DataSource
from pipeline.metrics import extractors as ex
from pipeline.metrics import scoring
from pipeline.metrics.feature_distances import feature_statistics
from pipeline.metrics.registry import CLASSIFIER
from pipeline.metrics.settings import load_settings


class _Images(Dataset):
    """uint8 images (N, C, H, W) as torch-fidelity's inputs expect them."""

    def __init__(self, images: torch.Tensor):
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.images[i]


def _classifier(data: DataSource, refs: Path, device: torch.device) -> Path:
    path = refs / data.spec.name / scoring.CLASSIFIER_FILE
    if path.is_file():
        return path
    from pipeline.metrics.classifiers import save_classifier, train_classifier
    from pipeline.metrics.settings import ClassifierSettings

    recipe = ClassifierSettings(epochs=1)
    return save_classifier(Path(tempfile.mkdtemp(prefix="bench-clf-")) / scoring.CLASSIFIER_FILE,
                           train_classifier(data, recipe, device), recipe)


def _uint8(x: torch.Tensor) -> torch.Tensor:
    return x.mul(255).round().to(torch.uint8).cpu()


def measure_scoring(plan: Plan, data: DataSource, refs: Path, n: int = 2000, rounds: int = 3) -> dict[str, Any]:
    """Extraction and scoring throughput of one image dataset (see the module docstring)."""
    import torch_fidelity

    device = runtime.configure(plan.params["runtime"])
    settings = load_settings(plan.params.get("scoring"))
    weights = _classifier(data, refs, device)
    extractor = ex.create_extractor(CLASSIFIER, weights, device)
    train = _uint8(data.train_arrays()[0])
    generated = train[torch.arange(n) % len(train)]
    real = _uint8(data.heldout()[0])
    held = ex.extract(extractor, real, settings.batch_size, device)
    ctx = scoring.RealContext(settings, device, extractor, held["features"], feature_statistics(held["features"]))

    def ours_extract() -> None:
        ex.extract(extractor, generated, settings.batch_size, device)

    def fidelity_extract() -> None:
        torch_fidelity.calculate_metrics(input1=_Images(generated), isc=True, feature_extractor=CLASSIFIER,
                                         feature_extractor_weights_path=str(weights), cuda=device.type == "cuda",
                                         verbose=False, cache=False)

    def ours_score() -> None:
        scoring.score_set(generated.numpy(), ("is", "fid"), ctx)

    def fidelity_score() -> None:
        torch_fidelity.calculate_metrics(input1=_Images(generated), input2=_Images(real), isc=True, fid=True,
                                         feature_extractor=CLASSIFIER, feature_extractor_weights_path=str(weights),
                                         cuda=device.type == "cuda", verbose=False, cache=False)

    timings: dict[str, list[float]] = {}
    for fn in (ours_extract, fidelity_extract, ours_score, fidelity_score):
        fn()  # warm-up
    for _ in range(rounds):
        for fn in (ours_extract, fidelity_extract, ours_score, fidelity_score):
            start = time.perf_counter()
            fn()
            timings.setdefault(fn.__name__, []).append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in timings.items()}
    return {
        "dataset": data.spec.name,
        "images": n,
        "real_images": len(real),
        "batch_size_ours": settings.batch_size,
        "batch_size_fidelity": torch_fidelity.defaults.DEFAULTS["batch_size"],
        "extract_images_per_s_ours": n / med["ours_extract"],
        "extract_images_per_s_fidelity": n / med["fidelity_extract"],
        "extract_speedup": float(np.median([f / o for o, f in zip(timings["ours_extract"],
                                                                  timings["fidelity_extract"])])),
        "score_s_ours": med["ours_score"],
        "score_s_fidelity": med["fidelity_score"],
        "score_speedup": float(np.median([f / o for o, f in zip(timings["ours_score"], timings["fidelity_score"])])),
    }
