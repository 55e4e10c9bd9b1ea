"""How a training step grows: time and memory against batch size, image size and
MemoryGAN's memory size N, and what that predicts for the paper profile on one GPU.

Every point trains a model on synthetic uint8 images of the right shape (a
step's cost does not depend on pixel values) in a fresh process: median step
time over three rounds of about ``seconds`` each, matmul/conv FLOPs per step
(``torch.utils.flop_counter``), and the process's peak resident memory above
its baseline after imports and data (weights, optimiser state, activations,
allocator slack). Each axis gets a least-squares line  step_ms = a + b x, with x the
batch size B, the pixel count s^2, or N.

Projection: every experiment of the paper profile is built at its published
settings on synthetic data of its dataset's shape; the mean FLOPs of a step
(for a grid: step 0 of up to ``GRID_PROBES`` evenly spaced configurations;
otherwise steps 0 and half-way, which covers a second phase such as DCD's
fine-tuning) times its steps and runs gives its training FLOPs. GPU time = FLOPs / a sustained rate,
which is an assumption (stated in the results; ``--gpu-tflops``) since no GPU
is here to measure. The peak memory of one paper-scale step on this CPU bounds
what its activations need on a GPU.
"""

from __future__ import annotations

import os
import resource
import statistics
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

GRID_PROBES = 4

# axis -> (model, hyperparameters, sample shape, images per minibatch, axis values)
AXES: dict[str, tuple[str, dict[str, Any], tuple[int, ...], int, list[int]]] = {
    "batch_size": ("gan", {}, (1, 28, 28), 0, [25, 50, 100, 200]),  # the paper's maxout GAN on MNIST
    "image_size": ("dcd", {"arch": "dcgan", "z_dim": 128, "g_channels": 128, "d_channels": 32, "bottom_width": 4,
                           "n_dis": 1}, (3, 0, 0), 32, [16, 32, 64]),
    "memory_size": ("memorygan", {"d_channels": [8, 16, 32], "g_channels": [32, 16, 8], "pointwise": False,
                                  "key_dim": 32, "top_k": 8, "lr": 0.001}, (1, 40, 40), 16, [256, 1024, 4096, 16384]),
}
FIT_VARIABLE = {"batch_size": "B", "image_size": "s^2", "memory_size": "N"}  # cost grows ~linearly in these
AXIS_NOTES = {
    "batch_size": "GAN (Goodfellow et al.) maxout D / 1200-unit G on 28x28 MNIST, the paper's nets",
    "image_size": "DCD's SN-DCGAN (G 128 maps, D 32 maps, 4x4 bottom), batch 32, RGB images of side s",
    "memory_size": "MemoryGAN (smoke nets, key dim 32, top-k 8 fixed) on 40x40 affine-MNIST-sized images, batch 16",
}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_source(shape: tuple[int, ...], n: int = 256, classes: int = 10):
    """A labelled in-memory source of random uint8 images (or float points for shape (2,))."""
    import torch

    from pipeline.data.sources import DataSpec, TensorSource

    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, *shape, generator=g) if len(shape) == 1 else (torch.rand(n, *shape, generator=g) * 255).to(
        torch.uint8)
    y = torch.randint(0, classes, (n,), generator=g)
    return TensorSource(DataSpec("synthetic", "synthetic", tuple(shape), classes, n), x, y, x[:64], y[:64])


def _build(model_name: str, overrides: Mapping[str, Any], data: Any):
    import torch

    from pipeline.hparams import build
    from pipeline.registry import hparams_class, model_class

    torch.manual_seed(0)
    return model_class(model_name)(build(hparams_class(model_name), dict(overrides), "bench"), data,
                                   torch.device("cpu"))


def measure_point(model_name: str, overrides: Mapping[str, Any], shape: tuple[int, ...], batch: int,
                  seconds: float = 1.0, threads: int = 0) -> dict[str, float]:
    """Step time, FLOPs and peak memory of one configuration (meant for a fresh process)."""
    import torch

    from pipeline.benchmark.training import flops_per_step

    torch.set_num_threads(threads or os.cpu_count() or 1)
    data = synthetic_source(shape, n=max(256, 2 * batch))
    baseline = _rss_mb()
    model = _build(model_name, overrides, data)
    per_call = batch * model.batches_per_step

    def step(s: int) -> None:
        model.train_step(*data.batch(s, per_call, 0), s)

    for s in range(3):
        step(s)
    start = time.perf_counter()
    step(3)
    n = int(max(3, min(100, seconds / max(time.perf_counter() - start, 1e-6))))
    rounds = []
    for r in range(3):
        start = time.perf_counter()
        for s in range(n):
            step(4 + r * n + s)
        rounds.append((time.perf_counter() - start) / n)
    flops = flops_per_step(step, [4 + 3 * n, 5 + 3 * n])
    return {"step_ms": statistics.median(rounds) * 1e3, "gflop_per_step": flops / 1e9,
            "peak_rss_mb": _rss_mb(), "above_baseline_mb": _rss_mb() - baseline}


def _fit(xs: list[float], ys: list[float]) -> dict[str, float]:
    slope, intercept = np.polyfit(np.asarray(xs, float), np.asarray(ys, float), 1)
    return {"intercept_ms": float(intercept), "slope_ms": float(slope)}


