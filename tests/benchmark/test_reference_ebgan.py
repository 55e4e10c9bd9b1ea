"""bench/reference/ebgan.py computes what pipeline/models/ebgan.py computes."""

from __future__ import annotations

import pytest
from reference_support import assert_reference_matches, images, ring

SMALL = {"z_dim": 8, "g_layers": 3, "g_size": 16, "d_layers": 3, "d_size": 8}
CASES = {
    "fc-pt-dropout": (lambda: images((1, 32, 32)), {**SMALL, "pt_weight": 0.1, "d_dropout": True}, 8),
    "fc-mse-uniform": (lambda: images((1, 32, 32)), {**SMALL, "energy": "mse", "z_dist": "uniform", "margin": 1.0}, 8),
    "fc-2d-no-bn": (ring, {**SMALL, "z_dim": 2, "batchnorm": False, "margin": 1.0, "g_init_std": 0.1,
                           "d_init_std": 0.1}, 16),
    "conv64": (lambda: images((1, 16, 16), n=32), {"arch": "conv64", "z_dim": 8, "g_widths": [16, 8],
                                                  "enc_widths": [4, 8], "dec_widths": [4], "pt_weight": 0.1}, 4),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_reference_matches_the_pipeline(case):
    make_data, overrides, batch = CASES[case]
    assert_reference_matches("ebgan", make_data, overrides, batch)
