"""Partial reads, tiling, ingest and footprint: what benchmarks/access.py and ingest.py share.

The cohort: the first ACCESS_SUBJECTS subjects of the dataset's training cohort (every volume the
same shape, so RadiObject keeps them in one collection; the full series differ in slice count and
would be split). Volume 0 is timed; volume 1 warms a process up (lazy imports, first TileDB
context) without warming volume 0's tiles. ROIs are clamped to the volume: on the default profile
(512x512x96) a "128^3" ROI is 128x128x96.

setup_cache (`prepare`) ingests that cohort three times with this commit's RadiObject (DICOM with
axial tiles, DICOM with isotropic 64^3 tiles, NIfTI with isotropic tiles), timing each and
measuring its bytes on disk, and makes the commit-independent baseline files once per dataset.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import time
from pathlib import Path

import numpy as np

from radibench import baseline_files, measure, suite
from radibench.frameworks import radiobject as radiobject_api

ACCESS_SUBJECTS = 2
TIMED, WARMUP = 0, 1  # volume indices
SEED = 6  # issue 6
TILINGS = ["axial", "isotropic"]
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
DECODERS = ["monai", "torchio", "nibabel-niigz"]  # readers that decode the whole file
PARTIAL = ["nibabel-nii", "zarr-axial", "zarr-isotropic", "memmap"]
RADIOBJECT = [f"radiobject-{t}" for t in TILINGS]
READERS = RADIOBJECT + DECODERS + PARTIAL
# Ingests per commit: (key, source format, tiling). Keys name the RadiObject readers above.
INGESTS = [
    ("radiobject-axial", "dicom", "axial"),
    ("radiobject-isotropic", "dicom", "isotropic"),
    ("radiobject-nifti-isotropic", "nifti", "isotropic"),
]
AXES = {"sagittal": 0, "coronal": 1, "axial": 2}
# The files each commit-independent reader reads (keys of prepare()'s "paths").
SOURCES = {
    "monai": "nii.gz",
    "torchio": "nii.gz",
    "nibabel-niigz": "nii.gz",
    "nibabel-nii": "nii",
    "zarr-axial": "zarr-axial",
    "zarr-isotropic": "zarr-isotropic",
    "memmap": "npy",
}


@dataclasses.dataclass(frozen=True)
class Access:
    """One read at a fixed, seeded position (NIfTI frame), the same for every reader."""

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
        """The voxels this access reads, as a numpy index into a NIfTI-frame volume."""
        if self.name == "volume":
            return (slice(None),) * 3
        if self.axis is not None:
            return tuple(self.index if a == self.axis else slice(None) for a in range(3))
        return tuple(slice(s, s + n) for s, n in zip(self.start, self.size, strict=True))


def access(name: str, shape) -> Access:
    """The access `name` on volumes of `shape`, at a position drawn from a fixed seed."""
    if name not in OPERATIONS:
        raise ValueError(f"unknown operation {name!r}; choose from {OPERATIONS}")
    rng = np.random.default_rng([SEED, OPERATIONS.index(name)])
    if name == "volume":
        return Access(name)
    if name.startswith("slice_"):
        axis = AXES[name.removeprefix("slice_")]
        n = shape[axis]
        return Access(name, axis=axis, index=int(rng.integers(n // 4, n - n // 4)))
    side = int(name.removeprefix("roi_"))
    size = tuple(min(side, n) for n in shape)
    start = tuple(int(rng.integers(0, n - s + 1)) for n, s in zip(shape, size, strict=True))
    return Access(name, start=start, size=size)


# ----------------------------------------------------------------------------------------------
# setup_cache


def prepare(cache_dir: Path | None = None) -> dict:
    """Baseline files (cached once per dataset) and this commit's three ingests of the cohort."""
    cache_dir = Path(cache_dir or Path.cwd())
    data = suite.dataset()
    subjects = data.subjects[:ACCESS_SUBJECTS]
    files = baseline_files.ensure(data, subjects)
    cache = {
        "dataset": data.name,
        "shape": list(data.train_shape),
        "subjects": [s.id for s in subjects],
        "paths": {
            "nii.gz": [str(s.train_nifti) for s in subjects],
            "nii": [str(f.nii) for f in files],
            "npy": [str(f.npy) for f in files],
            **{f"zarr-{c}": [str(f.zarr(c)) for f in files] for c in baseline_files.ZARR_CHUNKS},
        },
        "dicom_bytes": sum(baseline_files.disk_bytes(s.train_dicom_dir) for s in subjects),
        "uris": {},
        "ingest_seconds": {},
        "problems": {},
    }
    for key, source, tiling in INGESTS:
        family = key.split("-")[0]
        if not suite.selected(family):
            cache["problems"][key] = ("n/a", f"not in {suite.FRAMEWORKS_ENV}")
            continue
        uri = str(cache_dir / key)
        inputs = (
            [(s.train_dicom_dir, s.id) for s in subjects]
            if source == "dicom"
            else [(s.train_nifti, s.id) for s in subjects]
        )
        ingest = radiobject_api.ingest_dicoms if source == "dicom" else radiobject_api.ingest_niftis
        start = time.perf_counter()
        try:
            ingest(uri, inputs, tiling=tiling)
        except NotImplementedError as exc:
            cache["problems"][key] = ("n/a", str(exc))
        except Exception as exc:  # a real failure of this commit: shown as failed
            cache["problems"][key] = ("failed", f"ingest failed: {exc!r}")
        else:
            cache["ingest_seconds"][key] = time.perf_counter() - start
            cache["uris"][key] = uri
    for name in DECODERS + PARTIAL:
        if not suite.selected(name.split("-")[0]):
            cache["problems"][name] = ("n/a", f"not in {suite.FRAMEWORKS_ENV}")
    return cache


