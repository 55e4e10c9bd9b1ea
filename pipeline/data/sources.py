"""In-memory data sources batched by index.

Every batch is a pure function of (seed, step): the trainer can resume at any
step and see exactly the batches an uninterrupted run would have seen.

Conventions at the model boundary: images are float32 (N, C, H, W) in [0, 1];
2D points are float32 (N, 2) in data coordinates; labels are int64 (class, or
mixture component; -1 where unknown).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import torch

from pipeline.data.affine import affine_transform
from pipeline.data.synthetic import Mixture, swissroll

STEP_STRIDE = 1_000_003  # mixes (seed, counter) into one generator seed


def step_generator(seed: int, counter: int) -> torch.Generator:
    """A CPU generator determined by (seed, counter) alone."""
    return torch.Generator().manual_seed(seed * STEP_STRIDE + counter)


@dataclass(frozen=True)
class DataSpec:
    """What a model may know about its data."""

    name: str
    kind: str
    shape: tuple[int, ...]  # per sample: (2,) or (C, H, W)
    num_classes: int  # classes, or mixture components; 0 when unknown
    n_train: int | None  # None: fresh samples every batch
    centres: tuple[tuple[float, float], ...] | None = None  # mixtures only
    mode_std: float | None = None

    @property
    def is_image(self) -> bool:
        return len(self.shape) == 3

    @property
    def dim(self) -> int:
        return int(np.prod(self.shape))


class DataSource(ABC):
    """Base class: ``batch`` for training, ``heldout`` for scoring."""

    spec: DataSpec
    device: torch.device = torch.device("cpu")

    def to(self, device: torch.device) -> DataSource:
        self.device = torch.device(device)
        return self

    @abstractmethod
    def batch(self, step: int, batch_size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Training batch number ``step`` of run ``seed``: (x, labels) on ``self.device``."""

    @abstractmethod
    def heldout(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Held-out real data (CPU) for scoring: the test split, or a fixed sample."""

    def train_arrays(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The whole training set when finite and in memory, else None."""
        return None

    def validation(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """A validation split (CPU) when the dataset has one, else None."""
        return None

    def steps_per_epoch(self, batch_size: int) -> int | None:
        n = self.spec.n_train
        return None if n is None else max(1, n // batch_size)


def _to_float_images(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x))
    return t.float().div_(255.0) if t.dtype == torch.uint8 else t.float()


class TensorSource(DataSource):
    """A finite set held as tensors; each epoch is a fresh permutation drawn from
    (seed, epoch), split into ``n // batch_size`` batches (the remainder is dropped)."""

    def __init__(self, spec: DataSpec, x_train, y_train, x_test, y_test):
        self.spec = spec
        self._x = _to_float_images(x_train)
        self._y = torch.as_tensor(np.asarray(y_train), dtype=torch.long)
        self._xt = _to_float_images(x_test)
        self._yt = torch.as_tensor(np.asarray(y_test), dtype=torch.long)
        self._perm_key: tuple[int, int, int] | None = None
        self._perm: torch.Tensor | None = None
        self._val: tuple[torch.Tensor, torch.Tensor] | None = None

    def set_validation(self, x_val, y_val) -> None:
        self._val = (_to_float_images(x_val), torch.as_tensor(np.asarray(y_val), dtype=torch.long))

    def validation(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The validation split when the dataset has one (e.g. for Parzen bandwidth selection)."""
        return self._val

    def to(self, device: torch.device) -> TensorSource:
        super().to(device)
        self._x, self._y = self._x.to(self.device), self._y.to(self.device)
        return self

    def indices(self, step: int, batch_size: int, seed: int) -> torch.Tensor:
        per_epoch = self.steps_per_epoch(batch_size)
        epoch, within = divmod(step, per_epoch)
        key = (seed, epoch, batch_size)
        if self._perm_key != key:
            self._perm = torch.randperm(len(self._y), generator=step_generator(seed, epoch))
            self._perm_key = key
        return self._perm[within * batch_size : (within + 1) * batch_size]

    def batch(self, step: int, batch_size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        if batch_size > len(self._y):
            raise ValueError(f"batch size {batch_size} exceeds the {len(self._y)} training examples")
        idx = self.indices(step, batch_size, seed).to(self.device)
        return self._x[idx], self._y[idx]

    def heldout(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self._xt, self._yt

    def train_arrays(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self._x, self._y


class AffineSource(TensorSource):
    """affine-MNIST on the fly: the base digits of each batch are transformed with
    randomness drawn from (seed, step); the held-out set is transformed once with
    a fixed seed."""

    def __init__(self, spec: DataSpec, base: TensorSource, canvas: int, max_angle: int, test_seed: int):
        self.spec = spec
        self.base = base
        self.canvas, self.max_angle = canvas, max_angle
        xt, yt = base.heldout()
        self._xt = affine_transform(xt, canvas, max_angle, torch.Generator().manual_seed(test_seed))
        self._yt = yt
        self._val = None

    def to(self, device: torch.device) -> AffineSource:
        DataSource.to(self, device)
        self.base.to(device)
        return self

    def batch(self, step: int, batch_size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = self.base.batch(step, batch_size, seed)
        return affine_transform(x, self.canvas, self.max_angle, step_generator(seed, -1 - step)), y

    def train_arrays(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The base digits, each transformed once with a fixed seed."""
        x, y = self.base.train_arrays()
        return affine_transform(x, self.canvas, self.max_angle, torch.Generator().manual_seed(0)), y

    def indices(self, step: int, batch_size: int, seed: int) -> torch.Tensor:
        return self.base.indices(step, batch_size, seed)


class MixtureSource(DataSource):
    """Infinite data: every batch is a fresh draw from the mixture."""

    def __init__(self, spec: DataSpec, mixture: Mixture, heldout_x: np.ndarray, heldout_y: np.ndarray):
        self.spec = spec
        self.mixture = mixture
        self._centres = torch.as_tensor(mixture.centres, dtype=torch.float32)
        self._xt = torch.as_tensor(heldout_x)
        self._yt = torch.as_tensor(heldout_y)

    def batch(self, step: int, batch_size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        g = step_generator(seed, step)
        k = torch.randint(0, len(self._centres), (batch_size,), generator=g)
        x = self._centres[k] + self.mixture.std * torch.randn(batch_size, 2, generator=g)
        return x.to(self.device), k.to(self.device)

    def heldout(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self._xt, self._yt


class SwissRollSource(DataSource):
    def __init__(self, spec: DataSpec, noise: float, scale: float, heldout_x: np.ndarray):
        self.spec = spec
        self.noise, self.scale = noise, scale
        self._xt = torch.as_tensor(heldout_x)

    def batch(self, step: int, batch_size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng([seed, step])
        x = torch.from_numpy(swissroll(batch_size, self.noise, self.scale, rng))
        return x.to(self.device), torch.full((batch_size,), -1, dtype=torch.long, device=self.device)

    def heldout(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self._xt, torch.full((len(self._xt),), -1, dtype=torch.long)
