"""How a reader's stored voxels relate to the NIfTI files the peers read, found from the data.

A reader may keep other values than the NIfTI's HU (RadiObject's DICOM ingest keeps the raw
stored values, before RescaleSlope/RescaleIntercept) and another slice order (it sorts slices by
InstanceNumber, SimpleITK by position). Both depend on each series, not on the reader: on the
synthetic LIDC-like data it is HU + 1024 with z reversed, on a CT-derived series with
RescaleIntercept 0 and InstanceNumber along +z it is plain HU in the NIfTI's order, on one with
RescaleSlope 2 and RescaleIntercept -1024 it is HU = 2 x (stored - 512). So the
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
TOLERANCE = 1e-3  # how far a rescaled value may be from the reference's (HU are whole numbers)


class MappingError(ValueError):
    """No axis reversal and linear map (slope, offset) maps the stored volume onto the
    reference."""


@dataclasses.dataclass(frozen=True)
class ValueMapping:
    """reference value = `slope` x (stored value - `offset`), once the axes `flipped_axes` are
    reversed; with slope 1 (every series without a rescale slope), stored = reference + offset."""

    offset: float = 0
    flipped_axes: tuple[int, ...] = ()
    slope: float = 1

    def __post_init__(self):
        for name in ("offset", "slope"):  # whole numbers as int: the JSON stays as it was
            value = float(getattr(self, name))
            object.__setattr__(self, name, int(value) if value.is_integer() else value)
        object.__setattr__(self, "flipped_axes", tuple(sorted(int(a) for a in self.flipped_axes)))

    def to_json(self) -> dict:
        """A plain dict, for setup_cache's cache, results and command lines."""
        found = {"offset": self.offset, "flipped_axes": list(self.flipped_axes)}
        return found if self.slope == 1 else {**found, "slope": self.slope}

    @classmethod
    def from_json(cls, data: dict | str) -> ValueMapping:
        """The mapping from to_json()'s dict, or that dict as a JSON string."""
        if isinstance(data, str):
            data = json.loads(data)
        return cls(data["offset"], tuple(data["flipped_axes"]), data.get("slope", 1))

    def to_reference(self, stored, dropped_axis: int | None = None) -> np.ndarray:
        """`stored` (a volume, box or slice in the reader's frame) as the reference's values in
        the reference's order: int64 with slope 1 and a whole offset, else float64.
        `dropped_axis`: the axis a 2D slice was taken along."""
        exact = self.slope == 1 and isinstance(self.offset, int)
        values = np.asarray(stored).astype(np.int64 if exact else np.float64)
        axes = [a for a in self.flipped_axes if a != dropped_axis]
        if dropped_axis is not None:  # the slice's axes after the dropped one move down by one
            axes = [a - (a > dropped_axis) for a in axes]
        if axes:
            values = np.flip(values, axis=axes)
        return (values - self.offset) if exact else self.slope * (values - self.offset)

    def to_hu(self, stored) -> np.ndarray:
        """`stored` (a box in the reader's frame) as what a training step takes: float32 HU in
        the reference's order, contiguous. What the peers' loaders hand over; a RadiObject
        recipe pays for it inside its loader, as a user's transform would."""
        values = np.flip(stored, axis=self.flipped_axes) if self.flipped_axes else stored
        hu = np.subtract(values, self.offset, dtype=np.float32)
        return hu if self.slope == 1 else np.multiply(hu, self.slope, out=hu)


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


def _linear(stored: np.ndarray, expected: np.ndarray) -> tuple[float, float] | None:
    """(slope, offset) with expected = slope x (stored - offset) on every sampled voxel (a
    series' rescale slope and intercept), from its lowest and highest stored values; None when
    no such line fits them all."""
    low, high = int(np.argmin(stored)), int(np.argmax(stored))
    if stored[high] == stored[low]:
        return None
    slope = float(expected[high] - expected[low]) / float(stored[high] - stored[low])
    if slope == 0 or not np.isfinite(slope):
        return None
    offset = float(stored[low]) - float(expected[low]) / slope
    residual = np.abs(expected - slope * (stored.astype(np.float64) - offset))
    return (slope, offset) if float(residual.max()) <= TOLERANCE else None


def _wrong_linear(stored, reference, flips, slope: float, offset: float) -> int:
    """Voxels of the whole volume where slope x (stored - offset) is not the reference."""
    view = np.flip(stored, axis=flips) if flips else stored
    step = max(1, CHUNK // max(1, int(np.prod(stored.shape[1:]))))
    wrong = 0
    for start in range(0, stored.shape[0], step):
        mapped = slope * (view[start : start + step].astype(np.float64) - offset)
        wrong += int(np.count_nonzero(np.abs(mapped - reference[start : start + step]) > TOLERANCE))
    return wrong


def detect(stored, reference) -> ValueMapping:
    """The mapping under which `stored` (a reader's volume) equals `reference` (the NIfTI's)
    voxel for voxel: the axis reversals (of all 2^ndim) for which stored - reference is one
    constant integer, or else reference = slope x (stored - offset) (a rescale slope other than
    1). Sampled voxels rule candidates out cheaply; the survivor is confirmed on every voxel.
    MappingError, naming what was seen, when none maps exactly (another shape, a rescale that
    changes from slice to slice, other data)."""
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
        sampled = _wide(stored[mirrored])
        low, high = _spread(sampled - expected)
        where = f"{len(expected)} sampled voxels"
        if low == high and float(low).is_integer():
            low, high, wrong = _whole(stored, reference, flips, low)
            if not wrong:
                return ValueMapping(offset=int(low), flipped_axes=flips)
            where = f"all {stored.size} voxels ({wrong} differ from {low:g})"
        elif low != high and (line := _linear(sampled, expected)) is not None:
            slope, offset = line
            wrong = _wrong_linear(stored, reference, flips, slope, offset)
            if not wrong:
                return ValueMapping(offset=offset, flipped_axes=flips, slope=slope)
            where = f"all {stored.size} voxels ({wrong} off the line of slope {slope:g})"
        seen.append((high - low, flips, (low, high), where))
    width, flips, (low, high), where = min(seen, key=lambda s: s[0])
    if width == 0:  # a constant but fractional difference
        raise MappingError(
            f"stored - reference is {low:g} with axes {flips} reversed: not an integer offset"
        )
    raise MappingError(
        "no axis reversal and constant offset or rescale slope maps the stored volume "
        f"{stored.shape} {stored.dtype} onto the reference {reference.dtype}: the closest, axes "
        f"{flips or '()'} reversed, leaves stored - reference between {low:g} and {high:g} over "
        f"{where} (a rescale that changes from slice to slice, or other data?)"
    )


def read_nifti(path) -> np.ndarray:
    """The reference: a NIfTI file's voxels as nibabel gives them (HU, the file's order)."""
    import nibabel

    return np.asanyarray(nibabel.load(str(path)).dataobj)
