"""One ``train`` process per job: a second one refuses while the first holds the job.

Two processes training the same job would resume from and overwrite the same
checkpoints (``checkpoints/<experiment>/<run>/last.pt``) and write the same run
folders. ``train`` holds an exclusive ``flock`` on ``<checkpoints>/<experiment>/<job>.lock``
for as long as it trains. The kernel releases the lock when the process ends, however
it ends (``kill -9`` included), so a lock file left behind never blocks the next run.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from pipeline.config import Job
from pipeline.errors import PipelineError


class JobLockedError(PipelineError):
    """Another process is training this job."""


def lock_path(ckpt_root: Path, job: Job) -> Path:
    return Path(ckpt_root) / job.experiment / f"{job.id}.lock"


@contextlib.contextmanager
def job_lock(ckpt_root: Path, job: Job) -> Iterator[Path]:
    """Hold the job's lock for the block, or raise JobLockedError naming the holder."""
    path = lock_path(ckpt_root, job)
    fd = _acquire(path, job)
    os.ftruncate(fd, 0)
    os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode())
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.close(fd)
        with contextlib.suppress(OSError):  # empty once the job's checkpoints are removed
            path.parent.rmdir()


def _acquire(path: Path, job: Job) -> int:
    """An open descriptor of ``path`` holding its exclusive lock."""
    while True:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:  # the folder was removed by a releasing holder: retry
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise JobLockedError(
                f"job {job.id} is being trained by {holder} (lock {path}); wait for it to finish, "
                "or stop it and rerun (training resumes from its checkpoints)") from None
        if _is_current(fd, path):
            return fd
        os.close(fd)  # locked a file its holder had just removed: lock the current one


def _is_current(fd: int, path: Path) -> bool:
    """Whether ``fd`` is still the file at ``path`` (not one unlinked since it was opened)."""
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False
