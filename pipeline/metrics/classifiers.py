"""Domain classifiers: the feature extractors for digit-like images (MNIST subset,
padded MNIST, affine-MNIST, sklearn digits, full MNIST / Fashion-MNIST).

EBGAN scored its grid with "a regular 3-layer ConvNet trained on MNIST" (Zhao et
al. 2017, App. C) and MemoryGAN its affine-MNIST / Fashion-MNIST samples with
dataset classifiers (Kim et al. 2018, Sec. 5); their weights are not public, so
we train our own on each dataset's training split (recipe: ours,
``scoring.classifier``):

    x in [0, 1] -> [conv k x k (w) - BN - ReLU - maxpool 2] -> [conv k x k (2w) - BN - ReLU - maxpool 2]
      -> conv 3x3 (4w) - BN - ReLU - adaptive avg-pool 3x3 -> linear (feature_dim) - ReLU = features
      -> dropout -> linear (classes) = logits

``features`` (penultimate) feed FID / KID / precision-recall, ``softmax(logits)``
= p(y|x) feeds IS and EBGAN's I'. Any image size works (the adaptive pool).
Training: Adam with a one-cycle learning-rate schedule, cross-entropy, batches
drawn from the data source (a pure function of (seed, step); affine-MNIST
batches are freshly transformed), each image augmented by a small random affine
map (rotation, zoom, translation). Accuracy is measured on the held-out split.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from pipeline.data.sources import DataSource
from pipeline.io import atomic_torch_save
from pipeline.metrics.settings import ClassifierSettings


@dataclass(frozen=True)
class ClassifierArch:
    in_channels: int
    num_classes: int
    width: int
    kernel: int
    feature_dim: int
    dropout: float


class DigitCNN(nn.Module):
    """Three conv layers and two linear layers; ``forward`` returns (features, logits)."""

    def __init__(self, arch: ClassifierArch):
        super().__init__()
        w, k = arch.width, arch.kernel

        def block(cin: int, cout: int, size: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, size, padding=size // 2), nn.BatchNorm2d(cout), nn.ReLU()]

        self.body = nn.Sequential(
            *block(arch.in_channels, w, k), nn.MaxPool2d(2),
            *block(w, 2 * w, k), nn.MaxPool2d(2),
            *block(2 * w, 4 * w, 3), nn.AdaptiveAvgPool2d(3), nn.Flatten(),
            nn.Linear(4 * w * 9, arch.feature_dim), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(arch.dropout), nn.Linear(arch.feature_dim, arch.num_classes))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.body(x)
        return features, self.head(features)


def random_affine(x: torch.Tensor, shift: float, degrees: float, scale: float,
                  generator: torch.Generator) -> torch.Tensor:
    """Augment each image with its own random affine map about the centre: rotation
    U(-degrees, degrees), zoom U(1 - scale, 1 + scale), translation U(-shift, shift) pixels
    per axis (bilinear, zero fill). All zero: the identity."""
    b, _, h, w = x.shape
    angle = (torch.rand(b, generator=generator) * 2 - 1) * math.radians(degrees)
    zoom = 1 + (torch.rand(b, generator=generator) * 2 - 1) * scale
    move = (torch.rand(b, 2, generator=generator) * 2 - 1) * shift * torch.tensor([2 / w, 2 / h])
    cos, sin = angle.cos() / zoom, angle.sin() / zoom
    theta = torch.stack([torch.stack([cos, -sin, move[:, 0]], 1), torch.stack([sin, cos, move[:, 1]], 1)], 1)
    grid = F.affine_grid(theta.to(x.device, x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


@torch.inference_mode()
def accuracy(model: DigitCNN, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    for xb, yb in zip(x.split(batch_size), y.split(batch_size)):
        correct += int((model(xb.to(device))[1].argmax(1).cpu() == yb).sum())
    return correct / len(y)


@dataclass
class TrainedClassifier:
    model: DigitCNN
    arch: ClassifierArch
    heldout_accuracy: float
    train_s: float
    steps: int


def train_classifier(data: DataSource, settings: ClassifierSettings, device: torch.device) -> TrainedClassifier:
    """Train on ``data``'s training batches; report accuracy on its held-out split."""
    spec = data.spec
    if not spec.is_image or spec.num_classes < 2 or spec.n_train is None:
        raise ValueError(f"dataset {spec.name!r}: a domain classifier needs labelled images with a training split")
    arch = ClassifierArch(spec.shape[0], spec.num_classes, settings.width, settings.kernel, settings.feature_dim,
                          settings.dropout)
    torch.manual_seed(settings.seed)
    model = DigitCNN(arch).to(device)
    steps = settings.epochs * data.steps_per_epoch(settings.batch_size)
    opt = torch.optim.Adam(model.parameters(), lr=settings.lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=settings.lr, total_steps=steps)
    augment = torch.Generator().manual_seed(settings.seed)
    start = time.perf_counter()
    model.train()
    for step in range(steps):
        x, y = data.batch(step, settings.batch_size, settings.seed)
        x = random_affine(x, settings.shift, settings.rotation, settings.scale, augment)
        loss = F.cross_entropy(model(x)[1], y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        schedule.step()
    train_s = time.perf_counter() - start
    xt, yt = data.heldout()
    return TrainedClassifier(model.eval(), arch, accuracy(model, xt, yt), train_s, steps)


def save_classifier(path: Path, trained: TrainedClassifier, settings: ClassifierSettings) -> Path:
    return atomic_torch_save(path, {
        "arch": asdict(trained.arch), "state_dict": trained.model.state_dict(), "settings": asdict(settings),
        "heldout_accuracy": trained.heldout_accuracy,
    })


def load_classifier(path: Path | str, device: torch.device | str = "cpu") -> tuple[DigitCNN, dict[str, Any]]:
    """The classifier saved by :func:`save_classifier` (eval mode) and its checkpoint metadata."""
    ckpt = torch.load(path, map_location=device, weights_only=True)
    model = DigitCNN(ClassifierArch(**ckpt["arch"]))
    model.load_state_dict(ckpt["state_dict"])
    return model.to(device).eval(), {k: v for k, v in ckpt.items() if k != "state_dict"}
