"""What typical ports share: a per-sample Dataset, a shuffling DataLoader, plain optimisers."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from pipeline.data.affine import affine_transform
from pipeline.data.sources import AffineSource, DataSource, MixtureSource, SwissRollSource
from pipeline.data.synthetic import swissroll


class ImageDataset(Dataset):
    """Stored uint8 images (N, C, H, W); ``__getitem__`` converts one to float in [0, 1]
    (torchvision's ToTensor) and applies the per-sample ``transform``."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform=None):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        x = torch.from_numpy(self.images[i]).float().div(255)
        if self.transform is not None:
            x = self.transform(x)
        return x, int(self.labels[i])


class RandomRotateAndPlace:
    """affine-MNIST one digit at a time: random integer rotation, random position on the canvas."""

    def __init__(self, canvas: int, max_angle: int, seed: int):
        self.canvas, self.max_angle = canvas, max_angle
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return affine_transform(x[None], self.canvas, self.max_angle, self.generator)[0]


def _as_uint8(x: torch.Tensor) -> np.ndarray:
    return x.mul(255).round().to(torch.uint8).cpu().numpy()


def image_dataset(data: DataSource, seed: int) -> ImageDataset:
    if isinstance(data, AffineSource):
        x, y = data.base.train_arrays()
        return ImageDataset(_as_uint8(x), y.cpu().numpy(), RandomRotateAndPlace(data.canvas, data.max_angle, seed))
    arrays = data.train_arrays()
    if arrays is None:
        raise ValueError(f"dataset {data.spec.name!r} has no finite training set")
    x, y = arrays
    return ImageDataset(_as_uint8(x), y.cpu().numpy())


def batches(data: DataSource, batch_size: int, seed: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Training batches forever: DataLoader epochs over a finite set, or numpy draws from a toy."""
    rng = np.random.default_rng(seed)
    if isinstance(data, MixtureSource):
        while True:
            x, k = data.mixture.sample(batch_size, rng)
            yield torch.from_numpy(x), torch.from_numpy(k)
    if isinstance(data, SwissRollSource):
        while True:
            x = swissroll(batch_size, data.noise, data.scale, rng)
            yield torch.from_numpy(x), torch.full((batch_size,), -1)
    loader = DataLoader(image_dataset(data, seed), batch_size=batch_size, shuffle=True, drop_last=True,
                        generator=torch.Generator().manual_seed(seed))
    while True:
        yield from loader


def adam(params, lr: float, betas) -> torch.optim.Adam:
    return torch.optim.Adam(params, lr=lr, betas=(betas[0], betas[1]))


def sgd(params, lr: float, momentum: float) -> torch.optim.SGD:
    return torch.optim.SGD(params, lr=lr, momentum=momentum)
