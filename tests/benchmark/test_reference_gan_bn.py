"""bench/reference/gan_bn.py computes what pipeline/models/gan_bn.py computes."""

from __future__ import annotations

import pytest
from reference_support import assert_reference_matches, images, ring

SMALL = {"z_dim": 8, "g_layers": 3, "g_size": 16, "d_layers": 3, "d_size": 8}
CASES = {
    "fc-sgd-dropout": (lambda: images((1, 32, 32)), {**SMALL, "d_dropout": True, "lr": 0.01}, 8),
    "fc-adam-sgd": (lambda: images((1, 32, 32)), {**SMALL, "optimizer_d": "adam", "optimizer_g": "sgd",
                                                 "sgd_momentum": 0.5, "lr": 0.001}, 8),
    "fc-2d-saturating": (ring, {**SMALL, "z_dim": 2, "optimizer_d": "adam", "optimizer_g": "adam",
                                "g_loss": "saturating", "lr": 0.001}, 8),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_reference_matches_the_pipeline(case):
    make_data, overrides, batch = CASES[case]
    assert_reference_matches("gan_bn", make_data, overrides, batch)
