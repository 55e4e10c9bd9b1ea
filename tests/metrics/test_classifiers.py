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
    random_affine,
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


def test_random_affine_identity_and_translation():
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(64, 1, 15, 15)
    x[:, 0, 7, 7] = 1.0
    torch.testing.assert_close(random_affine(x, 0.0, 0.0, 0.0, g), x)
    y = random_affine(x, 2.0, 0.0, 0.0, g)
    assert y.shape == x.shape
    torch.testing.assert_close(y.sum((1, 2, 3)), torch.ones(64))  # bilinear keeps an interior pixel's mass
    grid = torch.arange(15.0)
    rows = (y[:, 0].sum(2) * grid).sum(1)
    cols = (y[:, 0].sum(1) * grid).sum(1)
    assert (rows - 7).abs().max() <= 2 + 1e-5 and (cols - 7).abs().max() <= 2 + 1e-5
    assert (rows - 7).abs().max() > 1 and (cols - 7).std() > 0.5


def test_random_affine_rotates_about_the_centre():
    g = torch.Generator().manual_seed(1)
    x = torch.zeros(200, 1, 21, 21)
    x[:, 0, 10, 16] = 1.0  # 6 px right of the centre
    y = random_affine(x, 0.0, 30.0, 0.0, g)
    grid = torch.arange(21.0) - 10
    mass = y[:, 0].sum((1, 2))
    r = ((y[:, 0].sum(2) * grid).sum(1) ** 2 + (y[:, 0].sum(1) * grid).sum(1) ** 2).sqrt() / mass
    angle = torch.atan2((y[:, 0].sum(2) * grid).sum(1), (y[:, 0].sum(1) * grid).sum(1))
    assert (r - 6).abs().max() < 0.6  # stays on its circle
    assert angle.abs().max() <= torch.deg2rad(torch.tensor(30.0)) + 0.1 and angle.abs().max() > 0.3


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
    settings = ClassifierSettings(epochs=3, batch_size=32, width=4, feature_dim=8, lr=0.01, rotation=0.0, scale=0.0)
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
