"""Training progress lines for logs without a terminal."""

from __future__ import annotations

import io

from pipeline.progress import Progress, format_duration


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_without_a_terminal_a_line_every_interval_with_rate_and_eta():
    out, clock = io.StringIO(), Clock()
    progress = Progress("gan_mnist/s0", total=1000, initial=0, images_per_step=100, every_s=10,
                        stream=out, clock=clock)
    for step in range(1, 1001):
        clock.t = step * 0.05  # 20 steps/s -> 2,000 images/s
        progress.update(step)
    progress.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 5  # 50 s of training, one line per 10 s
    assert lines[0] == "[train] gan_mnist/s0: step 200/1000 (20%), 2,000 images/s, ETA 40s"
    assert lines[-1].startswith("[train] gan_mnist/s0: step 1000/1000 (100%)")


def test_quiet_between_intervals_and_resumed_runs_count_from_their_start():
    out, clock = io.StringIO(), Clock()
    progress = Progress("r", total=100, initial=60, images_per_step=1, every_s=10, stream=out, clock=clock)
    clock.t = 5.0
    progress.update(70)
    assert out.getvalue() == ""
    clock.t = 10.0
    progress.update(80)
    assert out.getvalue() == "[train] r: step 80/100 (80%), 2 images/s, ETA 10s\n"


def test_durations_read_as_a_person_writes_them():
    assert [format_duration(s) for s in (42, 185, 3725, 9.8e9)] == ["42s", "3m05s", "1h02m", "2722222h13m"]
