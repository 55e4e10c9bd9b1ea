"""Learning curves: IS and FID of the generator, measured while it trains.

For a run with ``train.eval_every`` > 0 (image data scored with ``is``; see
:mod:`pipeline.config`), the trainer calls :meth:`Monitor.evaluate` at step 0,
every ``eval_every`` steps and at the last step. One evaluation:

1. draws ``train.eval_n`` samples of the model's main set ``G`` with
   ``model.generate`` from a CPU generator seeded afresh with
   run seed + :data:`EVAL_SEED_OFFSET`: the same latent draw at every step, and
   a stream of its own (never the training RNG);
2. scores them with the score stage's own code (:func:`pipeline.metrics.scoring.score_set`:
   the dataset's domain classifier or Inception network, FID against the cached
   real statistics of refs/<dataset>/), so there is one implementation of IS and FID.

IS splits keep the protocol's samples per split (:meth:`ScoringSettings.is_splits_for`),
as the score and reference stages do: equal split sizes put the curve on the final
score's scale and the real data's. FID of a few
hundred samples is biased upwards against the final score's; the curve shows
the trend.

The *floor step* is the first evaluated step whose IS reaches the quality floor,
``scoring.quality_floor`` (per dataset: :meth:`ScoringSettings.floor_for`) x the real
held-out IS of refs/<dataset>/reference.json.

Isolation: an evaluation restores the global RNG states (Python, numpy, torch,
CUDA) and every module's train / eval flag afterwards, and ``generate`` runs G
in eval mode, so BatchNorm statistics stay untouched: training numbers are
bit-identical with and without the monitor. The trainer excludes the
monitor's time from the run's wall time and images/s and records it apart.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pipeline import runtime
from pipeline.config import Job, Plan, Run
from pipeline.metrics import scoring
from pipeline.metrics.reference import to_uint8
from pipeline.metrics.score import load_reference, real_context
from pipeline.metrics.settings import load_settings

EVAL_SEED_OFFSET = 15_485_863  # monitor's latent draw = run seed + offset (sampling uses 7_919)
CURVE_METRICS = ("is", "fid")
MAIN_SET = "G"


@dataclass
class CurveReference:
    """The real-data side of a learning curve, loaded once per job."""

    ctx: scoring.RealContext
    real_is: float | None
    floor_fraction: float

    @property
    def floor_is(self) -> float | None:
        """IS a run must reach to count as learned (None without a real IS)."""
        return None if self.real_is is None else self.floor_fraction * self.real_is


def load_curve_reference(plan: Plan, job: Job, data_dir: Path, ref_dir: Path) -> CurveReference:
    """refs/<dataset>/ checked against params.yaml's scoring settings, as the score stage
    checks it; its extractor and cached real statistics."""
    settings = load_settings(plan.params.get("scoring"))
    ref = load_reference(Path(ref_dir), job.dataset, settings)
    ctx = real_context(plan, job, CURVE_METRICS, Path(data_dir), Path(ref_dir), ref, settings)
    return CurveReference(ctx, (ref.get("real") or {}).get("is"), settings.floor_for(job.dataset))


@contextlib.contextmanager
def isolated(nets: nn.Module) -> Iterator[None]:
    """Restore the global RNG states and every module's training flag on exit."""
    rng = runtime.rng_state()
    modes = [(m, m.training) for m in nets.modules()]
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training
        runtime.set_rng_state(rng)


def _sync(device: Any) -> None:
    if device is not None and torch.device(device).type == "cuda":
        torch.cuda.synchronize()


class Monitor:
    """Evaluates one run's generator on a fixed latent draw (see the module docstring)."""

    def __init__(self, reference: CurveReference, run: Run):
        settings = reference.ctx.settings
        self.every = int(run.train["eval_every"])
        self.n = int(run.train["eval_n"])
        self.seed = run.seed + EVAL_SEED_OFFSET
        self.splits = settings.is_splits_for(self.n)
        self.ctx = reference.ctx
        self.reference = reference

    def due(self, step: int, steps: int) -> bool:
        """Evaluate at step 0, every ``eval_every`` steps and at the last step."""
        return step % self.every == 0 or step == steps

    def evaluate(self, model: Any) -> dict[str, float | None]:
        """``{"is", "fid"}`` of ``eval_n`` samples of ``model``'s set G (None when the samples
        are not finite or the model has no set G); ``eval_s`` the seconds it took."""
        _sync(self.ctx.device)
        start = time.perf_counter()
        values: dict[str, float | None] = dict.fromkeys(CURVE_METRICS)
        with isolated(model.nets):
            images = model.generate(self.n, torch.Generator().manual_seed(self.seed)).get(MAIN_SET)
            if images is not None and bool(torch.isfinite(images).all()):
                samples = to_uint8(images.detach().float().cpu()).numpy()
                scores = scoring.score_set(samples, CURVE_METRICS, self.ctx)
                values = {k: scoring.json_safe(scores[k]) for k in CURVE_METRICS}
        _sync(self.ctx.device)
        return {**values, "eval_s": time.perf_counter() - start}

    def summary(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """train.json's record of the curve: schedule, cost, floor and when it was reached."""
        floor = self.reference.floor_is
        hit = first_reached(rows, floor) if floor is not None else None
        eval_s = sum(r["eval_s"] for r in rows)
        return {
            "eval_every": self.every,
            "eval_n": self.n,
            "is_splits": self.splits,
            "evaluations": len(rows),
            "eval_s": round(eval_s, 3),
            "eval_s_mean": round(eval_s / len(rows), 4) if rows else None,
            "real_is": self.reference.real_is,
            "floor_fraction": self.reference.floor_fraction,
            "floor_is": floor,
            "floor_step": hit["step"] if hit else None,
            "floor_wall_s": hit["wall_s"] if hit else None,
        }


def first_reached(
    rows: Sequence[Mapping[str, Any]], threshold: float, key: str = "is"
) -> Mapping[str, Any] | None:
    """The first row (in step order) whose ``key`` is at least ``threshold``, else None."""
    for row in sorted(rows, key=lambda r: r["step"]):
        value = row.get(key)
        if value is not None and value >= threshold:
            return row
    return None
