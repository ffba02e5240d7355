"""Partial reads: one volume, a 2D slice or a 3D ROI at a fixed seeded position, and how a read
is measured (warm, cold after page-cache eviction, resident memory it adds).

Positions are drawn from a fixed seed per operation and given in the NIfTI frame (x, y, z), the
same for every reader; ROIs are clamped to the volume (on 512x512x96 a "128^3" ROI is
128x128x96). Volume TIMED is read; volume WARMUP warms a process up (lazy imports, a first
TileDB context) without warming the timed volume's tiles.
"""

from __future__ import annotations

import dataclasses
import gc

import numpy as np

from radibench.measure import pagecache
from radibench.measure.counters import rss_bytes

TIMED, WARMUP = 0, 1  # volume indices
SEED = 6
OPERATIONS = [
    "volume",
    "slice_axial",
    "slice_coronal",
    "slice_sagittal",
    "roi_32",
    "roi_64",
    "roi_128",
]
# What RadiObject's own table reports for the peers: their other slices and ROIs cost the same,
# since MONAI, TorchIO and nibabel on .nii.gz decode the whole volume for any read.
HEADLINE_OPERATIONS = ["volume", "slice_axial", "roi_64"]
AXES = {"sagittal": 0, "coronal": 1, "axial": 2}


@dataclasses.dataclass(frozen=True)
class Read:
    """One read at a fixed position (NIfTI frame), the same for every reader."""

    name: str
    axis: int | None = None
    index: int | None = None
    start: tuple[int, ...] | None = None
    size: tuple[int, ...] | None = None

    def __call__(self, reader, i: int = TIMED):
        if self.name == "volume":
            return reader.read_volume(i)
        if self.axis is not None:
            return reader.read_slice(i, self.axis, self.index)
        return reader.read_roi(i, self.start, self.size)

    @property
    def region(self) -> tuple[slice, ...]:
        """The voxels this read returns, as a numpy index into a NIfTI-frame volume."""
        if self.name == "volume":
            return (slice(None),) * 3
        if self.axis is not None:
            return tuple(self.index if a == self.axis else slice(None) for a in range(3))
        return tuple(slice(s, s + n) for s, n in zip(self.start, self.size, strict=True))


def seeded_read(operation: str, shape) -> Read:
    """The read `operation` on volumes of `shape`, at a position drawn from a fixed seed."""
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}; choose from {OPERATIONS}")
    rng = np.random.default_rng([SEED, OPERATIONS.index(operation)])
    if operation == "volume":
        return Read(operation)
    if operation.startswith("slice_"):
        axis = AXES[operation.removeprefix("slice_")]
        n = shape[axis]
        return Read(operation, axis=axis, index=int(rng.integers(n // 4, n - n // 4)))
    side = int(operation.removeprefix("roi_"))
    size = tuple(min(side, n) for n in shape)
    start = tuple(int(rng.integers(0, n - s + 1)) for n, s in zip(shape, size, strict=True))
    return Read(operation, start=start, size=size)


def warm(reader, read: Read) -> None:
    """One read of the warm-up volume, so lazy imports and first contexts are not measured."""
    read(reader, WARMUP)


def evict(paths) -> None:
    """Drop the page cache of `paths` (posix_fadvise DONTNEED: clean pages of these files only,
    nothing else on the machine; pagecache.drop). NotImplementedError where the platform has no
    fadvise."""
    pagecache.drop(paths)


def rss_delta(reader, read: Read) -> int:
    """Resident bytes this process gained by the read, the returned array included."""
    gc.collect()
    before = rss_bytes(include_children=False)
    result = read(reader)
    after = rss_bytes(include_children=False)
    del result
    return after - before
