"""Training speed per (model, dataset) of a profile: the pipeline's path vs the plain reference.

For each case the first experiment of that (model, dataset) in params.yaml is
built exactly as the trainer builds it (same hyperparameters, seed, data
source). The reference port (bench/reference/<model>.py) starts from a copy of
the same freshly initialised networks. Both then train in alternating rounds
(ours, reference, ours, ...) over the same step indices, spread evenly over the
run's schedule so that phase changes (DCD's fine-tuning, EBGAN-LN's G budget)
weigh as in a real run:

- images/s = (steps x images per step) / wall time of a round; the speed-up is
  the median over rounds of ours / reference in adjacent rounds;
- phases: ours' exclusive time per :mod:`pipeline.profiling` phase (``data`` is
  the batch draw, ``other`` what no phase covers: schedules, loss bookkeeping);
- achieved GFLOP/s = matmul/conv FLOPs per step (``torch.utils.flop_counter``'s formulas,
  forward and backward; elementwise work is not counted) / ours' time per step;
- peak resident memory: the process's high-water mark after ours' first round
  (before the reference trained), and the baseline after imports and data.

Every case runs in its own process (:func:`measure_case` is the ``--case``
entry point of the bench command), so memory high-water marks do not mix.
"""

from __future__ import annotations

import importlib
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from pipeline import hparams as hparams_lib
from pipeline import runtime
from pipeline.config import Plan, Run
from pipeline.data.fetch import fetch
from pipeline.data.loader import open_dataset
from pipeline.data.sources import DataSource
from pipeline.errors import ConfigError
from pipeline.profiling import PHASES, phase, recording
from pipeline.registry import hparams_class, model_class

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Case:
    experiment: str
    model: str
    variant: str
    dataset: str

    @property
    def name(self) -> str:
        return f"{self.model}/{self.dataset}"


def cases(plan: Plan) -> list[Case]:
    """The first experiment of every (model, dataset) pair, in params.yaml order."""
    seen: dict[tuple[str, str], Case] = {}
    for job in plan.jobs:
        key = (job.model, job.dataset)
        if key not in seen:
            seen[key] = Case(job.experiment, job.model, job.runs[0].variant, job.dataset)
    return list(seen.values())


def first_run(plan: Plan, experiment: str) -> Run:
    for job in plan.jobs:
        if job.experiment == experiment:
            return job.runs[0]
    raise ConfigError(f"experiment {experiment!r} is not in the params file; known: "
                      f"{', '.join(sorted({j.experiment for j in plan.jobs}))}")


def open_data(plan: Plan, dataset: str, data_root: Path) -> DataSource:
    """The dataset from ``data_root/<storage>`` when fetched there, else fetched into a temporary folder."""
    storage = plan.datasets[dataset].storage
    folder = Path(data_root) / storage
    if not (folder / "manifest.json").is_file():
        folder = Path(tempfile.mkdtemp(prefix="bench-data-")) / storage
        fetch(plan.datasets[storage], folder)
    return open_dataset(plan.datasets, dataset, folder)


def load_bench_module(name: str) -> Any:
    """A module of bench/ (e.g. ``bench.public_gan``), loaded from the repository checkout."""
    if not (REPO_ROOT / "bench" / "reference").is_dir():
        raise ConfigError(f"bench/ is not next to the pipeline package ({REPO_ROOT}); "
                          "run the benchmark from a clone of the repository")
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    return importlib.import_module(name)


def load_reference(model_name: str) -> type:
    """The reference class of bench/reference/<model>.py (loaded from the repository checkout)."""
    return load_bench_module("bench.reference").load(model_name)


