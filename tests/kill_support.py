"""A training process killed right after a checkpoint, for resume tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pipeline import checkpoint


class Killed(Exception):
    """Stands for SIGKILL: raised right after the checkpoint at the chosen step is on disk."""


def killed_after_checkpoint(monkeypatch: pytest.MonkeyPatch, step: int, train: Callable[[], Any]) -> None:
    """Run ``train`` until the checkpoint of ``step`` is written, then stop it there."""
    real_save = checkpoint.save

    def save_then_die(path, state):
        real_save(path, state)
        if state["step"] == step:
            raise Killed

    monkeypatch.setattr(checkpoint, "save", save_then_die)
    with pytest.raises(Killed):
        train()
    monkeypatch.setattr(checkpoint, "save", real_save)
