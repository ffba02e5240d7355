"""setup_cache of the partial-read and ingest benchmarks (benchmarks/access.py, ingest.py).

The cohort: the first ACCESS_SUBJECTS subjects of the dataset's training cohort (every volume the
same shape, so RadiObject keeps them in one collection; the full series differ in slice count and
would be split). This commit's RadiObject ingests it three times (DICOM with axial tiles, DICOM
with isotropic 64^3 tiles, NIfTI with isotropic tiles), each timed and measured on disk; the
commit-independent baseline files are made once per dataset (radibench.data.baselines). For the
ingests read as RADIOBJECT readers, how the stored voxels map onto the NIfTI files is detected
once, after the ingest (prepare.ingest.detect_mapping), and given to their adapters.
"""

from __future__ import annotations

from pathlib import Path

from radibench import suite
from radibench.data import baselines, store
from radibench.measure import reads
from radibench.measure.process import kept
from radibench.prepare import outcome
from radibench.prepare.ingest import detect_mapping, ingest_cohort, recorded_mapping

ACCESS_SUBJECTS = 2
TILINGS = ["axial", "isotropic"]
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
FORMATS = ["dicom", "nii.gz", "nii", "npy", "zarr-axial", "zarr-isotropic"]


def _family(name: str) -> str:
    return name.split("-")[0]


def prepare(cache_dir: Path | None = None) -> dict:
    """Baseline files (cached once per dataset) and this commit's three ingests of the cohort."""
    cache_dir = Path(cache_dir or Path.cwd())
    data = suite.dataset()
    subjects = data.subjects[:ACCESS_SUBJECTS]
    files = baselines.ensure(data, subjects)
    cache = {
        "dataset": data.name,
        "shape": list(data.train_shape),
        "subjects": [s.id for s in subjects],
        "paths": {
            "nii.gz": [str(s.train_nifti) for s in subjects],
            "nii": [str(f.nii) for f in files],
            "npy": [str(f.npy) for f in files],
            **{f"zarr-{c}": [str(f.zarr(c)) for f in files] for c in baselines.ZARR_CHUNKS},
        },
        "dicom_bytes": sum(store.disk_bytes(s.train_dicom_dir) for s in subjects),
        "uris": {},
        "mappings": {},
        "ingest_seconds": {},
        "problems": {},
    }
    problems = cache["problems"]
    outcome.deselect(problems, [key for key, _, _ in INGESTS] + DECODERS + PARTIAL, _family)
    for key, source, tiling in INGESTS:
        if key in problems:
            continue
        uri = str(cache_dir / key)
        seconds = ingest_cohort(problems, key, uri, subjects, source, tiling)
        if seconds is not None:
            cache["ingest_seconds"][key] = seconds
            cache["uris"][key] = uri
            if key in RADIOBJECT:
                found = detect_mapping(problems, key, uri, subjects[0].train_nifti)
                cache["mappings"][key] = found.to_json() if found else None
    return cache


def reader(cache: dict, name: str):
    """The adapter `name` over the cohort, or what asv should show (n/a, failed)."""
    from radibench.frameworks import baselines as baseline_readers
    from radibench.frameworks import monai, torchio
    from radibench.frameworks.radiobject import RadiObject

    outcome.check(cache, name)
    if name in cache["uris"]:
        # Not import_modules(): that imports radiobject.ml (and so MONAI and TorchIO, ~2.6 s),
        # which a user reading volumes does not.
        mapping = recorded_mapping(cache["mappings"].get(name))
        return RadiObject(cache["uris"][name], mapping, cache["paths"]["nii.gz"])
    classes = {
        "monai": monai.Monai,
        "torchio": torchio.Torchio,
        **{cls.name: cls for cls in baseline_readers.BASELINES},
    }
    fw = classes[name](cache["paths"][SOURCES[name]])
    fw.import_modules()
    return fw


def opened(cache: dict, name: str, read: reads.Read):
    """The reader `name`, opened and warmed by one `read` of the warm-up volume, once per process
    (asv re-runs setup before every sample; a user keeps a handle open too)."""

    def open_and_warm():
        fw = reader(cache, name)
        reads.warm(fw, read)
        return fw

    return kept(("reader", name), open_and_warm)


def files_of(cache: dict, name: str) -> list[Path]:
    """Every file the reader `name` reads from (for cache eviction)."""
    roots = cache["uris"][name] if name in cache["uris"] else cache["paths"][SOURCES[name]]
    roots = [roots] if isinstance(roots, str) else roots
    out = []
    for root in map(Path, roots):
        out += [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
    return out


def footprint(cache: dict, fmt: str) -> float:
    """Mean bytes on disk per volume of the cohort (file sizes, not allocated blocks), for a
    format in FORMATS or one of this commit's ingests (a key of INGESTS)."""
    if fmt == "dicom":
        total = cache["dicom_bytes"]
    elif fmt in cache["paths"]:
        total = sum(store.disk_bytes(p) for p in cache["paths"][fmt])
    else:
        outcome.check(cache, fmt)
        total = store.disk_bytes(cache["uris"][fmt])
    return total / len(cache["subjects"])
