"""Batches are a pure function of (seed, step); toy geometry; affine-MNIST."""

from __future__ import annotations

import math

import numpy as np
import torch

from pipeline.config import make_plan
from pipeline.data import synthetic
from pipeline.data.affine import affine_transform
from pipeline.data.loader import open_dataset


def test_tensor_batches_depend_only_on_seed_and_step(fetched, tiny_params):
    plan = make_plan(tiny_params)
    a = open_dataset(plan.datasets, "mnist_subset", fetched / "mnist_subset")
    b = open_dataset(plan.datasets, "mnist_subset", fetched / "mnist_subset")
    for step in (0, 5, 123):
        b.batch(step + 1, 32, seed=0)  # different history
        assert torch.equal(a.batch(step, 32, seed=0)[0], b.batch(step, 32, seed=0)[0])
    assert not torch.equal(a.batch(0, 32, seed=0)[0], a.batch(0, 32, seed=1)[0])


def test_epoch_visits_every_example_once(fetched, tiny_params):
    src = open_dataset(make_plan(tiny_params).datasets, "mnist_subset", fetched / "mnist_subset")
    per_epoch = src.steps_per_epoch(100)
    idx = torch.cat([src.indices(s, 100, seed=3) for s in range(per_epoch)])
    assert per_epoch == 40 and sorted(idx.tolist()) == list(range(4000))


def test_images_in_unit_interval(fetched, tiny_params):
    x, y = open_dataset(make_plan(tiny_params).datasets, "mnist_subset", fetched / "mnist_subset").batch(0, 64, 0)
    assert x.shape == (64, 1, 28, 28) and x.dtype == torch.float32
    assert 0 <= x.min() and x.max() <= 1 and x.max() > 0.9
    assert y.dtype == torch.long and 0 <= y.min() and y.max() <= 9


def test_ring_geometries():
    dcd, pac = synthetic.ring8("dcd"), synthetic.ring8("pacgan")
    assert np.allclose(np.linalg.norm(dcd.centres, axis=1), 2 / 1.414)
    assert np.allclose(np.linalg.norm(pac.centres, axis=1), 2.0)
    assert math.isclose(dcd.std, 0.02 / 1.414) and pac.std == 0.02
    grid = synthetic.grid25("pacgan")
    assert grid.centres.shape == (25, 2) and set(grid.centres[:, 0]) == {-4, -2, 0, 2, 4}


def test_mixture_batches_come_from_the_mixture(fetched, tiny_params):
    src = open_dataset(make_plan(tiny_params).datasets, "ring8", fetched / "ring8")
    x, k = src.batch(0, 4000, seed=0)
    centres = torch.as_tensor(src.mixture.centres, dtype=torch.float32)
    resid = x - centres[k]
    assert abs(resid.std().item() - src.mixture.std) < 0.1 * src.mixture.std
    assert torch.bincount(k, minlength=8).min() > 400


def test_affine_transform_places_rotated_digit_on_canvas():
    digit = torch.zeros(1, 1, 28, 28)
    digit[0, 0, 10:18, 13:15] = 1.0  # a vertical bar
    out = affine_transform(digit.repeat(64, 1, 1, 1), 40, 20, torch.Generator().manual_seed(0))
    assert out.shape == (64, 1, 40, 40)
    mass = out.sum(dim=(1, 2, 3))
    assert torch.allclose(mass, mass[0], rtol=0.15)  # rotation + shift preserve ink
    rows = (out[:, 0].sum(2) > 0).float().argmax(1)
    assert len(set(rows.tolist())) > 5  # random vertical placement
    assert out[:, :, :, -1].abs().sum() == 0  # offsets 0..11 keep the digit inside 40x40


def test_affine_source_heldout_is_fixed_and_train_batches_vary(fetched):
    params = {
        "profile": "t", "runtime": {"device": "cpu"}, "scoring": {},
        "datasets": {"mnist_subset": {"kind": "mnist_offline"},
                     "affine": {"kind": "affine_mnist", "base": "mnist_subset"}},
        "experiments": {"e": {"paper": "gan", "model": "gan", "dataset": "affine", "seeds": [0],
                              "train": {"steps": 1, "batch_size": 2}}},
    }
    plan = make_plan(params)
    assert plan.job("e.0").storage == "mnist_subset"
    a = open_dataset(plan.datasets, "affine", fetched / "mnist_subset")
    b = open_dataset(plan.datasets, "affine", fetched / "mnist_subset")
    assert a.spec.shape == (1, 40, 40)
    assert torch.equal(a.heldout()[0], b.heldout()[0])
    assert torch.equal(a.batch(3, 16, 0)[0], b.batch(3, 16, 0)[0])
    assert not torch.equal(a.batch(3, 16, 0)[0], a.batch(4, 16, 0)[0])