def measure_axes(seconds: float = 1.0) -> dict[str, Any]:
    """Every axis of :data:`AXES`, one fresh process per point."""
    from pipeline.benchmark.isolate import in_fresh_process

    out: dict[str, Any] = {}
    for axis, (model_name, overrides, shape, batch, values) in AXES.items():
        points = []
        for value in values:
            hp, sample_shape, b = dict(overrides), tuple(shape), batch
            if axis == "batch_size":
                b = value
            elif axis == "image_size":
                sample_shape = (shape[0], value, value)
            else:
                hp["memory_size"] = value
            points.append({"value": value, **in_fresh_process(measure_point, model_name, hp, sample_shape, b,
                                                              seconds)})
        square = FIT_VARIABLE[axis] == "s^2"
        xs = [p["value"] ** 2 if square else p["value"] for p in points]
        out[axis] = {"model": model_name, "note": AXIS_NOTES[axis], "points": points,
                     "fit": {"variable": FIT_VARIABLE[axis], **_fit(xs, [p["step_ms"] for p in points])}}
    return out


def _dataset_shape(cfg: Any) -> tuple[int, ...]:
    """Sample shape of a dataset at the paper profile's settings."""
    native = {"mnist": (1, 28, 28), "fashion_mnist": (1, 28, 28), "mnist_offline": (1, 28, 28),
              "sklearn_digits": (1, 8, 8), "cifar10": (3, 32, 32), "stl10": (3, 96, 96),
              "celeba": (3, 64, 64), "lsun_bedroom": (3, 64, 64)}
    o = cfg.options
    if cfg.kind in ("ring8", "grid25", "swissroll"):
        return (2,)
    if cfg.kind == "affine_mnist":
        return (1, o.get("canvas", 40), o.get("canvas", 40))
    c, h, w = native[cfg.kind]
    side = o.get("image_size") or o.get("pad_to") or h
    return (c, side, side) if side != h else (c, h, w)


def project_experiment(params: Mapping[str, Any], experiment: str) -> dict[str, Any]:
    """Training FLOPs of one paper-profile experiment and one step's peak memory here."""
    import torch

    from pipeline.benchmark.training import flops_per_step
    from pipeline.config import canonical_json, make_plan

    torch.set_num_threads(os.cpu_count() or 1)
    plan = make_plan(params)
    runs = [r for j in plan.jobs if j.experiment == experiment for r in j.runs]
    shape = _dataset_shape(plan.datasets[runs[0].dataset])
    data = synthetic_source(shape, n=max(2048, 2 * runs[0].train["batch_size"] * 5))  # >= 100 per class (EBGAN-LN)
    baseline = _rss_mb()
    if len(runs) == 1 or len({canonical_json(r.hparams) for r in runs}) == 1:
        probes = [(runs[0], 0), (runs[0], runs[0].train["steps"] // 2)]  # phases (e.g. DCD's fine-tuning)
    else:
        probes = [(runs[i * len(runs) // min(GRID_PROBES, len(runs))], 0) for i in range(min(GRID_PROBES, len(runs)))]
    per_step = []
    for run, step in probes:
        model = _build(run.model, run.hparams, data)
        per_call = run.train["batch_size"] * model.batches_per_step
        per_step.append(flops_per_step(lambda s, m=model, b=per_call: m.train_step(*data.batch(s, b, 0), s), [step]))
    mean_flops = float(np.mean(per_step))
    total = sum(mean_flops * r.train["steps"] for r in runs)
    return {"experiment": experiment, "paper": runs[0].paper, "model": runs[0].model, "dataset": runs[0].dataset,
            "shape": list(shape), "runs": len(runs), "steps_per_run": runs[0].train["steps"],
            "batch": runs[0].train["batch_size"], "gflop_per_step": mean_flops / 1e9, "total_pflop": total / 1e15,
            "probe_peak_rss_mb": _rss_mb(), "probe_above_baseline_mb": _rss_mb() - baseline}


def project_paper(paper_params: Path, gpu_tflops: list[float]) -> dict[str, Any]:
    """:func:`project_experiment` for every paper-profile experiment (a fresh process each)."""
    from pipeline.benchmark.isolate import in_fresh_process
    from pipeline.config import load_params

    params = load_params(paper_params)
    rows = []
    for name in params["experiments"]:
        start = time.perf_counter()
        rows.append({**in_fresh_process(project_experiment, params, name), "probe_s": time.perf_counter() - start})
        print(f"[bench]   {name}: {rows[-1]['gflop_per_step']:.3g} GFLOP/step, {rows[-1]['total_pflop']:.3g} PFLOP "
              f"({rows[-1]['probe_s']:.0f} s)", flush=True)
    total = sum(r["total_pflop"] for r in rows)
    return {"params": str(paper_params), "experiments": rows, "total_pflop": total,
            "gpu_hours": {str(t): total * 1e15 / (t * 1e12) / 3600 for t in gpu_tflops},
            "assumption": "sustained training throughput of one GPU, in TFLOP/s of matmul/conv work "
                          "(an assumption: no GPU was measured)"}
