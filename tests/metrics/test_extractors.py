"""torch-fidelity registration of our classifier, batched extraction, Inception weights."""

from __future__ import annotations

import pytest
import torch
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

from pipeline.errors import DataError
from pipeline.metrics import extractors as ex
from pipeline.metrics.classifiers import (
    ClassifierArch,
    DigitCNN,
    TrainedClassifier,
    save_classifier,
)
from pipeline.metrics.settings import ClassifierSettings


@pytest.fixture
def classifier_file(tmp_path):
    torch.manual_seed(0)
    net = DigitCNN(ClassifierArch(1, 10, width=4, kernel=3, feature_dim=16, dropout=0.2)).eval()
    return save_classifier(tmp_path / "classifier.pt", TrainedClassifier(net, ClassifierArch(1, 10, 4, 3, 16, 0.2),
                                                                        0.5, 0.0, 0), ClassifierSettings()), net


def test_classifier_is_a_registered_torch_fidelity_extractor(classifier_file):
    path, net = classifier_file
    ex.register_extractors()
    ex.register_extractors()  # idempotent
    assert FEATURE_EXTRACTORS_REGISTRY[ex.CLASSIFIER] is ex.ClassifierExtractor
    assert ex.metric_layers(ex.CLASSIFIER) == {"logits": "logits", "features": "features"}
    fe = ex.create_extractor(ex.CLASSIFIER, path, torch.device("cpu"))
    images = torch.randint(0, 256, (37, 1, 28, 28), dtype=torch.uint8)
    out = ex.extract(fe, images, batch_size=10, device=torch.device("cpu"))
    with torch.inference_mode():
        features, logits = net(images.float() / 255)
    torch.testing.assert_close(out["features"], features)
    torch.testing.assert_close(out["logits"], logits)
    again = ex.extract(fe, images.numpy(), batch_size=37, device=torch.device("cpu"))
    torch.testing.assert_close(again["logits"], out["logits"])


def test_extraction_rejects_float_images(classifier_file):
    fe = ex.create_extractor(ex.CLASSIFIER, classifier_file[0], torch.device("cpu"))
    with pytest.raises(ValueError, match="uint8"):
        ex.extract(fe, torch.rand(2, 1, 28, 28), 10, torch.device("cpu"))


def test_missing_inception_weights_say_how_to_provide_them(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(DataError) as err:
        ex.inception_weights("")
    text = str(err.value)
    assert ex.INCEPTION_FILE in text and "scoring.inception_weights" in text and "https://" in text
    with pytest.raises(DataError, match="no such file"):
        ex.inception_weights(str(tmp_path / "nowhere.pth"))


def test_inception_weights_from_params_or_hub_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    given = tmp_path / "w.pth"
    given.write_bytes(b"x")
    assert ex.inception_weights(str(given)) == given
    cached = tmp_path / "hub" / "checkpoints" / ex.INCEPTION_FILE
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"x")
    assert ex.inception_weights("") == cached
