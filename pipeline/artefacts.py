"""A run folder's artefacts, checked between stages.

``train`` records the sha256 of ``model.pt`` and ``samples.npz`` in ``train.json``;
``score`` verifies them before it reads any run, so a truncated or altered file stops
it with the file's name and the command that repairs it. (DVC would restore such a
file from its cache only when asked; Snakemake and the plain CLI have no cache.)
"""

from __future__ import annotations

from pathlib import Path

from pipeline.data.manifest import sha256_file
from pipeline.errors import PipelineError
from pipeline.io import read_json

ARTEFACTS = ("model.pt", "samples.npz")


class ArtefactError(PipelineError):
    """A run's file is missing or differs from the sha256 its train.json recorded."""


def artefact_hashes(run_dir: Path) -> dict[str, str]:
    """``{file name: sha256}`` of the run's artefacts, for its train.json."""
    return {name: sha256_file(Path(run_dir) / name) for name in ARTEFACTS}


def verify_run(run_dir: Path, repair: str) -> None:
    """Raise ArtefactError (ending with ``repair``, the command that rebuilds the run) unless
    every artefact matches the sha256 in the run's train.json. A run without train.json is
    left to the caller, which names it as not trained."""
    train_path = Path(run_dir) / "train.json"
    if not train_path.is_file():
        return
    try:
        recorded = read_json(train_path).get("sha256")
    except ValueError:
        raise ArtefactError(f"{train_path}: not valid JSON; {repair}") from None
    if not recorded:
        raise ArtefactError(f"{train_path} records no sha256 of {' / '.join(ARTEFACTS)} (trained by an "
                            f"older version); {repair}")
    for name, digest in recorded.items():
        path = Path(run_dir) / name
        if not path.is_file():
            raise ArtefactError(f"{path}: missing; {repair}")
        if sha256_file(path) != digest:
            raise ArtefactError(f"{path}: sha256 differs from the one train.json recorded (the file was "
                                f"damaged or changed after training); {repair}")
