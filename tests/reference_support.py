"""Shared by the reference-parity tests: tiny data sources and the parity check.

The reference ports (bench/reference/) must compute what the pipeline's models
compute: from the same initial networks, RNG state and batches, a few training
steps of each end at the same parameters, buffers and memory (up to float
rounding; fused Adam is not bit-identical to the per-parameter loop). The
speed ratios in reports/bench.md then compare equal work.

One exception: a bias that feeds straight into a BatchNorm has a zero gradient
up to rounding, so Adam's normalised step on it is amplified rounding noise
that differs between any two implementations; no output depends on such a
bias in training mode. Those biases (and the running means that track them)
are left out of the comparison."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from bench.reference import load
from pipeline.data.sources import AffineSource, DataSource, DataSpec, MixtureSource, TensorSource
from pipeline.data.synthetic import Mixture
from pipeline.hparams import build
from pipeline.registry import hparams_class, model_class

RTOL, ATOL = 1e-4, 1e-5


def images(shape=(1, 28, 28), n=64, classes=10) -> TensorSource:
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(n, *shape, generator=g) * 255).to(torch.uint8)
    y = torch.randint(0, classes, (n,), generator=g)
    return TensorSource(DataSpec("toy", "toy", shape, classes, n), x, y, x[:16], y[:16])


def affine() -> AffineSource:
    return AffineSource(DataSpec("affine", "affine_mnist", (1, 40, 40), 10, 64), images(), 40, 20, 0)


def ring() -> MixtureSource:
    angles = np.arange(8) * 2 * np.pi / 8
    mix = Mixture(np.stack([np.cos(angles), np.sin(angles)], 1) * 2, 0.02)
    spec = DataSpec("ring", "ring8", (2,), 8, None, centres=tuple(map(tuple, mix.centres.tolist())), mode_std=0.02)
    x, y = mix.sample(16, np.random.default_rng(0))
    return MixtureSource(spec, mix, x, y)


def _state(net: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def bn_cancelled(net: nn.Module) -> set[str]:
    """State keys of biases followed directly by a BatchNorm, and of that BatchNorm's running mean."""
    keys = set()
    for prefix, module in net.named_modules():
        children = list(module.named_children()) if isinstance(module, nn.Sequential) else []
        for (name_a, a), (name_b, b) in zip(children, children[1:]):
            if (isinstance(a, (nn.Linear, nn.modules.conv._ConvNd)) and a.bias is not None
                    and isinstance(b, nn.modules.batchnorm._BatchNorm)):
                dot = f"{prefix}." if prefix else ""
                keys |= {f"{dot}{name_a}.bias", f"{dot}{name_b}.running_mean"}
    return keys


def assert_reference_matches(name: str, make_data: Callable[[], DataSource], overrides: Mapping[str, Any],
                             batch: int, steps: int = 3, start: int = 0,
                             tolerances: Mapping[str, tuple[float, float]] | None = None) -> None:
    """Train the pipeline model and its reference side by side for ``steps`` steps
    (numbered from ``start``); losses and final networks must agree, and must have moved.
    ``tolerances`` gives a network (by name) its own (rtol, atol) instead of (RTOL, ATOL)."""
    data = make_data()
    torch.manual_seed(0)
    model = model_class(name)(build(hparams_class(name), dict(overrides), "hp"), data, torch.device("cpu"))
    reference = load(name)(model)
    initial = {k: _state(model.nets[k]) for k in reference.nets()}
    per_call = batch * model.batches_per_step
    for step in range(start, start + steps):
        x, y = data.batch(step, per_call, 0)
        torch.manual_seed(100 + step)
        ours = model.train_step(x, y, step)
        torch.manual_seed(100 + step)
        theirs = reference.step(x.clone(), y.clone(), step)
        for key in set(ours) & set(theirs):
            assert theirs[key] == pytest.approx(float(ours[key]), rel=RTOL, abs=ATOL), key
    moved = 0.0
    for net_name, net in reference.nets().items():
        ours_state, theirs_state = _state(model.nets[net_name]), _state(net)
        assert ours_state.keys() == theirs_state.keys(), net_name
        skip = bn_cancelled(model.nets[net_name])
        rtol, atol = (tolerances or {}).get(net_name, (RTOL, ATOL))
        for key, value in ours_state.items():
            if key in skip:
                continue
            torch.testing.assert_close(theirs_state[key], value, rtol=rtol, atol=atol, msg=f"{net_name}.{key}")
        for key, param in model.nets[net_name].named_parameters():
            if key not in skip:
                moved = max(moved, (param.detach() - initial[net_name][key]).abs().max().item())
    assert moved > 10 * ATOL, "the pipeline's steps did not change any parameter: the comparison has no teeth"
