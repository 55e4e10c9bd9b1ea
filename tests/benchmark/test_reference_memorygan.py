"""bench/reference/memorygan.py computes what pipeline/models/memorygan.py computes.

Tiny memories where every slot is read (top_k = memory_size), so that D(x) is not
clipped at eps in most steps and the adversarial gradients are exercised (with top_k 4
of 32 slots the incremental EM gives the fake slots a far larger histogram than the
freshly written real ones and D(x) sits at eps: only the MI term trains the nets).
The full MCGN cases drop the query layer's batch norm: fakes of an untrained G are
near-identical, some channels before the query layer then have the same LeakyReLU
sign pattern in every fake and the query batch norm cancels their BN-shift gradient
exactly; the rounding noise left there is amplified by Adam to lr-sized steps that
differ between fused and loop Adam (the -EM / -MCGN cases keep the batch norm).
``full-read-all`` is the smoke profile's read: a top-4 EM, D(x) over every slot (Eq. 2)."""

from __future__ import annotations

import pytest
from reference_support import affine, assert_reference_matches, images

TINY = {"d_channels": [4, 8], "g_channels": [8, 4], "pointwise": False, "key_dim": 6, "memory_size": 16,
        "top_k": 16, "prior_snapshot_every": 2}


def images_16():
    return images((1, 16, 16))


CASES = {
    "full": (affine, {**TINY, "query_batchnorm": False}, 8, 4),
    "-EM": (affine, {**TINY, "memory_update": "lifelong"}, 8, 4),
    "full-read-all": (affine, {**TINY, "query_batchnorm": False, "top_k": 4, "read": "all", "kappa": 5.0}, 8, 4),
    "-MCGN": (affine, {**TINY, "generator": "plain"}, 8, 4),
    "-Memory": (affine, {**TINY, "generator": "plain", "discriminator": "plain"}, 8, 4),
    "full-augment-decay-g-update-mse": (
        images_16, {**TINY, "query_batchnorm": False, "augment": True, "lr_decay_steps": 4, "update_in_g_step": True,
                    "mi_form": "mse", "em_iters": 2, "em_form": "code", "g_loss": "non_saturating",
                    "mi_weight": 0.1}, 8, 3),
    "-Memory-tanh-augment": (
        images_16, {**TINY, "generator": "plain", "discriminator": "plain", "output": "tanh", "augment": True,
                    "g_loss": "non_saturating", "lr_decay_steps": 5}, 8, 3),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_reference_matches_the_pipeline(case):
    make_data, overrides, batch, steps = CASES[case]
    assert_reference_matches("memorygan", make_data, overrides, batch, steps=steps)
