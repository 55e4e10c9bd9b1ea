"""MemoryGAN's reference parity: the memory's discrete decisions, checked apart from its floats.

The pipeline and its reference port (bench/reference/memorygan.py) train the same
networks and agree on floats up to rounding, and rounding differs between CPUs
(AVX2 or AVX-512 kernels, fused or loop Adam). The memory (pipeline/nets/memory.py,
shared by both) turns floats into discrete decisions: each query's nearest slot
(update or replace), the top-k slots an update or a read uses, the nearest
same-label slot of the -EM rule, the MCGN's slot draws. A decision taken at a
near-tie may go the other way on another CPU, and the memories then differ by
whole slots: a tolerance cannot absorb that. So the parity test checks

- that every decision is the same in both implementations, exactly;
- that every top-k decision is far from a tie: the score gap between the last slot
  chosen and the first left out is at least :data:`TIE_MARGIN` (a log-probability),
  far above the two implementations' differences (``kappa`` x the queries'
  differences, about 1e-5 here), so the fixture decides the same way on any CPU.
  Exact ties (unwritten slots score exactly alike in both implementations) are
  broken by the same code on the same numbers and count as decided. A slot draw
  compares uniform variates with cumulative histogram weights that are not exposed;
  it is compared exactly, with no margin;

and compares the floats the memory is built from (its queries) and its keys and
histogram with :data:`MEMORY_TOL`: queries are a 6-dimensional output normalised
to unit length, which magnifies the networks' rounding differences (weights agree
to ~1e-7, queries to ~1e-5 after four steps).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from pipeline.nets.memory import NEG, Memory

TIE_MARGIN = 5e-4
MEMORY_TOL = (1e-3, 1e-4)  # (rtol, atol) of the queries, keys and histogram


@dataclass(frozen=True)
class Decision:
    """One discrete decision of one memory call: the slots chosen per query and how far
    the choice was from a tie (``inf``: nothing to choose, or not measurable)."""

    kind: str
    chosen: tuple[tuple[int, ...], ...]
    margin: float


@dataclass
class MemoryLog:
    """Everything one Memory instance decided, and the queries of its updates."""

    decisions: list[Decision] = field(default_factory=list)
    queries: list[torch.Tensor] = field(default_factory=list)


def top_k_decision(kind: str, scores: torch.Tensor, k: int) -> Decision:
    """The slot sets ``scores.topk(k)`` picks per row (order ignored: it only changes the
    order of a sum) and the smallest non-zero gap at the choice boundary."""
    chosen = tuple(tuple(sorted(row)) for row in scores.topk(k, dim=1).indices.tolist())
    if k >= scores.shape[1]:
        return Decision(kind, chosen, math.inf)
    ranked = scores.sort(dim=1, descending=True).values
    gaps = ranked[:, k - 1] - ranked[:, k]
    gaps = gaps[gaps > 0]
    return Decision(kind, chosen, gaps.min().item() if len(gaps) else math.inf)


def record_memory(monkeypatch) -> dict[int, MemoryLog]:
    """Record the decisions of every Memory instance (keyed by ``id``, in order of first
    use) during the test; the memory itself runs unchanged."""
    logs: dict[int, MemoryLog] = {}
    update, posterior_topk, sample = Memory.update, Memory.posterior_topk, Memory.sample

    def log_of(memory: Memory) -> MemoryLog:
        return logs.setdefault(id(memory), MemoryLog())

    def recorded_update(self: Memory, q: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        log = log_of(self)
        with torch.no_grad():
            scores = self.log_joint(q.detach())
            same_label = scores.masked_fill(self.values[None, :] != y.to(q.dtype)[:, None], NEG)
        log.queries.append(q.detach().clone())
        log.decisions.append(top_k_decision("nearest slot", scores, self.correct_in_top))
        log.decisions.append(top_k_decision("same-label top-k", same_label, self.top_k))
        if self.rule == "lifelong":
            log.decisions.append(top_k_decision("nearest same-label slot", same_label, 1))
        return update(self, q, y)

    def recorded_posterior_topk(self: Memory, q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            log_of(self).decisions.append(top_k_decision("read top-k", self.log_joint(q), self.top_k))
        return posterior_topk(self, q)

    def recorded_sample(self: Memory, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        slots = sample(self, n, generator)
        log_of(self).decisions.append(Decision("slot draw", (tuple(slots.tolist()),), math.inf))
        return slots

    monkeypatch.setattr(Memory, "update", recorded_update)
    monkeypatch.setattr(Memory, "posterior_topk", recorded_posterior_topk)
    monkeypatch.setattr(Memory, "sample", recorded_sample)
    return logs


def _pair(logs: dict[int, MemoryLog]) -> Sequence[MemoryLog]:
    """(pipeline, reference): the pipeline's memory is used first in every step."""
    assert len(logs) in (0, 2), f"expected the pipeline's and the reference's memory, got {len(logs)}"
    return list(logs.values())


def assert_same_decisions(logs: dict[int, MemoryLog]) -> None:
    """Both memories took the same decisions, each at least TIE_MARGIN from a tie."""
    if not logs:
        return
    ours, theirs = _pair(logs)
    for i, (a, b) in enumerate(zip(ours.decisions, theirs.decisions)):
        assert (a.kind, a.chosen) == (b.kind, b.chosen), (
            f"memory decision {i} differs: pipeline {a.kind} {a.chosen}, reference {b.kind} {b.chosen} "
            f"(margin {a.margin:.2e}); every float comparison after it is moot")
    assert len(ours.decisions) == len(theirs.decisions), "the two memories were called a different number of times"
    near = [(i, d) for i, d in enumerate(ours.decisions) if d.margin < TIE_MARGIN]
    assert not near, (
        "memory decisions at a near-tie (may go the other way on another CPU; choose a fixture "
        f"far from ties, gap >= {TIE_MARGIN}): "
        + ", ".join(f"#{i} {d.kind} gap {d.margin:.2e}" for i, d in near))


def assert_same_queries(logs: dict[int, MemoryLog]) -> None:
    """The queries written into both memories agree within MEMORY_TOL."""
    if not logs:
        return
    ours, theirs = _pair(logs)
    rtol, atol = MEMORY_TOL
    for i, (a, b) in enumerate(zip(ours.queries, theirs.queries)):
        torch.testing.assert_close(b, a, rtol=rtol, atol=atol, msg=f"queries of memory update {i}")
