"""bench/reference/ebgan_ssl.py computes what pipeline/models/ebgan_ssl.py computes.

The energy is scaled down (``recon_weight: 1e-4``) and every case runs 3 steps.
The reason is the bottom-layer-cost ladder: at its standard combinator initialisation
(mu = v = 0) the decoder above level 0 outputs constants, so its exact gradient is 0.
It also feeds levels below through ``normalise`` of near-constant columns, which
multiplies rounding by 1 / sqrt(1e-6). In float32 those parameters get gradients of
pure rounding noise (~1e-7 at the paper's energy scale, above Adam's eps 1e-8), and
Adam turns that noise into lr-sized steps. Any change at rounding level, such as
fused vs loop Adam (~1e-10 after one step), then moves the trajectory chaotically
(1e-3 in ``combinators.1.a`` after 2 steps, in ``V`` and ``W`` after 4). With the
energy 1e-4 times smaller the noise sits below Adam's eps and 3 steps stay within
tolerance; the encoder and the lowest combinator, which have real gradients, still
take full Adam steps. Each window of 3 steps (``start``) contains the transition it
tests. With the reference's Adam swapped for the fused one, the two paths are
bit-identical over 10 steps at the paper's energy scale."""

from __future__ import annotations

from functools import partial

import pytest
from reference_support import assert_reference_matches, images

digits = partial(images, shape=(1, 8, 8), n=64, classes=10)
LN = {"adversarial": False, "n_labels": 10, "hidden": [16, 12], "labelled_batch": 6, "lr": 1e-3,
      "recon_weight": 1e-4, "lr_decay_start": 100, "lr_decay_end": 200}
# energies of this scale are ~2e-3: a margin of 2e-3 leaves the hinge active on part of the fakes
EBGAN_LN = {**LN, "adversarial": True, "g_layers": 2, "g_size": 16, "z_dim": 4, "lr_g": 1e-3, "margin": 2e-3,
            "margin_decay_steps": 10, "g_steps": 10}

# name: (data, hparams, batch, start)
CASES = {
    "ln": (digits, LN, 8, 0),
    # steps 6, 7, 8: lr factor 1, 1/2, 0
    "ln-lr-decay": (digits, {**LN, "lr_decay_start": 6, "lr_decay_end": 8}, 8, 6),
    "ebgan_ln": (digits, EBGAN_LN, 8, 0),
    # steps 1, 2, 3: G trains at step 1 (margin m/2), then D alone
    "ebgan_ln-g-steps": (digits, {**EBGAN_LN, "g_steps": 2, "margin_decay_steps": 2}, 8, 1),
    # steps 1, 2, 3: the margin is 0 (hinge off) while G still trains at steps 1 and 2, then D alone
    "ebgan_ln-margin-zero": (digits, {**EBGAN_LN, "g_steps": 3, "margin_decay_steps": 1}, 8, 1),
    # steps 6, 7, 8: lr factors 1, 1/2, 0 for D and G; G trains at steps 6 and 7, not 8
    "ebgan_ln-lr-decay": (digits, {**EBGAN_LN, "g_steps": 8, "lr_decay_start": 6, "lr_decay_end": 8}, 8, 6),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_reference_matches_the_pipeline(case):
    make_data, overrides, batch, start = CASES[case]
    assert_reference_matches("ebgan_ssl", make_data, overrides, batch, steps=3, start=start)
