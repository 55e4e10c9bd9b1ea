"""Atomic writes: a failure mid-write never leaves a truncated target; folders built
beside their target and swapped in whole."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from pipeline import io
from pipeline.io import OutputError, atomic_open, atomic_write_json, publish, staging_dir, swap_dir


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


def folder(path, files: dict[str, str]):
    path.mkdir(parents=True)
    for name, text in files.items():
        (path / name).write_text(text)
    return path


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "rename-aside"])
def test_swap_dir_puts_the_new_folder_in_place_and_deletes_the_old(tmp_path, monkeypatch, exchange):
    if not exchange:
        monkeypatch.setattr(io, "_exchange", lambda a, b: False)
    target = folder(tmp_path / "refs", {"old.txt": "old"})
    swap_dir(folder(tmp_path / ".tmp-new", {"new.txt": "new"}), target)
    assert [p.name for p in target.iterdir()] == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["refs"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux's")
def test_the_swap_is_one_exchange_on_linux(tmp_path):
    a, b = folder(tmp_path / "a", {"x": "a"}), folder(tmp_path / "b", {"x": "b"})
    assert io._exchange(a, b)
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


def test_swap_dir_creates_a_missing_target(tmp_path):
    swap_dir(folder(tmp_path / ".tmp-new", {"x": "1"}), tmp_path / "data")
    assert (tmp_path / "data" / "x").read_text() == "1" and not (tmp_path / ".tmp-new").exists()


def test_staging_dir_is_removed_with_any_left_by_a_killed_process(tmp_path):
    folder(tmp_path / ".tmp-report-killed", {"half.png": ""})
    with staging_dir(tmp_path, ".tmp-report-") as stage:
        assert stage.parent == tmp_path and stage.name.startswith(".tmp-report-")
        assert not (tmp_path / ".tmp-report-killed").exists()
        folder(stage / "figures", {"a.png": "png"})
        (stage / "report.md").write_text("new")
        publish(stage, tmp_path, ["figures", "report.md"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figures", "report.md"]


def test_an_unwritable_output_folder_names_the_folder_and_the_fix(tmp_path, monkeypatch):
    def denied(**kwargs):
        raise PermissionError(13, "Permission denied", kwargs["dir"])

    monkeypatch.setattr(io.tempfile, "mkdtemp", denied)
    with (pytest.raises(OutputError, match=f"{tmp_path}: not writable by this user; make it writable"),
          staging_dir(tmp_path, ".tmp-report-")):
        pass
