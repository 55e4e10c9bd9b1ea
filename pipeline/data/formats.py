"""Readers for the official on-disk formats of the image datasets.

All readers return uint8 images as (N, C, H, W) numpy arrays and int64 labels.
"""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np

from pipeline.errors import DataError

IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _open_maybe_gz(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (LeCun's MNIST format), gzipped or not.

    Header: two zero bytes, a dtype code, the number of dimensions, then one
    big-endian uint32 per dimension."""
    try:
        with _open_maybe_gz(path) as fh:
            data = fh.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot read IDX file ({exc})") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in IDX_DTYPES:
        raise DataError(f"{path}: not an IDX file (bad magic number)")
    ndim = data[3]
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    dtype = np.dtype(IDX_DTYPES[data[2]])
    expected = int(np.prod(dims)) * dtype.itemsize
    body = data[4 + 4 * ndim :]
    if len(body) != expected:
        raise DataError(f"{path}: IDX body has {len(body)} bytes, header says {expected}")
    return np.frombuffer(body, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


def find_file(folder: Path, stem: str) -> Path:
    """``stem`` or ``stem.gz`` anywhere under ``folder``."""
    for name in (stem, stem + ".gz"):
        hits = sorted(folder.rglob(name))
        if hits:
            return hits[0]
    raise DataError(f"{folder}: expected a file named {stem} or {stem}.gz")


MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def read_mnist_folder(folder: Path) -> dict[str, np.ndarray]:
    """MNIST or Fashion-MNIST from the four official IDX files."""
    out = {key: read_idx(find_file(folder, stem)) for key, stem in MNIST_FILES.items()}
    for split in ("train", "test"):
        x, y = out[f"x_{split}"], out[f"y_{split}"]
        if x.ndim != 3 or len(x) != len(y):
            raise DataError(f"{folder}: {split} images {x.shape} do not match labels {y.shape}")
        out[f"x_{split}"] = x[:, None, :, :].astype(np.uint8)
        out[f"y_{split}"] = y.astype(np.int64)
    return out


def read_cifar10_folder(folder: Path) -> dict[str, np.ndarray]:
    """CIFAR-10 python pickle batches (data_batch_1..5, test_batch)."""

    def load(name: str) -> tuple[np.ndarray, np.ndarray]:
        path = find_file(folder, name)
        try:
            with open(path, "rb") as fh:
                entry = pickle.load(fh, encoding="latin1")
            data = np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
            labels = np.asarray(entry.get("labels", entry.get("fine_labels")), dtype=np.int64)
        except (pickle.UnpicklingError, KeyError, ValueError, EOFError, TypeError) as exc:
            raise DataError(f"{path}: not a CIFAR-10 pickle batch ({exc})") from None
        return data, labels

    train = [load(f"data_batch_{i}") for i in range(1, 6)]
    x_test, y_test = load("test_batch")
    return {
        "x_train": np.concatenate([t[0] for t in train]),
        "y_train": np.concatenate([t[1] for t in train]),
        "x_test": x_test,
        "y_test": y_test,
    }


def read_stl10_folder(folder: Path) -> dict[str, np.ndarray]:
    """STL-10 binaries: 96x96x3 images stored column-major; train = unlabeled + train."""

    def images(name: str) -> np.ndarray:
        raw = np.fromfile(find_file(folder, name), dtype=np.uint8)
        if raw.size % (3 * 96 * 96):
            raise DataError(f"{folder}/{name}: size is not a multiple of one 96x96x3 image")
        return raw.reshape(-1, 3, 96, 96).transpose(0, 1, 3, 2).copy()

    def labels(name: str) -> np.ndarray:
        return np.fromfile(find_file(folder, name), dtype=np.uint8).astype(np.int64) - 1

    unlabeled = images("unlabeled_X.bin")
    x_train = np.concatenate([unlabeled, images("train_X.bin")])
    y_train = np.concatenate([np.full(len(unlabeled), -1, np.int64), labels("train_y.bin")])
    return {"x_train": x_train, "y_train": y_train, "x_test": images("test_X.bin"), "y_test": labels("test_y.bin")}


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


def read_image_folder(folder: Path, size: int, crop: int = 0) -> np.ndarray:
    """Every image under ``folder`` (sorted by path): centre-crop to ``crop`` (0 = the
    shorter side), resize to ``size`` x ``size``, RGB uint8 (N, 3, size, size)."""
    from PIL import Image

    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise DataError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)}) found")
    out = np.empty((len(paths), 3, size, size), dtype=np.uint8)
    for i, path in enumerate(paths):
        with Image.open(path) as img:
            img = img.convert("RGB")
            w, h = img.size
            c = crop or min(w, h)
            left, top = (w - c) // 2, (h - c) // 2
            img = img.crop((left, top, left + c, top + c)).resize((size, size), Image.BICUBIC)
            out[i] = np.asarray(img).transpose(2, 0, 1)
    return out
