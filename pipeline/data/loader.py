"""Open a fetched (and verified) dataset as an in-memory source.

``open_dataset(datasets, name, folder)`` verifies ``folder`` against its
manifest, then builds the :class:`~pipeline.data.sources.DataSource` for the
kind. Derived kinds (affine-MNIST) open the storage of their base dataset.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from pipeline.config import DatasetConfig
from pipeline.data import synthetic
from pipeline.data.manifest import verify
from pipeline.data.sources import (
    AffineSource,
    DataSource,
    DataSpec,
    MixtureSource,
    SwissRollSource,
    TensorSource,
)
from pipeline.errors import DataError

__all__ = ["DataSource", "DataSpec", "open_dataset"]


def _load(folder: Path, split: str, mmap: bool) -> tuple[np.ndarray, np.ndarray] | None:
    xp, yp = folder / f"x_{split}.npy", folder / f"y_{split}.npy"
    if not xp.is_file():
        return None
    return np.load(xp, mmap_mode="r" if mmap else None), np.load(yp)


def _pad(x: np.ndarray, size: int) -> np.ndarray:
    """Zero-pad images (N, C, h, w) symmetrically to (N, C, size, size)."""
    h, w = x.shape[-2:]
    if size == 0 or (h == size and w == size):
        return x
    if size < h or size < w:
        raise DataError(f"pad_to = {size} is smaller than the images ({h}x{w})")
    top, left = (size - h) // 2, (size - w) // 2
    out = np.zeros(x.shape[:-2] + (size, size), dtype=x.dtype)
    out[..., top : top + h, left : left + w] = x
    return out


def _tensor_source(cfg: DatasetConfig, folder: Path, manifest: dict) -> TensorSource:
    train = _load(folder, "train", mmap=False)
    test = _load(folder, "test", mmap=False)
    if train is None or test is None:
        raise DataError(f"dataset {cfg.name!r}: {folder} lacks x_train.npy / x_test.npy; fetch it again")
    pad = cfg.options.get("pad_to", 0)
    x_train, x_test = _pad(train[0], pad), _pad(test[0], pad)
    labels = np.concatenate([train[1], test[1]])
    spec = DataSpec(
        name=cfg.name,
        kind=cfg.kind,
        shape=tuple(x_train.shape[1:]),
        num_classes=int(labels.max()) + 1 if labels.size and labels.max() >= 0 else 0,
        n_train=len(x_train),
    )
    source = TensorSource(spec, x_train, train[1], x_test, test[1])
    val = _load(folder, "val", mmap=False)
    if val is not None:
        source.set_validation(_pad(val[0], pad), val[1])
    return source


def open_dataset(datasets: Mapping[str, DatasetConfig], name: str, folder: Path | str) -> DataSource:
    """Verify ``folder`` (the storage of dataset ``name``) and open it."""
    cfg = datasets[name]
    folder = Path(folder)
    manifest = verify(folder, cfg.storage)
    o = cfg.options
    if cfg.kind in ("ring8", "grid25"):
        mix = synthetic.Mixture(np.asarray(manifest["centres"]), float(manifest["std"]))
        spec = DataSpec(
            name, cfg.kind, (2,), len(mix.centres), None,
            centres=tuple(map(tuple, mix.centres.tolist())), mode_std=mix.std,
        )
        return MixtureSource(spec, mix, np.load(folder / "x_test.npy"), np.load(folder / "y_test.npy"))
    if cfg.kind == "swissroll":
        spec = DataSpec(name, cfg.kind, (2,), 0, None)
        return SwissRollSource(spec, o["noise"], o["scale"], np.load(folder / "x_test.npy"))
    if cfg.kind == "affine_mnist":
        base = _tensor_source(datasets[cfg.storage], folder, manifest)
        if base.spec.shape != (1, 28, 28):
            raise DataError(f"dataset {name!r}: base {cfg.storage!r} must hold 28x28 digits, has {base.spec.shape}")
        spec = DataSpec(name, cfg.kind, (1, o["canvas"], o["canvas"]), base.spec.num_classes, base.spec.n_train)
        return AffineSource(spec, base, o["canvas"], o["max_angle"], o["test_seed"])
    return _tensor_source(cfg, folder, manifest)
