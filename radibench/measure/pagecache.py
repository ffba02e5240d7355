"""A cold page cache for one run: every file a recipe reads evicted before its process starts,
and checked to be gone, so a cold run never measures a warm cache by accident.

Eviction is fsync then posix_fadvise(POSIX_FADV_DONTNEED) on each file: any user may drop the
clean pages of a file they can read (no root, no drop_caches). The check is mincore(2) over a
read-only mapping of each file, which says page by page what is resident. A page another process
keeps mapped cannot be dropped: then eviction fails, naming how much stayed, and the run is not
made.
"""

from __future__ import annotations

import ctypes
import mmap
import os
from collections.abc import Iterable
from pathlib import Path

PAGE = mmap.PAGESIZE


class EvictionError(RuntimeError):
    """Pages of the files stayed in the page cache after eviction."""


def files_of(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """The regular files under `paths` (a TileDB array or group is a folder of files)."""
    out = []
    for path in map(Path, paths):
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file())
        elif path.is_file():
            out.append(path)
        else:
            raise FileNotFoundError(f"nothing to evict at {path}")
    return out


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_long,
    ]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    return libc


def resident_bytes(paths: Iterable[str | os.PathLike]) -> int:
    """Bytes of the files' pages that are in the page cache now (mincore, page by page)."""
    libc = _libc()
    total = 0
    for path in files_of(paths):
        size = path.stat().st_size
        if not size:
            continue
        fd = os.open(path, os.O_RDONLY)
        try:
            address = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
            if address in (None, ctypes.c_void_p(-1).value):
                raise OSError(ctypes.get_errno(), f"mmap of {path} failed")
            try:
                pages = (size + PAGE - 1) // PAGE
                vector = (ctypes.c_ubyte * pages)()
                if libc.mincore(ctypes.c_void_p(address), size, vector):
                    raise OSError(ctypes.get_errno(), f"mincore of {path} failed")
                total += sum(byte & 1 for byte in vector) * PAGE
            finally:
                libc.munmap(ctypes.c_void_p(address), size)
        finally:
            os.close(fd)
    return total


def drop(files: Iterable[str | os.PathLike]) -> None:
    """Write back and drop the files' pages from the page cache, unchecked (what stays mapped
    elsewhere stays: evict checks)."""
    if not hasattr(os, "posix_fadvise"):
        raise NotImplementedError("no posix_fadvise here: cannot evict the page cache")
    for path in files:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)  # a page not yet written back (a fresh ingest's) cannot be dropped
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def evict(paths: Iterable[str | os.PathLike]) -> int:
    """Drop the files' pages (every file under `paths`) and check that none stayed; returns the
    bytes the files hold. EvictionError if any page stayed (mapped by a running process)."""
    files = files_of(paths)
    drop(files)
    left = resident_bytes(files)
    if left:
        raise EvictionError(
            f"{left} bytes of {len(files)} files stayed in the page cache after "
            "POSIX_FADV_DONTNEED (mapped or written by a running process?): not a cold run"
        )
    return sum(p.stat().st_size for p in files)
