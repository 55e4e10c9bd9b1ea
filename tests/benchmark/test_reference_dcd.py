"""bench/reference/dcd.py computes what pipeline/models/dcd.py computes: the base phase
and, with ``start`` before ``base_steps``, the step into contrastive fine-tuning."""

from __future__ import annotations

import pytest
from reference_support import assert_reference_matches, images, ring

TOY = {"arch": "mlp", "z_dim": 2, "g_hidden": [16, 16], "d_hidden": [16, 16], "g_init_std": 0.0, "n_dis": 2,
       "g_batch_factor": 1, "base_loss": "wgan", "lr": 0.002, "base_steps": 4, "finetune_steps": 3,
       "adam_betas": [0.5, 0.9], "pixel_steps": 3, "latent_steps": 2, "pixel_step_size": 0.1,
       "latent_step_size": 0.1, "pixel_noise": 0.05, "latent_noise": 0.1}
FINETUNE = {**TOY, "base_steps": 2, "finetune_steps": 3, "finetune_lr": 0.002}


def images_16():
    return images((1, 16, 16))


CASES = {
    # (data, overrides, batch, steps, start)
    "mlp-wgan": (ring, {**TOY, "g_batch_factor": 2}, 8, 3, 0),
    "mlp-finetune-pixel": (ring, {**FINETUNE, "finetune_space": "pixel", "finetune_loss": "wgan_l2",
                                  "finetune_fresh_negatives": True}, 8, 5, 0),
    "mlp-finetune-latent": (ring, {**FINETUNE, "finetune_space": "latent", "finetune_loss": "hinge"}, 8, 5, 0),
    "mlp-finetune-latent-no-prior": (ring, {**FINETUNE, "finetune_space": "latent", "latent_prior": False,
                                            "finetune_loss": "wgan_l2", "finetune_fresh_negatives": True,
                                            "lr_decay": "none"}, 8, 4, 1),
    "dcgan-hinge": (images_16, {"arch": "dcgan", "z_dim": 8, "g_channels": 8, "d_channels": 4, "bottom_width": 4,
                                "n_dis": 2, "base_loss": "hinge", "base_steps": 4, "finetune_steps": 2}, 4, 3, 0),
    "dcgan-finetune-pixel": (images_16, {"arch": "dcgan", "z_dim": 8, "g_channels": 8, "d_channels": 4,
                                         "bottom_width": 4, "n_dis": 2, "base_loss": "hinge", "base_steps": 1,
                                         "finetune_steps": 2, "finetune_space": "pixel", "pixel_steps": 2,
                                         "pixel_step_size": 0.05, "pixel_grad_clip": 1.0}, 4, 3, 0),
    "dcgan-finetune-latent": (images_16, {"arch": "dcgan", "z_dim": 8, "g_channels": 8, "d_channels": 4,
                                          "bottom_width": 4, "n_dis": 2, "base_loss": "hinge", "base_steps": 1,
                                          "finetune_steps": 2, "finetune_space": "latent", "latent_steps": 2,
                                          "latent_step_size": 0.1, "latent_noise": 0.1}, 4, 3, 0),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_reference_matches_the_pipeline(case):
    make_data, overrides, batch, steps, start = CASES[case]
    assert_reference_matches("dcd", make_data, overrides, batch, steps=steps, start=start)
