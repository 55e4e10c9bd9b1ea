"""Domain classifier: architecture on every image size, shift augmentation, training,
save / load."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pipeline.data.sources import DataSpec, TensorSource
from pipeline.metrics.classifiers import (
    ClassifierArch,
    DigitCNN,
    accuracy,
    load_classifier,
    random_shift,
    save_classifier,
    train_classifier,
)
from pipeline.metrics.settings import ClassifierSettings


@pytest.mark.parametrize("size", [8, 28, 32, 40])
def test_features_and_logits_for_every_image_size(size):
    net = DigitCNN(ClassifierArch(1, 10, width=4, kernel=3, feature_dim=12, dropout=0.0))
    features, logits = net(torch.rand(3, 1, size, size))
    assert features.shape == (3, 12) and logits.shape == (3, 10)
    assert (features >= 0).all()  # post-ReLU penultimate layer


def test_random_shift_translates_within_bounds():
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(64, 1, 9, 9)
    x[:, 0, 4, 4] = 1.0
    assert torch.equal(random_shift(x, 0, g), x)
    y = random_shift(x, 2, g)
    assert y.shape == x.shape and torch.equal(y.sum((1, 2, 3)), torch.ones(64))  # the pixel never leaves
    pos = y[:, 0].flatten(1).argmax(1)
    rows, cols = pos // 9, pos % 9
    assert rows.min() == 2 and rows.max() == 6 and cols.min() == 2 and cols.max() == 6
    assert len(set(zip(rows.tolist(), cols.tolist()))) > 10


def bars(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two classes of 12x12 uint8 images: a horizontal or a vertical bar at a random place."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = np.zeros((n, 1, 12, 12), np.uint8)
    for i, (label, pos) in enumerate(zip(y, rng.integers(2, 10, n))):
        if label:
            x[i, 0, :, pos] = 255
        else:
            x[i, 0, pos, :] = 255
    return x, y


def test_training_learns_a_separable_task_and_round_trips(tmp_path):
    xtr, ytr = bars(256, 0)
    xte, yte = bars(100, 1)
    data = TensorSource(DataSpec("bars", "sklearn_digits", (1, 12, 12), 2, len(xtr)), xtr, ytr, xte, yte)
    settings = ClassifierSettings(epochs=3, batch_size=32, width=4, feature_dim=8, lr=0.01)
    trained = train_classifier(data, settings, torch.device("cpu"))
    assert trained.heldout_accuracy == 1.0 and trained.steps == 3 * (256 // 32)
    path = save_classifier(tmp_path / "c.pt", trained, settings)
    model, meta = load_classifier(path)
    x = torch.from_numpy(xte).float() / 255
    with torch.inference_mode():
        torch.testing.assert_close(model(x)[1], trained.model(x)[1])
    assert meta["heldout_accuracy"] == 1.0 and meta["arch"]["num_classes"] == 2
    assert accuracy(model, x, torch.from_numpy(yte), batch_size=7) == 1.0


def test_training_is_deterministic():
    xtr, ytr = bars(64, 2)
    data = TensorSource(DataSpec("bars", "sklearn_digits", (1, 12, 12), 2, 64), xtr, ytr, xtr, ytr)
    settings = ClassifierSettings(epochs=1, batch_size=16, width=4, feature_dim=8)
    a = train_classifier(data, settings, torch.device("cpu")).model.state_dict()
    b = train_classifier(data, settings, torch.device("cpu")).model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_unlabelled_data_is_refused():
    x = np.zeros((10, 1, 8, 8), np.uint8)
    data = TensorSource(DataSpec("x", "celeba", (1, 8, 8), 0, 10), x, -np.ones(10), x, -np.ones(10))
    with pytest.raises(ValueError, match="labelled"):
        train_classifier(data, ClassifierSettings(epochs=1), torch.device("cpu"))
