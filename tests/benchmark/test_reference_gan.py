"""bench/reference/gan.py computes what pipeline/models/gan.py computes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from reference_support import assert_reference_matches, images, ring

CASES = {
    "maxout-sgd": (images, {"g_hidden": [32, 32], "d_hidden": [16, 16], "d_pieces": 3}, 8),
    "2d-adam-k2": (ring, {"arch": "mlp2d", "z_dim": 2, "z_dist": "normal", "g_hidden": [16], "d_hidden": [16],
                          "optimizer": "adam", "lr": 1e-3, "k_steps": 2}, 8),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_reference_matches_the_pipeline(case):
    make_data, overrides, batch = CASES[case]
    assert_reference_matches("gan", make_data, overrides, batch)


def test_reference_dataset_yields_the_pipeline_images():
    """The reference's PIL + ToTensor path gives the same tensors as the pipeline's in-memory data."""
    from bench.reference.common import image_dataset

    for data in (images(), images((3, 16, 16))):
        x, y = data.train_arrays()
        dataset = image_dataset(data, seed=0)
        for i in (0, 5, len(dataset) - 1):
            item, label = dataset[i]
            assert torch.equal(item, x[i]) and label == int(y[i])


def test_reference_toy_generator_draws_the_mixture():
    from bench.reference.common import mixture_batches

    data = ring()
    points = next(mixture_batches(data.mixture.centres, data.mixture.std, 4000, seed=0))
    nearest = np.linalg.norm(points[:, None] - data.mixture.centres[None], axis=2)
    assert nearest.min(1).max() < 6 * data.mixture.std
    assert np.bincount(nearest.argmin(1), minlength=8).min() > 400
