"""``python -m pipeline``: an output the user cannot write exits 2 with the path and the
fix, never a traceback."""

from __future__ import annotations

import errno
import os

import pytest

from pipeline.cli import main


def test_permission_denied_names_the_path_and_the_fix(workdir, monkeypatch, capsys):
    def denied(path, text):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr("pipeline.commands.plan.atomic_write_text", denied)
    assert main(["plan", "--stamp", "logs/params.valid"]) == 2
    err = capsys.readouterr().err
    assert "logs/params.valid: permission denied" in err and "chmod u+w" in err
    assert "Traceback" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_output_folder(workdir, capsys):
    (workdir / "logs").mkdir()
    (workdir / "logs").chmod(0o555)
    assert main(["plan", "--stamp", "logs/params.valid"]) == 2
    assert "permission denied" in capsys.readouterr().err
