"""LIDC-like CT datasets: generated deterministically, or imported from a user's DICOM folder.

A dataset is a folder that does not depend on the RadiObject commit, so it is made once and
shared by every commit and asv environment:

    <data root>/<name>/
        manifest.json             spec, subjects, sha256 of every file (verified on use)
        dicom/<subject>/*.dcm     one CT series per subject (the original geometry)
        nifti/<subject>.nii.gz    the same series converted with SimpleITK, as the study did
        train/dicom/<subject>/    the central `train_slices` slices of each series (hard links)
        train/nifti/<subject>.nii.gz

RadiObject's training loader needs every volume of a collection to have the same shape, and
`from_dicoms` splits series of different shapes into separate collections. Real LIDC series
differ in slice count, so the training comparison uses the `train/` cohort: every subject cut to
the same number of central slices, given identically to every framework.

Generated data is append-only in spirit (numpy's rule): changing how a profile is generated
changes its spec hash and so its folder; never edit a profile in place.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from radibench import REPO_ROOT
from radibench.data import dicom_input, synthetic_ct
from radibench.data.store import (
    MANIFEST,
    DatasetError,
    build,
    check_free_disk,
    disk_bytes,
    locked,
    read_manifest,
)

GENERATOR_VERSION = 1


@dataclasses.dataclass(frozen=True)
class Profile:
    """How much synthetic CT to make. Slice counts are drawn per subject from `slices`."""

    name: str
    subjects: int
    rows: int
    columns: int
    slices: tuple[int, int]
    train_slices: int
    seed: int = 42

    def spec(self) -> dict:
        return {"generator": GENERATOR_VERSION, **dataclasses.asdict(self)}


PROFILES = {
    # Small enough for tests and CI; still 4 subjects so a batch of 4 exists.
    "quick": Profile("quick", subjects=4, rows=128, columns=128, slices=(72, 96), train_slices=72),
    # The study: 10 subjects, LIDC geometry (512x512 slices, 1.25-2.5 mm, 100-260 slices).
    "default": Profile(
        "default", subjects=10, rows=512, columns=512, slices=(100, 260), train_slices=96
    ),
    # For real hardware: 30 subjects of LIDC's longer series.
    "large": Profile(
        "large", subjects=30, rows=512, columns=512, slices=(120, 400), train_slices=128
    ),
}


@dataclasses.dataclass(frozen=True)
class Subject:
    id: str
    dicom_dir: Path
    nifti: Path
    train_dicom_dir: Path
    train_nifti: Path
    shape: tuple[int, int, int]  # (columns, rows, slices) = NIfTI (x, y, z)
    spacing: tuple[float, float, float]
    patient_id: str = ""  # an imported series' DICOM PatientID (its folder names the subject)


@dataclasses.dataclass(frozen=True)
class Dataset:
    root: Path
    name: str
    spec: dict
    subjects: tuple[Subject, ...]

    @property
    def train_shape(self) -> tuple[int, int, int]:
        x, y, _ = self.subjects[0].shape
        return (x, y, self.spec["train_slices"])

    @classmethod
    def open(cls, root: Path, verify: bool = True) -> Dataset:
        """Open a finished dataset; with `verify`, check every file against the manifest."""
        root = Path(root)
        manifest = read_manifest(root, verify)
        subjects = tuple(
            Subject(
                id=s["id"],
                dicom_dir=root / s["dicom_dir"],
                nifti=root / s["nifti"],
                train_dicom_dir=root / s["train_dicom_dir"],
                train_nifti=root / s["train_nifti"],
                shape=tuple(s["shape"]),
                spacing=tuple(s["spacing"]),
                patient_id=s.get("patient_id", ""),
            )
            for s in manifest["subjects"]
        )
        return cls(root=root, name=manifest["name"], spec=manifest["spec"], subjects=subjects)


def data_root() -> Path:
    """Where datasets live: $RADIBENCH_DATA, else .radibench/data beside this package."""
    env = os.environ.get("RADIBENCH_DATA")
    if env:
        return Path(env).expanduser().resolve()
    return REPO_ROOT / ".radibench" / "data"


def dataset_name(profile: Profile) -> str:
    digest = hashlib.sha256(json.dumps(profile.spec(), sort_keys=True).encode()).hexdigest()
    return f"{profile.name}-{digest[:10]}"


def ensure_dataset(profile: str | Profile, root: Path | None = None, progress=None) -> Dataset:
    """Return the generated dataset for `profile`, generating it once if missing or corrupt.

    Safe when several processes ask at once: one generates under a lock, the others wait.
    """
    if isinstance(profile, str):
        if profile not in PROFILES:
            raise DatasetError(f"unknown profile {profile!r}; choose from {sorted(PROFILES)}")
        profile = PROFILES[profile]
    root = Path(root) if root else data_root()
    target = root / dataset_name(profile)
    with locked(root, target.name):
        if (target / MANIFEST).is_file():
            try:
                return Dataset.open(target)
            except DatasetError as exc:
                _say(progress, f"cached dataset is damaged ({exc}); regenerating")
                shutil.rmtree(target)
        check_free_disk(root, estimated_bytes(profile))
        return _build(target, profile.spec(), _synthetic_series(profile), progress)


def import_dicom_dir(
    source: Path,
    *,
    batch_size: int,
    patch: tuple[int, int, int],
    train_slices: int | None = None,
    crop: bool = False,
    root=None,
    progress=None,
) -> Dataset:
    """Make a dataset from a user's DICOM folder: each sub-folder holding a CT series is a
    subject, named after that folder. Refused before anything is written (DatasetError) when
    the suite could not benchmark it honestly; the files are copied, never modified."""
    source = Path(source).resolve()
    series = dicom_input.find_series(source, progress)
    cohort = dicom_input.plan_cohort(source, series, train_slices, batch_size, patch, crop)
    for line in cohort.describe():
        _say(progress, line)
    spec = {
        "generator": GENERATOR_VERSION,
        "name": "dicom-dir",
        "source": str(source),
        "fingerprint": dicom_input.fingerprint(series),
        "train_slices": cohort.train_slices,
        "in_plane": [cohort.columns, cohort.rows],
    }
    root = Path(root) if root else data_root()
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
    target = root / f"dicom-dir-{digest[:10]}"
    with locked(root, target.name):
        if (target / MANIFEST).is_file():
            with contextlib.suppress(DatasetError):
                return Dataset.open(target)
            shutil.rmtree(target)
        checksums = dicom_input.source_checksums(source, series)
        _say_changes(root, source, checksums, progress)
        check_free_disk(root, 2 * sum(f.stat().st_size for s in series for f in s.files))
        extra = {
            "source_files": checksums,
            "patients": {s.subject_id: s.patient_id for s in series},
        }
        return _build(target, spec, dicom_input.copy_series(cohort), progress, extra)


def _say_changes(root: Path, source: Path, checksums: dict, progress) -> None:
    """Name the files that changed since an earlier import of the same folder."""
    for folder, manifest in _finished(root):
        if manifest["spec"].get("source") != str(source):
            continue
        changed = dicom_input.changed_files(manifest.get("source_files", {}), checksums)
        if changed:
            shown = ", ".join(changed[:5]) + (
                f" and {len(changed) - 5} more" if changed[5:] else ""
            )
            _say(
                progress,
                f"{source} changed since it was imported as {folder.name} ({len(changed)} "
                f"changed: {shown}); importing it as a new dataset. Results measured on "
                f"{folder.name} stay apart; remove it with `radibench data --remove "
                f"{folder.name}`",
            )


def _finished(root: Path):
    """(folder, manifest) of every finished dataset under `root`, without reading its files."""
    for folder in sorted(root.glob("*/")) if root.is_dir() else []:
        try:
            yield folder, read_manifest(folder, verify=False)
        except DatasetError:
            continue


def _footprint(root: Path, name: str) -> int:
    """Bytes on disk of a dataset and its baseline files."""
    baselines = root / f"{name}.baselines"
    return disk_bytes(root / name) + (disk_bytes(baselines) if baselines.is_dir() else 0)


def list_datasets(root: Path | None = None) -> list[dict]:
    """Every finished dataset under `root`: name, what it was made from, subjects, bytes on
    disk (its baseline files included)."""
    root = Path(root) if root else data_root()
    return [
        {
            "name": folder.name,
            "made_from": manifest["spec"].get("source") or f"profile {manifest['spec']['name']!r}",
            "subjects": len(manifest["subjects"]),
            "bytes": _footprint(root, folder.name),
            "manifest": manifest,
        }
        for folder, manifest in _finished(root)
    ]


def remove_dataset(name: str, root: Path | None = None) -> int:
    """Delete a cached dataset and its baseline files; the bytes freed."""
    root = Path(root) if root else data_root()
    names = [folder.name for folder, _ in _finished(root)]
    if name not in names:
        known = ", ".join(names) or "none"
        raise DatasetError(f"no dataset {name!r} in {root} (cached: {known})")
    with locked(root, name):
        freed = _footprint(root, name)
        shutil.rmtree(root / name)
        shutil.rmtree(root / f"{name}.baselines", ignore_errors=True)
    (root / f".{name}.lock").unlink(missing_ok=True)
    return freed


def estimated_bytes(profile: Profile) -> int:
    """Disk a profile needs: DICOM, gzipped NIfTI (~half) and the training cohort's NIfTI."""
    mean_slices = sum(profile.slices) / 2
    voxels = profile.subjects * profile.rows * profile.columns
    dicom = voxels * mean_slices * 2
    return int(dicom * 1.6 + voxels * profile.train_slices * 2)


