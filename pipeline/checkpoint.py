"""Resumable training state: model + optimisers + RNG states + step + log so far.

A checkpoint is valid for a run only if its ``config_hash`` matches the run's
(changing a hyperparameter never resumes from a stale checkpoint). Writes are
atomic, so a kill during a save leaves the previous checkpoint intact.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Any

import torch

from pipeline.io import atomic_torch_save

CHECKPOINT_ROOT = Path("checkpoints")
LAST = "last.pt"


def checkpoint_path(run_id: str, root: Path = CHECKPOINT_ROOT) -> Path:
    return Path(root) / run_id / LAST


def save(path: Path, state: dict[str, Any]) -> None:
    atomic_torch_save(path, state)


def load_if_valid(path: Path, config_hash: str) -> dict[str, Any] | None:
    """The checkpoint at ``path`` if it belongs to this configuration, else None."""
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception:  # a foreign or damaged file: start over rather than crash
        return None
    if state.get("config_hash") != config_hash:
        return None
    return state


def remove(run_id: str, root: Path = CHECKPOINT_ROOT) -> None:
    """Delete a run's checkpoint folder and any parent folders left empty under ``root``."""
    folder = checkpoint_path(run_id, root).parent
    shutil.rmtree(folder, ignore_errors=True)
    for parent in folder.parents:
        if parent == Path(root) or not parent.is_relative_to(root):
            break
        with contextlib.suppress(OSError):
            parent.rmdir()
