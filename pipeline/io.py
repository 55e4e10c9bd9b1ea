"""Atomic writes: write a temporary file beside the target, fsync, rename; build a
folder in a temporary folder beside it and swap it in.

A process killed mid-write leaves at most a ``.tmp-*`` file or folder, never a
truncated target that a later stage would read as valid.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from pipeline.errors import PipelineError

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_open(path: Path | str, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file that replaces ``path`` only if the block completes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{path.name}.", dir=path.parent)
    os.chmod(tmp, 0o666 & ~_UMASK)
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path | str, text: str) -> Path:
    with atomic_open(path, "w") as fh:
        fh.write(text)
    return Path(path)


def atomic_write_json(path: Path | str, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def atomic_write_bytes(path: Path | str, data: bytes) -> Path:
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def atomic_save_npz(path: Path | str, arrays: dict[str, Any]) -> Path:
    import numpy as np

    with atomic_open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    return Path(path)


def atomic_torch_save(path: Path | str, obj: Any) -> Path:
    import torch

    with atomic_open(path, "wb") as fh:
        torch.save(obj, fh)
    return Path(path)


class OutputError(PipelineError):
    """An output folder cannot be written: names the folder and the fix."""


@contextlib.contextmanager
def staging_dir(parent: Path | str, prefix: str) -> Iterator[Path]:
    """A new temporary folder ``<parent>/<prefix>*`` (on the target's filesystem, so moving
    its content into ``parent`` is a rename), removed when the block ends. Folders with the
    same prefix left there by a killed process are removed first."""
    parent = Path(parent)
    try:
        parent.mkdir(parents=True, exist_ok=True)
        for stale in parent.glob(f"{prefix}*"):
            shutil.rmtree(stale, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    except PermissionError:
        raise OutputError(f"{parent}: not writable by this user; make it writable "
                          f"(chmod u+w {parent}) or write elsewhere (--out)") from None
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def swap_dir(new: Path | str, target: Path | str) -> None:
    """Put folder ``new`` in the place of ``target`` and delete the old content.

    On Linux the two names are exchanged in one step (renameat2 RENAME_EXCHANGE), so
    ``target`` always exists and holds either all of the old or all of the new content.
    Elsewhere the old folder is renamed aside first: a crash between the two renames
    leaves it as ``.tmp-old-<name>`` beside a missing ``target``."""
    new, target = Path(new), Path(target)
    if target.exists() and _exchange(new, target):
        shutil.rmtree(new)  # now the old content
        return
    old = target.with_name(f".tmp-old-{target.name}")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def publish(stage: Path | str, out: Path | str, names: Sequence[str]) -> None:
    """Move ``stage/<name>`` over ``out/<name>`` for each name in order: folders with
    :func:`swap_dir`, files with an atomic rename."""
    for name in names:
        src, dst = Path(stage) / name, Path(out) / name
        if src.is_dir():
            swap_dir(src, dst)
        else:
            os.replace(src, dst)


_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one step; False where the OS or filesystem cannot."""
    if not sys.platform.startswith("linux"):
        return False
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:  # glibc < 2.28
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def read_json(path: Path | str) -> Any:
    return json.loads(Path(path).read_text())


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
