"""bench/reference/aan.py computes what pipeline/models/aan.py computes."""

from __future__ import annotations

from functools import partial

import pytest
import torch
from reference_support import assert_reference_matches, images

from bench.reference import load
from pipeline.hparams import build
from pipeline.registry import hparams_class, model_class

bars = partial(images, shape=(1, 8, 8))
MLP = {"arch": "mlp", "d_hidden": [16, 16], "g_hidden": [16], "c_hidden": [8], "visible": 6, "hidden": 5,
       "lr": 1e-3, "rbm_lr": 0.05}
# PCD's chains only matter when the RBM does not mix in one Gibbs step: larger weights than the default 0.01
PCD = {"rbm_learning": "pcd", "rbm_init_std": 0.5}
DCGAN = {**MLP, "arch": "dcgan", "d_channels": [4, 8]}

CASES = {
    "mlp-cd1": (bars, MLP, 8),
    "mlp-pcd-k3": (bars, {**MLP, **PCD, "cd_k": 3}, 8),
    "mlp-cd2-mean-saturating": (bars, {**MLP, "cd_k": 2, "g_input": "mean", "g_loss": "saturating"}, 8),
    "mlp-pcd-gaussian-nobn": (bars, {**MLP, **PCD, "visible_units": "gaussian",
                                     "batchnorm": False}, 8),
    "mlp-noise": (bars, {**MLP, "prior": "noise"}, 8),
    "dcgan-cd1": (bars, DCGAN, 8),
    "dcgan-pcd-k2": (bars, {**DCGAN, **PCD, "cd_k": 2}, 8),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_reference_matches_the_pipeline(case):
    make_data, overrides, batch = CASES[case]
    assert_reference_matches("aan", make_data, overrides, batch)


def test_reference_keeps_the_persistent_chains_of_the_pipeline():
    data = bars()
    torch.manual_seed(0)
    model = model_class("aan")(build(hparams_class("aan"), {**MLP, **PCD, "cd_k": 2}, "hp"),
                               data, torch.device("cpu"))
    reference = load("aan")(model)
    for step in range(3):
        x, y = data.batch(step, 8, 0)
        torch.manual_seed(100 + step)
        model.train_step(x, y, step)
        torch.manual_seed(100 + step)
        reference.step(x.clone(), y.clone(), step)
        torch.testing.assert_close(reference.chains, model.cd.chains, rtol=0, atol=0)
