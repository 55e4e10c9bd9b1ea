"""What typical ports share: torchvision's per-sample Dataset pattern (PIL + ToTensor), a
shuffling DataLoader, the toy scripts' per-point generator, plain optimisers."""

from __future__ import annotations

import random
from collections.abc import Iterator

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from pipeline.data.affine import affine_transform
from pipeline.data.sources import AffineSource, DataSource, MixtureSource, SwissRollSource
from pipeline.data.synthetic import swissroll


class ImageDataset(Dataset):
    """torchvision's dataset pattern: stored uint8 images, one turned into a PIL image and then a
    float tensor in [0, 1] by ``transforms.ToTensor()`` per ``__getitem__``, then ``transform``."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform=None):
        self.images, self.labels, self.transform = images, labels, transform
        self.to_tensor = transforms.ToTensor()

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        image = self.images[i]  # (C, H, W) uint8
        pil = Image.fromarray(image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0))
        x = self.to_tensor(pil)
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


def mixture_batches(centres: np.ndarray, std: float, batch_size: int, seed: int) -> Iterator[np.ndarray]:
    """The public toy scripts' generator (WGAN-GP's gan_toy.py, which DCD's toy code follows):
    each point drawn in a Python loop, a random centre plus Gaussian noise."""
    rng = random.Random(seed)
    np_rng = np.random.RandomState(seed)
    while True:
        points = []
        for _ in range(batch_size):
            point = np_rng.randn(2) * std
            centre = rng.choice(centres)
            point[0] += centre[0]
            point[1] += centre[1]
            points.append(point)
        yield np.array(points, dtype="float32")


def batches(data: DataSource, batch_size: int, seed: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Training batches forever: DataLoader epochs over a finite set, or a toy script's generator."""
    if isinstance(data, MixtureSource):
        for x in mixture_batches(data.mixture.centres, data.mixture.std, batch_size, seed):
            yield torch.from_numpy(x), torch.full((batch_size,), -1)
    if isinstance(data, SwissRollSource):
        rng = np.random.default_rng(seed)
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


def bce_d_step(bce, opt, out_real: torch.Tensor, out_fake: torch.Tensor) -> torch.Tensor:
    """PyTorch's DCGAN-example D update on logits: real and fake terms backpropagated one
    after the other, then one optimiser step (the caller zeroed the gradients)."""
    loss_real = bce(out_real, torch.ones_like(out_real))
    loss_real.backward()
    loss_fake = bce(out_fake, torch.zeros_like(out_fake))
    loss_fake.backward()
    opt.step()
    return loss_real + loss_fake


def bce_g_step(bce, opt, out: torch.Tensor, kind: str) -> torch.Tensor:
    """G update on D's logits of fakes: -log D (non-saturating) or log(1 - D)."""
    loss = bce(out, torch.ones_like(out)) if kind == "non_saturating" else -bce(out, torch.zeros_like(out))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss
