"""How a reader's stored voxels relate to the NIfTI files the peers read, found from the data.

A reader may keep other values than the NIfTI's HU (RadiObject's DICOM ingest keeps the raw
stored values, before RescaleSlope/RescaleIntercept) and another slice order (it sorts slices by
InstanceNumber, SimpleITK by position). Both depend on each series, not on the reader: on the
synthetic LIDC-like data it is HU + 1024 with z reversed, on a CT-derived series with
RescaleIntercept 0 and InstanceNumber along +z it is plain HU in the NIfTI's order. So the
mapping is detected from one volume read both ways, recorded with the results, and never
assumed: a benchmark that reads at the wrong position or checks the wrong values measures
something else than it says.
"""

from __future__ import annotations

import dataclasses
import itertools
import json

import numpy as np

SAMPLES = 4096  # voxels compared per candidate before the whole volume is
CHUNK = 1 << 22  # voxels per block of the whole-volume check (bounds the temporary memory)


class MappingError(ValueError):
    """No axis reversal and constant offset maps the stored volume onto the reference."""


@dataclasses.dataclass(frozen=True)
class ValueMapping:
    """stored value = reference value + `offset`, once the axes `flipped_axes` are reversed."""

    offset: int = 0
    flipped_axes: tuple[int, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "offset", int(self.offset))
        object.__setattr__(self, "flipped_axes", tuple(sorted(int(a) for a in self.flipped_axes)))

    def to_json(self) -> dict:
        """A plain dict, for setup_cache's cache, results and command lines."""
        return {"offset": self.offset, "flipped_axes": list(self.flipped_axes)}

    @classmethod
    def from_json(cls, data: dict | str) -> ValueMapping:
        """The mapping from to_json()'s dict, or that dict as a JSON string."""
        if isinstance(data, str):
            data = json.loads(data)
        return cls(offset=data["offset"], flipped_axes=tuple(data["flipped_axes"]))

    def to_reference(self, stored, dropped_axis: int | None = None) -> np.ndarray:
        """`stored` (a volume, box or slice in the reader's frame) as the reference's values in
        the reference's order, as int64. `dropped_axis`: the axis a 2D slice was taken along."""
        values = np.asarray(stored).astype(np.int64)
        axes = [a for a in self.flipped_axes if a != dropped_axis]
        if dropped_axis is not None:  # the slice's axes after the dropped one move down by one
            axes = [a - (a > dropped_axis) for a in axes]
        if axes:
            values = np.flip(values, axis=axes)
        return values - self.offset


def _wide(array: np.ndarray) -> np.ndarray:
    """Values safe to subtract: int64 for integers, float64 otherwise."""
    kind = np.int64 if array.dtype.kind in "iub" else np.float64
    return array.astype(kind, copy=False)


def _candidates(ndim: int) -> list[tuple[int, ...]]:
    """Every set of reversed axes, fewest first (a symmetric volume keeps the simplest)."""
    axes = range(ndim)
    return [c for n in range(ndim + 1) for c in itertools.combinations(axes, n)]


def _spread(diff: np.ndarray) -> tuple[float, float]:
    return float(diff.min()), float(diff.max())


def _whole(stored: np.ndarray, reference: np.ndarray, flips, offset) -> tuple[float, float, int]:
    """(min, max) of stored - reference over the whole volume, and how many voxels are not
    `offset`; in blocks along axis 0, so a large volume needs no full-size temporary."""
    view = np.flip(stored, axis=flips) if flips else stored
    step = max(1, CHUNK // max(1, int(np.prod(stored.shape[1:]))))
    low, high, wrong = np.inf, -np.inf, 0
    for start in range(0, stored.shape[0], step):
        diff = _wide(view[start : start + step]) - _wide(reference[start : start + step])
        low, high = min(low, float(diff.min())), max(high, float(diff.max()))
        wrong += int(np.count_nonzero(diff != offset))
    return low, high, wrong


def detect(stored, reference) -> ValueMapping:
    """The mapping under which `stored` (a reader's volume) equals `reference` (the NIfTI's)
    voxel for voxel: the axis reversals (of all 2^ndim) for which stored - reference is one
    constant integer. Sampled voxels rule candidates out cheaply; the survivor is confirmed on
    every voxel. MappingError, naming what was seen, when none maps exactly (another shape, a
    rescale slope other than 1, other data)."""
    stored, reference = np.asarray(stored), np.asarray(reference)
    if stored.shape != reference.shape:
        raise MappingError(
            f"stored volume is {stored.shape}, the reference {reference.shape}: "
            "no axis reversal and offset maps one onto the other"
        )
    if stored.size == 0:
        raise MappingError(f"empty volumes {stored.shape}: nothing to detect a mapping from")
    rng = np.random.default_rng(0)
    points = tuple(rng.integers(0, n, size=min(SAMPLES, stored.size)) for n in stored.shape)
    expected = _wide(reference[points])
    seen = []  # (max - min of the differences, flips, (min, max), where it was measured)
    for flips in _candidates(stored.ndim):
        mirrored = tuple(
            n - 1 - p if a in flips else p
            for a, (p, n) in enumerate(zip(points, stored.shape, strict=True))
        )
        low, high = _spread(_wide(stored[mirrored]) - expected)
        where = f"{len(expected)} sampled voxels"
        if low == high and float(low).is_integer():
            low, high, wrong = _whole(stored, reference, flips, low)
            if not wrong:
                return ValueMapping(offset=int(low), flipped_axes=flips)
            where = f"all {stored.size} voxels ({wrong} differ from {low:g})"
        seen.append((high - low, flips, (low, high), where))
    width, flips, (low, high), where = min(seen, key=lambda s: s[0])
    if width == 0:  # a constant but fractional difference
        raise MappingError(
            f"stored - reference is {low:g} with axes {flips} reversed: not an integer offset"
        )
    raise MappingError(
        "no axis reversal and constant offset maps the stored volume "
        f"{stored.shape} {stored.dtype} onto the reference {reference.dtype}: the closest, axes "
        f"{flips or '()'} reversed, leaves stored - reference between {low:g} and {high:g} over "
        f"{where} (a rescale slope other than 1, or other data?)"
    )


def read_nifti(path) -> np.ndarray:
    """The reference: a NIfTI file's voxels as nibabel gives them (HU, the file's order)."""
    import nibabel

    return np.asanyarray(nibabel.load(str(path)).dataobj)
