"""Training progress on stderr, for a terminal and for logs.

On a terminal, a tqdm bar. Without one (``dvc repro`` capturing output, a SLURM
log file) or where several runs share stderr (``runtime.parallel_runs``), a line
every ``every_s`` seconds:

    [train] gan_mnist/s0: step 1200/5000 (24%), 4,210 images/s, ETA 1m30s

images/s is measured over the interval since the previous line; the ETA is the
remaining steps at that rate.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


def format_duration(seconds: float) -> str:
    """``1h02m``, ``3m05s`` or ``42s``."""
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


class Progress:
    """Progress of one run from ``initial`` to ``total`` steps of ``images_per_step`` images."""

    def __init__(self, run_id: str, total: int, initial: int, images_per_step: int, *,
                 bar: bool | None = None, every_s: float = 10.0, stream: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.run_id, self.total, self.images_per_step = run_id, total, images_per_step
        self.stream = stream if stream is not None else sys.stderr
        self.every_s, self.clock = every_s, clock
        use_bar = self.stream.isatty() if bar is None else bar
        self._bar = None
        if use_bar:
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=initial, desc=run_id, mininterval=2.0,
                             leave=False, file=self.stream)
        self._last_t, self._last_step = clock(), initial

    def update(self, step: int) -> None:
        """Record that ``step`` steps are done."""
        if self._bar is not None:
            self._bar.update(step - self._bar.n)
            return
        now = self.clock()
        if now - self._last_t < self.every_s:
            return
        rate = (step - self._last_step) / max(now - self._last_t, 1e-9)
        eta = (self.total - step) / rate if rate > 0 else float("inf")
        eta_text = format_duration(eta) if eta != float("inf") else "unknown"
        print(f"[train] {self.run_id}: step {step}/{self.total} ({100 * step / self.total:.0f}%), "
              f"{rate * self.images_per_step:,.0f} images/s, ETA {eta_text}", file=self.stream, flush=True)
        self._last_t, self._last_step = now, step

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
