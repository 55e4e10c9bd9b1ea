"""Atomic writes: a failure mid-write never leaves a truncated target."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from pipeline.io import atomic_open, atomic_write_json


def test_exception_mid_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "scores.json"
    atomic_write_json(target, {"ok": 1})
    with pytest.raises(RuntimeError):
        with atomic_open(target) as fh:
            fh.write('{"ok": 2, "trunc')
            raise RuntimeError("killed")
    assert json.loads(target.read_text()) == {"ok": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["scores.json"]


def test_sigkill_mid_write_never_leaves_a_partial_target(tmp_path):
    """A writer killed while streaming a large file: the target is either absent or complete."""
    target = tmp_path / "model.pt"
    script = (
        "import sys, time\n"
        "from pipeline.io import atomic_open\n"
        "with atomic_open(sys.argv[1], 'wb') as fh:\n"
        "    for _ in range(1000):\n"
        "        fh.write(b'x' * 100_000)\n"
        "        fh.flush()\n"
        "        time.sleep(0.005)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(target)])
    deadline = time.time() + 30
    while not any(p.name.startswith(".tmp-") for p in tmp_path.iterdir()) and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not target.exists()
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
    assert leftovers and leftovers[0].stat().st_size > 0  # the partial data never took the real name


def test_permissions_follow_the_umask(tmp_path):
    path = atomic_write_json(tmp_path / "a.json", {})
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
