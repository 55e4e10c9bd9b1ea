"""Where a training step spends its wall time: named phases, measured only when asked.

Models mark the parts of ``train_step`` with ``with phase("d_step"): ...`` (also
``g_step``, ``memory``, ``rbm``, ``langevin``); the benchmark
(``python -m pipeline bench``) turns recording on with :func:`recording` and
reads each phase's *exclusive* time: a phase's own duration minus that of the
phases nested in it, so the parts add up to the measured total. With no
recorder active (every pipeline run), :func:`phase` costs one global lookup.

On CUDA the recorder synchronises the device at every phase boundary, so the
split is honest there too, at the price of the asynchronous overlap a normal
run has.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch

PHASES = ("data", "d_step", "g_step", "memory", "rbm", "langevin")


class PhaseRecorder:
    """Accumulates exclusive wall time per phase name."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter, sync: Callable[[], None] | None = None):
        self.clock = clock
        self.sync = sync or (lambda: None)
        self.totals: dict[str, float] = defaultdict(float)
        self._stack: list[list[float]] = []  # [start, time spent in nested phases]

    def enter(self) -> None:
        self.sync()
        self._stack.append([self.clock(), 0.0])

    def leave(self, name: str) -> None:
        self.sync()
        start, nested = self._stack.pop()
        elapsed = self.clock() - start
        self.totals[name] += elapsed - nested
        if self._stack:
            self._stack[-1][1] += elapsed


_active: PhaseRecorder | None = None


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Attribute the enclosed work to ``name`` when a recorder is active."""
    recorder = _active
    if recorder is None:
        yield
        return
    recorder.enter()
    try:
        yield
    finally:
        recorder.leave(name)


@contextmanager
def recording(device: torch.device | None = None,
              clock: Callable[[], float] = time.perf_counter) -> Iterator[PhaseRecorder]:
    """Record phases inside the block; yields the recorder holding the totals."""
    global _active
    sync = torch.cuda.synchronize if device is not None and device.type == "cuda" else None
    previous, _active = _active, PhaseRecorder(clock, sync)
    try:
        yield _active
    finally:
        _active = previous
