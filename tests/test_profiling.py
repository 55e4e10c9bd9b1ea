"""Phase timing: exclusive times add up to the total; no recorder, no cost."""

from __future__ import annotations

import itertools

from pipeline import profiling
from pipeline.profiling import phase, recording


def test_nested_phases_get_exclusive_time():
    ticks = itertools.count()
    with recording(clock=lambda: float(next(ticks))) as rec:
        with phase("d_step"):      # enter at 0
            with phase("memory"):  # 1 .. 3
                next(ticks)
            next(ticks)            # leave d_step at 5
        with phase("g_step"):      # 6 .. 7
            pass
    assert rec.totals == {"memory": 2.0, "d_step": 3.0, "g_step": 1.0}


def test_phase_is_inert_without_a_recorder_and_recording_restores_state():
    assert profiling._active is None
    with phase("d_step"):
        pass
    with recording():
        with recording() as inner:
            with phase("g_step"):
                pass
        assert profiling._active is not None and profiling._active is not inner
    assert profiling._active is None
    assert set(inner.totals) == {"g_step"}
