"""Post-training measurements of MemoryGAN: the Fig. 1 latent grid, slot-prior
perplexity and the in-process training-time overhead over a DCGAN (Sec. 4.5)."""

from __future__ import annotations

import copy
import statistics
import time
from typing import TYPE_CHECKING

import numpy as np
import torch

from pipeline.data.sources import DataSource

if TYPE_CHECKING:
    from pipeline.models.base import Model


def interpolation_codes(z_dim: int, grid: int, generator: torch.Generator) -> torch.Tensor:
    """App. B.2: four random codes z1..z4 ~ U(-1, 1)^z_dim at the corners of a
    ``grid`` x ``grid`` square, bilinearly interpolated; rows go z1 -> z3, columns
    z1 -> z2. Returns (grid * grid, z_dim), row-major."""
    z1, z2, z3, z4 = torch.rand(4, z_dim, generator=generator) * 2 - 1
    t = torch.linspace(0, 1, grid)
    a, b = t[:, None, None], t[None, :, None]  # a: row weight, b: column weight
    codes = (1 - a) * (1 - b) * z1 + (1 - a) * b * z2 + a * (1 - b) * z3 + a * b * z4
    return codes.reshape(grid * grid, z_dim)


def perplexity(weights: torch.Tensor) -> float:
    """exp of the entropy of the normalised non-negative ``weights`` (effective number of slots)."""
    p = weights.double().clamp_min(0)
    p = p[p > 0] / p.sum()
    return float(torch.exp(-(p * p.log()).sum()))


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """Images in [0, 1] -> uint8 in [0, 255] (as samples.npz stores them)."""
    return images.clamp(0, 1).mul(255).round().to(torch.uint8).numpy()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def overhead_ratio(
    model: Model, baseline: Model, data: DataSource, batch_size: int, steps: int
) -> dict[str, float]:
    """Median time of one training step of a copy of ``model`` over that of ``baseline``
    (its -Memory DCGAN) on the same batches, alternating which goes first; one warm-up
    step each is not counted. The paper's per-epoch ratio (135 s / 124 s on CIFAR-10)
    is the same ratio when both train on the same number of batches. Neither the
    trained model nor the global RNG streams are changed. Names start with ``time_``: the
    aggregate stage files them with the machine-dependent timings."""
    timed = {"model": copy.deepcopy(model), "baseline": baseline}
    times: dict[str, list[float]] = {"model": [], "baseline": []}
    devices = [model.device] if model.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        for i in range(steps + 1):
            x, y = data.batch(i, batch_size, 0)
            order = ("model", "baseline") if i % 2 == 0 else ("baseline", "model")
            for name in order:
                _sync(model.device)
                t0 = time.perf_counter()
                timed[name].train_step(x, y, i)
                _sync(model.device)
                if i:
                    times[name].append(time.perf_counter() - t0)
    t_model, t_base = statistics.median(times["model"]), statistics.median(times["baseline"])
    return {
        "time_overhead_ratio": t_model / t_base,
        "time_step_s": t_model,
        "time_step_s_dcgan": t_base,
    }