def reader(cache: dict, name: str):
    """The adapter `name` over the cohort, or what asv should show (n/a, failed)."""
    from radibench.frameworks import baselines, monai, torchio
    from radibench.frameworks.radiobject import RadiObject

    suite.check(cache, name)
    paths = cache["paths"]
    if name in cache["uris"]:
        # Not import_modules(): that imports radiobject.ml (and so MONAI and TorchIO, ~2.6 s),
        # which a user reading volumes does not.
        return RadiObject(cache["uris"][name])
    classes = {
        "monai": monai.Monai,
        "torchio": torchio.Torchio,
        **{cls.name: cls for cls in baselines.BASELINES},
    }
    fw = classes[name](paths[SOURCES[name]])
    fw.import_modules()
    return fw


def files_of(cache: dict, name: str) -> list[Path]:
    """Every file the reader `name` reads from (for cache eviction)."""
    roots = cache["uris"][name] if name in cache["uris"] else cache["paths"][SOURCES[name]]
    roots = [roots] if isinstance(roots, str) else roots
    out = []
    for root in map(Path, roots):
        out += [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
    return out


# ----------------------------------------------------------------------------------------------
# Measuring


def evict(paths) -> None:
    """Drop the page cache of `paths` (posix_fadvise DONTNEED: clean pages of these files only,
    nothing else on the machine). NotImplementedError where the platform has no fadvise."""
    if not hasattr(os, "posix_fadvise"):
        raise NotImplementedError("no posix_fadvise here: cannot evict the page cache")
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fdatasync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def warm(reader, op: Access) -> None:
    """One read of the warm-up volume, so lazy imports and first contexts are not measured."""
    op(reader, WARMUP)


def rss_delta(reader, op: Access) -> int:
    """Resident bytes this process gained by the read, the returned array included."""
    gc.collect()
    before = measure.rss_bytes(include_children=False)
    result = op(reader)
    after = measure.rss_bytes(include_children=False)
    del result
    return after - before


def relative_cost(subject, reference, op: Access, repeats: int) -> float:
    """Seconds of `subject` / seconds of `reference` for `op`, the two alternating in one process
    so that machine drift hits both alike. Below 1 the subject is faster."""
    seconds = [0.0, 0.0]
    for _ in range(repeats):
        for k, fw in enumerate((subject, reference)):
            start = time.perf_counter()
            op(fw)
            seconds[k] += time.perf_counter() - start
    return seconds[0] / seconds[1]


FORMATS = ["dicom", "nii.gz", "nii", "npy", "zarr-axial", "zarr-isotropic"]


def footprint(cache: dict, fmt: str) -> float:
    """Mean bytes on disk per volume of the cohort (file sizes, not allocated blocks), for a
    format in FORMATS or one of this commit's ingests (a key of INGESTS)."""
    if fmt == "dicom":
        total = cache["dicom_bytes"]
    elif fmt in cache["paths"]:
        total = sum(baseline_files.disk_bytes(p) for p in cache["paths"][fmt])
    else:
        suite.check(cache, fmt)
        total = baseline_files.disk_bytes(cache["uris"][fmt])
    return total / len(cache["subjects"])