# ----------------------------------------------------------------------------------------------
# Building


def _build(target: Path, spec: dict, series_writers, progress, extra=None) -> Dataset:
    """Write each series, convert it, then checksum and rename the folder into place."""
    started = time.monotonic()
    writers = list(series_writers)

    def fill(partial: Path) -> dict:
        subjects = []
        bar = dicom_input.progress_bar(writers, progress, "writing and converting", "subject")
        for subject_id, write_series in bar:
            files = write_series(partial / "dicom" / subject_id)
            subject = _convert_subject(partial, subject_id, files, spec["train_slices"])
            subject["patient_id"] = (extra or {}).get("patients", {}).get(subject_id, "")
            subjects.append(subject)
        return {
            "name": target.name,
            "spec": spec,
            "subjects": subjects,
            "seconds_to_build": round(time.monotonic() - started, 1),
            **{k: v for k, v in (extra or {}).items() if k != "patients"},
        }

    manifest = build(target, fill)
    _say(
        progress,
        f"dataset {target.name}: {len(manifest['subjects'])} subjects, "
        f"{manifest['bytes'] / 1e6:.0f} MB on disk",
    )
    return Dataset.open(target, verify=False)


def _convert_subject(root: Path, subject_id: str, files: list[Path], train_slices: int) -> dict:
    """NIfTI with SimpleITK, as the study did, for the full series and the training cohort."""
    import SimpleITK as sitk

    full = _read_series(files)
    nifti = root / "nifti" / f"{subject_id}.nii.gz"
    nifti.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(full, str(nifti), useCompression=True)

    ordered = _sort_by_position(files)
    start = (len(ordered) - train_slices) // 2
    train_dir = root / "train" / "dicom" / subject_id
    train_dir.mkdir(parents=True)
    train_files = []
    for f in ordered[start : start + train_slices]:
        os.link(f, train_dir / f.name)
        train_files.append(train_dir / f.name)
    train_nifti = root / "train" / "nifti" / f"{subject_id}.nii.gz"
    train_nifti.parent.mkdir(parents=True, exist_ok=True)
    write_nifti(train_files, train_nifti)
    return {
        "id": subject_id,
        "dicom_dir": str(files[0].parent.relative_to(root)),
        "nifti": str(nifti.relative_to(root)),
        "train_dicom_dir": str(train_dir.relative_to(root)),
        "train_nifti": str(train_nifti.relative_to(root)),
        "shape": list(full.GetSize()),
        "spacing": [round(s, 4) for s in full.GetSpacing()],
    }


