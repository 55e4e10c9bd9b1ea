"""The download/parse paths of the big datasets, on tiny files in the real on-disk formats."""

from __future__ import annotations

import gzip
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest

from pipeline.config import make_plan
from pipeline.data.fetch import fetch
from pipeline.data.formats import read_idx
from pipeline.data.loader import open_dataset
from pipeline.errors import DataError


def write_idx(path: Path, array: np.ndarray) -> None:
    """IDX: 0x00 0x00, dtype code 0x08 (uint8), ndim, big-endian dims, raw bytes."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def make_mnist_mirror(folder: Path, n_train: int = 30, n_test: int = 10) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test),
    }
    folder.mkdir(parents=True)
    for stem, arr in arrays.items():
        write_idx(folder / f"{stem}.gz", arr)
    return arrays


def make_cifar_archive(folder: Path, per_batch: int = 4) -> dict[str, np.ndarray]:
    """cifar-10-python.tar.gz holding cifar-10-batches-py/{data_batch_1..5,test_batch}."""
    rng = np.random.default_rng(1)
    inner = folder / "build" / "cifar-10-batches-py"
    inner.mkdir(parents=True)
    out = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (per_batch, 3072)).astype(np.uint8)
        labels = rng.integers(0, 10, per_batch).tolist()
        with open(inner / name, "wb") as fh:
            pickle.dump({"batch_label": name, "data": data, "labels": labels}, fh)
        out[name] = data
    with tarfile.open(folder / "cifar-10-python.tar.gz", "w:gz") as tf:
        tf.add(inner, arcname="cifar-10-batches-py")
    return out


def plan_for(name: str, kind: str, **options):
    params = {
        "profile": "test", "runtime": {"device": "cpu"}, "scoring": {},
        "datasets": {name: {"kind": kind, **options}},
        "experiments": {"e": {"paper": "gan", "model": "gan", "dataset": name, "seeds": [0],
                              "train": {"steps": 1, "batch_size": 2}}},
    }
    return make_plan(params)


def test_idx_reader_round_trip(tmp_path):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.gz", arr)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), arr)
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04garbage")
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(tmp_path / "bad")


def test_mnist_from_official_idx_files(tmp_path):
    mirror = tmp_path / "mirror"
    arrays = make_mnist_mirror(mirror)
    plan = plan_for("mnist", "mnist", source_dir=str(mirror), validation_size=5)
    fetch(plan.datasets["mnist"], tmp_path / "data" / "mnist")
    source = open_dataset(plan.datasets, "mnist", tmp_path / "data" / "mnist")
    x, y = source.train_arrays()
    assert x.shape == (25, 1, 28, 28) and source.spec.shape == (1, 28, 28)
    np.testing.assert_allclose(x[0, 0].numpy() * 255, arrays["train-images-idx3-ubyte"][0], atol=1e-3)
    assert y.tolist() == arrays["train-labels-idx1-ubyte"][:25].tolist()
    xv, _ = source.validation()
    np.testing.assert_allclose(xv[0, 0].numpy() * 255, arrays["train-images-idx3-ubyte"][25], atol=1e-3)
    xt, yt = source.heldout()
    assert xt.shape == (10, 1, 28, 28) and yt.tolist() == arrays["t10k-labels-idx1-ubyte"].tolist()


def test_cifar10_from_the_official_archive(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    batches = make_cifar_archive(mirror)
    (mirror / "build").rename(tmp_path / "unused")  # only the archive stays in the mirror
    plan = plan_for("cifar10", "cifar10", source_dir=str(mirror))
    fetch(plan.datasets["cifar10"], tmp_path / "data" / "cifar10")
    source = open_dataset(plan.datasets, "cifar10", tmp_path / "data" / "cifar10")
    x, _ = source.train_arrays()
    assert x.shape == (20, 3, 32, 32)
    first = batches["data_batch_1"][0].reshape(3, 32, 32)
    np.testing.assert_allclose(x[0].numpy() * 255, first, atol=1e-3)
    assert source.heldout()[0].shape == (4, 3, 32, 32)


def test_missing_source_folder_is_a_clear_error(tmp_path):
    plan = plan_for("cifar10", "cifar10", source_dir=str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match=r"source_dir .*no such folder.*cifar-10-python.tar.gz"):
        fetch(plan.datasets["cifar10"], tmp_path / "data" / "cifar10")
    assert not (tmp_path / "data" / "cifar10").exists()


def test_lsun_without_files_says_how_to_get_them(tmp_path):
    plan = plan_for("lsun", "lsun_bedroom")
    with pytest.raises(DataError, match="cannot be downloaded automatically.*source_dir"):
        fetch(plan.datasets["lsun"], tmp_path / "lsun")


def test_image_folder_kind_crops_and_resizes(tmp_path):
    from PIL import Image

    folder = tmp_path / "faces" / "img_align_celeba"
    folder.mkdir(parents=True)
    for i in range(3):
        Image.fromarray(np.full((218, 178, 3), 40 * i, np.uint8)).save(folder / f"{i:06d}.jpg")
    for i in range(3, 5):
        Image.fromarray(np.full((218, 178, 3), 40 * i, np.uint8)).save(folder / f"{i:06d}.png")
    plan = plan_for("celeba", "celeba", source_dir=str(tmp_path / "faces"), image_size=16, validation_size=1,
                    test_size=2)
    fetch(plan.datasets["celeba"], tmp_path / "data" / "celeba")
    source = open_dataset(plan.datasets, "celeba", tmp_path / "data" / "celeba")
    x, _ = source.train_arrays()
    assert x.shape == (2, 3, 16, 16) and source.spec.shape == (3, 16, 16)
    assert abs(float(x[1].mean()) * 255 - 40) <= 2
    assert source.heldout()[0].shape == (2, 3, 16, 16) and source.validation()[0].shape == (1, 3, 16, 16)