def spread(total: int, n: int) -> list[int]:
    """``n`` step indices evenly spread over ``range(total)``."""
    n = max(1, min(n, total))
    return [i * total // n for i in range(n)]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


class TrainerLoop:
    """The trainer's inner loop: draw batch ``step``, ``train_step``, accumulate the logged tensors."""

    def __init__(self, model: Any, data: DataSource, per_call: int, seed: int):
        self.model, self.data, self.per_call, self.seed = model, data, per_call, seed
        self.sums: dict[str, torch.Tensor] = {}

    def __call__(self, step: int) -> None:
        with phase("data"):
            x, y = self.data.batch(step, self.per_call, self.seed)
        for k, v in self.model.train_step(x, y, step).items():
            self.sums[k] = self.sums[k] + v if k in self.sums else v.clone()


class _Theirs:
    """The reference's loop: next DataLoader batch, ``step`` (losses to floats)."""

    def __init__(self, reference: Any, batches: Any):
        self.reference, self.batches = reference, batches

    def __call__(self, step: int) -> None:
        x, y = next(self.batches)
        self.reference.step(x, y, step)


def _timed(fn: Any, steps: list[int], device: torch.device) -> float:
    _sync(device)
    start = time.perf_counter()
    for s in steps:
        fn(s)
    _sync(device)
    return time.perf_counter() - start


class _FlopCount(TorchDispatchMode):
    """Matmul / conv FLOPs of the aten ops run inside (forward and backward), with the formulas of
    ``torch.utils.flop_counter``. Unlike its FlopCounterMode it installs no module hooks, which
    break ``autograd.grad`` calls inside the counted code (DCD's latent Langevin)."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            self.total += formula(*args, **kwargs, out_val=out)
        return out


def flops_per_step(fn: Any, steps: list[int]) -> float:
    with _FlopCount() as counter:
        for s in steps:
            fn(s)
    return counter.total / len(steps)


def _open_run(plan: Plan, experiment: str, data_root: Path) -> tuple[Run, torch.device, DataSource]:
    run = first_run(plan, experiment)
    device = runtime.configure(plan.params["runtime"])
    return run, device, open_data(plan, run.dataset, data_root).to(device)


def build_model(run: Run, data: DataSource, device: torch.device) -> Any:
    """The run's model exactly as the trainer builds it (hyperparameters, seed)."""
    hp = hparams_lib.build(hparams_class(run.model), run.hparams, f"experiments.{run.experiment}.hparams")
    runtime.seed_everything(run.seed)
    return model_class(run.model)(hp, data, device)


def measure_case(plan: Plan, experiment: str, data_root: Path, round_seconds: float = 1.5, rounds: int = 3,
                 warmup: int = 3) -> dict[str, Any]:
    """Measure one experiment's first run (see the module docstring)."""
    run, device, data = _open_run(plan, experiment, data_root)
    baseline_mb = _rss_mb()
    model = build_model(run, data, device)
    reference = load_reference(run.model)(model)
    from bench.reference.common import batches

    per_call = run.train["batch_size"] * model.batches_per_step
    total = run.train["steps"]
    ours = TrainerLoop(model, data, per_call, run.seed)
    theirs = _Theirs(reference, batches(data, per_call, run.seed))

    probe = spread(total, warmup)
    _timed(ours, probe, device)
    per_step = max(_timed(ours, probe, device) / len(probe), 1e-6)
    steps = spread(total, max(5, min(200, int(round_seconds / per_step))))

    ours_s, theirs_s, phases = [], [], dict.fromkeys(PHASES, 0.0)
    peak_mb = 0.0
    for r in range(rounds):
        with recording(device) as rec:
            ours_s.append(_timed(ours, steps, device))
        for name, seconds in rec.totals.items():
            phases[name] = phases.get(name, 0.0) + seconds
        if r == 0:
            peak_mb = _rss_mb()  # before the reference trained
            _timed(theirs, probe, device)  # its warm-up
        theirs_s.append(_timed(theirs, steps, device))
    flops = flops_per_step(ours, steps[: max(1, min(len(steps), 10))])

    images = len(steps) * per_call
    ours_rate = [images / t for t in ours_s]
    theirs_rate = [images / t for t in theirs_s]
    ours_total = sum(ours_s)
    split = {k: v / ours_total for k, v in phases.items()}
    split["other"] = max(0.0, 1.0 - sum(split.values()))
    step_s = statistics.median(ours_s) / len(steps)
    return {
        "experiment": experiment,
        "model": run.model,
        "variant": run.variant,
        "dataset": run.dataset,
        "device": device.type,
        "threads": torch.get_num_threads(),
        "images_per_step": per_call,
        "steps_timed": len(steps),
        "rounds": rounds,
        "ours_images_per_s": statistics.median(ours_rate),
        "reference_images_per_s": statistics.median(theirs_rate),
        "speedup": statistics.median(o / t for o, t in zip(ours_rate, theirs_rate)),
        "ours_step_ms": step_s * 1e3,
        "phase_fraction": split,
        "gflop_per_step": flops / 1e9,
        "gflops": flops / step_s / 1e9,
        "peak_rss_mb": peak_mb,
        "baseline_rss_mb": baseline_mb,
    }


def measure_compile(plan: Plan, experiment: str, data_root: Path, steps: int = 100) -> dict[str, Any]:
    """``runtime.compile``'s effect on one experiment's training step: eager vs
    ``torch.compile``d networks, and the one-off compilation time."""
    run, device, data = _open_run(plan, experiment, data_root)
    model = build_model(run, data, device)
    ours = TrainerLoop(model, data, run.train["batch_size"] * model.batches_per_step, run.seed)
    schedule = spread(run.train["steps"], steps)
    _timed(ours, schedule[:3], device)
    eager = _timed(ours, schedule, device) / len(schedule)
    runtime.accelerate(model.nets, device, {"compile": True})
    compile_s = _timed(ours, schedule[:3], device)
    compiled = _timed(ours, schedule, device) / len(schedule)
    return {"experiment": experiment, "eager_step_ms": eager * 1e3, "compiled_step_ms": compiled * 1e3,
            "speedup": eager / compiled, "compile_and_first_steps_s": compile_s}
