"""bench/reference/gan.py computes what pipeline/models/gan.py computes."""

from __future__ import annotations

import pytest
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
