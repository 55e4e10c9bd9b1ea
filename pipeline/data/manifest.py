"""Checksummed dataset folders.

``fetch`` writes ``data/<name>/manifest.json`` listing every stored file with
its sha256 and size; every stage that opens the dataset verifies it first.
The manifest holds no timestamps: fetching twice gives byte-identical folders,
so DVC does not re-run downstream stages for nothing.
Files above ``FULL_HASH_LIMIT`` are checked by size and by the hash of their
first and last MiB on open (hashing tens of GB on every stage would dominate
run time); ``python -m pipeline fetch <name> --verify`` hashes them fully.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pipeline.errors import DataError
from pipeline.io import atomic_write_json, read_json

MANIFEST = "manifest.json"
FULL_HASH_LIMIT = 1 << 30
EDGE = 1 << 20


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def edge_hash(path: Path) -> str:
    """sha256 of the first and last MiB (a cheap check for very large files)."""
    h = hashlib.sha256()
    size = path.stat().st_size
    with open(path, "rb") as fh:
        h.update(fh.read(EDGE))
        if size > EDGE:
            fh.seek(max(EDGE, size - EDGE))
            h.update(fh.read(EDGE))
    return h.hexdigest()


def write_manifest(folder: Path, dataset: str, kind: str, options: dict[str, Any], extra: dict[str, Any]) -> Path:
    """Checksum every file in ``folder`` (except the manifest) and write the manifest."""
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST):
        rel = path.relative_to(folder).as_posix()
        if rel.startswith(".tmp-") or "/.tmp-" in rel:
            continue
        entry = {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
        if entry["bytes"] > FULL_HASH_LIMIT:
            entry["edge_sha256"] = edge_hash(path)
        files[rel] = entry
    manifest = {
        "dataset": dataset,
        "kind": kind,
        "options": options,
        "files": files,
        **extra,
    }
    return atomic_write_json(folder / MANIFEST, manifest)


def fetch_hint(dataset: str) -> str:
    return f"run `python -m pipeline fetch {dataset} --out data/{dataset}` (or `dvc repro fetch@{dataset}`)"


def verify(folder: Path, dataset: str, full: bool = False) -> dict[str, Any]:
    """Check ``folder`` against its manifest; raises DataError naming the bad file."""
    folder = Path(folder)
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise DataError(
            f"dataset {dataset!r} is missing: expected {manifest_path} written by fetch; {fetch_hint(dataset)}"
        )
    try:
        manifest = read_json(manifest_path)
        entries = manifest["files"]
    except (ValueError, KeyError) as exc:
        raise DataError(f"dataset {dataset!r}: {manifest_path} is unreadable ({exc}); {fetch_hint(dataset)}") from None
    for rel, entry in entries.items():
        path = folder / rel
        if not path.is_file():
            raise DataError(f"dataset {dataset!r}: file {path} is missing; {fetch_hint(dataset)}")
        size = path.stat().st_size
        if size != entry["bytes"]:
            raise DataError(
                f"dataset {dataset!r}: checksum error in {path}: {size} bytes, expected {entry['bytes']}; "
                f"{fetch_hint(dataset)} to repair it"
            )
        if "edge_sha256" in entry and not full:
            actual, expected = edge_hash(path), entry["edge_sha256"]
        else:
            actual, expected = sha256_file(path), entry["sha256"]
        if actual != expected:
            raise DataError(
                f"dataset {dataset!r}: checksum error in {path}: sha256 {actual[:16]}..., expected "
                f"{expected[:16]}...; the file is corrupt. {fetch_hint(dataset)} to repair it"
            )
    return manifest
