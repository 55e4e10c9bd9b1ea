"""Feature extractors registered with torch-fidelity, and batched extraction.

Two extractors score images (:func:`pipeline.metrics.registry.extractor_name`):

- ``domain-classifier``: our trained :class:`~pipeline.metrics.classifiers.DigitCNN`
  wrapped as a torch-fidelity ``FeatureExtractorBase`` (features ``features`` =
  penultimate layer, ``logits``); its weights file is refs/<dataset>/classifier.pt.
- ``inception-v3-compat``: torch-fidelity's Inception-v3 (features ``2048``,
  ``logits_unbiased``). Its weights must be on disk: ``scoring.inception_weights``
  or torch-fidelity's file in the torch hub cache; this module never downloads
  them (:func:`inception_weights` says how to provide them).

Both are created through torch-fidelity's registry (``create_feature_extractor``)
with ``feature_extractor_weights_path``, so they are interchangeable: each
extractor's default layers for ``isc`` (logits) and ``fid`` (features) pick
what the metrics use. Inputs are uint8 images (N, C, H, W); grayscale images
are repeated to 3 channels for extractors that need RGB.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch_fidelity import FeatureExtractorBase, register_feature_extractor
from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY
from torch_fidelity.utils import create_feature_extractor

from pipeline.errors import DataError
from pipeline.metrics.classifiers import load_classifier
from pipeline.metrics.registry import CLASSIFIER, INCEPTION

#: extractors that only accept 3-channel input
RGB_ONLY = {INCEPTION}
INCEPTION_FILE = URL_INCEPTION_V3.rsplit("/", 1)[-1]


class ClassifierExtractor(FeatureExtractorBase):
    """torch-fidelity wrapper of a saved domain classifier (uint8 input)."""

    def __init__(self, name: str, features_list: list[str], feature_extractor_weights_path: str | None = None,
                 **kwargs):
        super().__init__(name, features_list)
        if not feature_extractor_weights_path:
            raise ValueError(f"feature extractor {name!r} needs feature_extractor_weights_path (a classifier.pt)")
        self.net, self.meta = load_classifier(feature_extractor_weights_path)
        self.requires_grad_(False)
        self.eval()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if x.dtype != torch.uint8 or x.dim() != 4:
            raise ValueError(f"expected uint8 images (N, C, H, W), got {x.dtype} {tuple(x.shape)}")
        features, logits = self.net(x.float() / 255.0)
        out = {"features": features, "logits": logits}
        return tuple(out[k] for k in self.features_list)

    @staticmethod
    def get_provided_features_list() -> tuple[str, ...]:
        return "features", "logits"

    @staticmethod
    def get_default_feature_layer_for_metric(metric: str) -> str:
        return {"isc": "logits", "fid": "features", "kid": "features", "prc": "features"}[metric]

    @staticmethod
    def can_be_compiled() -> bool:
        return False

    @staticmethod
    def get_dummy_input_for_compile() -> torch.Tensor:
        return torch.zeros(1, 1, 28, 28, dtype=torch.uint8)


def register_extractors() -> None:
    """Register our classifier with torch-fidelity (idempotent)."""
    if CLASSIFIER not in FEATURE_EXTRACTORS_REGISTRY:
        register_feature_extractor(CLASSIFIER, ClassifierExtractor)


def inception_weights(configured: str = "") -> Path:
    """Path of torch-fidelity's Inception-v3 weights: ``scoring.inception_weights`` when
    set, else the torch hub cache; a DataError saying how to provide them otherwise."""
    how = (f"download {URL_INCEPTION_V3} on a machine with internet access, then either copy it to "
           f"{Path(torch.hub.get_dir()) / 'checkpoints' / INCEPTION_FILE} or set scoring.inception_weights "
           "to its path in params.yaml")
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise DataError(f"scoring.inception_weights = {configured}: no such file. Fix: {how}")
        return path
    path = Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILE
    if not path.is_file():
        raise DataError(f"torch-fidelity's Inception-v3 weights are needed to score natural images and are not "
                        f"cached at {path} (this pipeline never downloads them while scoring). Fix: {how}")
    return path


def create_extractor(name: str, weights: Path | str, device: torch.device) -> FeatureExtractorBase:
    """A registered torch-fidelity extractor producing its ``isc`` and ``fid`` layers."""
    register_extractors()
    if name not in FEATURE_EXTRACTORS_REGISTRY:
        raise ValueError(f"feature extractor {name!r} is not registered with torch-fidelity")
    layers = metric_layers(name)
    extractor = create_feature_extractor(name, sorted(set(layers.values())), cuda=False,
                                         feature_extractor_weights_path=str(weights), verbose=False)
    return extractor.to(device)


def metric_layers(name: str) -> dict[str, str]:
    """The extractor's layer for p(y|x) scores (``logits``) and for distances (``features``)."""
    cls = FEATURE_EXTRACTORS_REGISTRY[name]
    return {"logits": cls.get_default_feature_layer_for_metric("isc"),
            "features": cls.get_default_feature_layer_for_metric("fid")}


@torch.inference_mode()
def extract(extractor: FeatureExtractorBase, images: np.ndarray | torch.Tensor, batch_size: int,
            device: torch.device) -> dict[str, torch.Tensor]:
    """``{"logits": (N, C), "features": (N, D)}`` (float32, CPU) of uint8 images (N, C, H, W)."""
    images = torch.as_tensor(np.asarray(images))
    if images.dtype != torch.uint8 or images.dim() != 4:
        raise ValueError(f"expected uint8 images (N, C, H, W), got {images.dtype} {tuple(images.shape)}")
    if extractor.get_name() in RGB_ONLY and images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1)
    layers = metric_layers(extractor.get_name())
    parts: dict[str, list[torch.Tensor]] = {role: [] for role in layers}
    for batch in images.split(batch_size):
        out = extractor.convert_features_tuple_to_dict(extractor(batch.to(device)))
        for role, layer in layers.items():
            parts[role].append(out[layer].float().cpu())
    return {role: torch.cat(chunks) for role, chunks in parts.items()}
