"""Folders that are built once, checksummed, and used only when whole.

A dataset and the baseline files beside it are both built the same way: into a temporary
sibling folder, under a lock per folder, then a manifest of SHA-256 checksums is written and the
folder renamed into place. A half-written folder is therefore never seen under its real name,
and a damaged one is found by `read_manifest(..., verify=True)` before it is used.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

MANIFEST = "manifest.json"


class DatasetError(RuntimeError):
    """A dataset that cannot be used: says which file and what is wrong."""


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def disk_bytes(path: Path) -> int:
    """Bytes of a file, or of every file below a folder (a zarr store, a TileDB array), each
    hard-linked file counted once (a dataset's training cohort links its full series)."""
    path = Path(path)
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    seen, total = set(), 0
    for file in files:
        st = file.stat()
        if (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            total += st.st_size
    return total


def read_manifest(folder: Path, verify: bool = True) -> dict:
    """The manifest of a finished folder; with `verify`, every file checked against it."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise DatasetError(f"{folder}: no {MANIFEST}; the folder is missing or half-written")
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: not valid JSON ({exc})") from exc
    if verify:
        for rel, digest in manifest["files"].items():
            file = Path(folder) / rel
            if not file.is_file():
                raise DatasetError(f"{file}: listed in the manifest but missing")
            if sha256(file) != digest:
                raise DatasetError(
                    f"{file}: checksum differs from the manifest (edited or truncated)"
                )
    return manifest


def build(target: Path, fill: Callable[[Path], dict]) -> dict:
    """Make `target` atomically: `fill(partial)` writes the files into a temporary folder and
    returns the manifest's other fields; checksums and total bytes are added, the manifest is
    written and the folder renamed to `target`. On any error nothing is left behind."""
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        manifest = fill(partial)
        files = {
            str(p.relative_to(partial)): sha256(p)
            for p in sorted(partial.rglob("*"))
            if p.is_file()
        }
        manifest.update(files=files, bytes=disk_bytes(partial))
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=1))
        os.replace(partial, target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return manifest


@contextlib.contextmanager
def locked(root: Path, name: str):
    """An exclusive lock per folder, so concurrent runs never build or read it half-made."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def check_free_disk(root: Path, needed: int) -> None:
    free = shutil.disk_usage(root).free
    if free < needed * 1.2:
        raise DatasetError(
            f"not enough free disk in {root}: the dataset needs about {needed / 1e9:.1f} GB "
            f"(+20% headroom), {free / 1e9:.1f} GB are free; free space or set RADIBENCH_DATA"
        )