def write_nifti(files: list[Path], target: Path) -> None:
    """A DICOM series as NIfTI with SimpleITK, as the study converted it: slices by position,
    gzip-compressed for a .nii.gz target, plain for .nii."""
    import SimpleITK as sitk

    compress = target.name.endswith(".gz")
    sitk.WriteImage(_read_series(files), str(target), useCompression=compress)


def _read_series(files: list[Path]):
    import SimpleITK as sitk

    reader = sitk.ImageSeriesReader()
    reader.SetFileNames([str(f) for f in _sort_by_position(files)])
    return reader.Execute()


def _sort_by_position(files: list[Path]) -> list[Path]:
    import pydicom

    def z(path: Path) -> float:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["ImagePositionPatient"])
        return float(ds.ImagePositionPatient[2])

    return sorted(files, key=z)


# ----------------------------------------------------------------------------------------------
# Synthetic LIDC-like CT


def _synthetic_series(profile: Profile) -> Iterator[tuple[str, object]]:
    """Yield (subject id, writer) pairs; each writer writes one CT series into a folder."""
    rng = np.random.default_rng(profile.seed)
    for i in range(profile.subjects):
        subject_seed = int(rng.integers(2**31))
        n_slices = int(rng.integers(profile.slices[0], profile.slices[1] + 1))
        subject_id = f"LIDC-SYN-{i + 1:04d}"

        def write(folder, seed=subject_seed, n=n_slices, sid=subject_id):
            return synthetic_ct.write_series(
                folder, sid, seed=seed, rows=profile.rows, columns=profile.columns, slices=n
            )

        yield subject_id, write


def _say(progress, message: str) -> None:
    if progress is None:
        print(f"radibench data: {message}", file=sys.stderr, flush=True)
    elif progress:
        progress(message)
