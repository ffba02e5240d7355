"""Reading a user's DICOM folder (for example a real LIDC-IDRI subset) into a dataset.

Everything is checked before any benchmark starts, so a bad folder fails in seconds with the file
or the series and the numbers named, instead of minutes later inside a framework: unreadable,
truncated or missing slices, mixed series, and cohorts the suite cannot benchmark honestly
(fewer series than a batch, volumes smaller than a patch, mixed in-plane sizes).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np

from radibench.data.store import DatasetError, sha256

NOT_DICOM_SUFFIXES = {".xml", ".txt", ".json", ".csv", ".md", ".zip", ".nii", ".gz"}


@dataclasses.dataclass(frozen=True)
class Series:
    subject_id: str  # the sub-folder of the source that holds the series
    patient_id: str  # the DICOM PatientID, recorded beside
    uid: str
    files: tuple[Path, ...]  # in slice order
    rows: int
    columns: int
    spacing: tuple[float, float, float]  # x (along a row), y, z in mm
    hu_range: tuple[float, float]  # smallest and largest value after rescale
    rescale: tuple[float, float] = (1.0, 0.0)  # RescaleSlope and RescaleIntercept, every slice

    @property
    def folder(self) -> Path:
        return self.files[0].parent


@dataclasses.dataclass(frozen=True)
class Cohort:
    """What the training comparison will read: every series cut to the same shape."""

    series: list[Series]
    train_slices: int
    rows: int
    columns: int

    @property
    def crop(self) -> bool:
        return any((s.rows, s.columns) != (self.rows, self.columns) for s in self.series)

    def describe(self) -> list[str]:
        """The cohort in a few lines, for the user to check before benchmarking."""
        low = min(s.hu_range[0] for s in self.series)
        high = max(s.hu_range[1] for s in self.series)
        spacings = sorted({"x".join(f"{v:g}" for v in s.spacing) for s in self.series})
        lines = [
            f"training cohort: {len(self.series)} subjects, each {self.columns}x{self.rows}x"
            f"{self.train_slices} voxels (x, y, z: the central {self.train_slices} slices"
            + (", cropped to the central rows and columns" if self.crop else "")
            + ")",
            f"spacing (mm): {', '.join(spacings)}; values after rescale: {low:g} to {high:g}",
            f"rescale: slope {self.series[0].rescale[0]:g}, intercept "
            f"{self.series[0].rescale[1]:g} (every series; HU = slope x stored + intercept)",
        ]
        lines += [
            f"  {s.subject_id} (PatientID {s.patient_id or '-'}): {s.columns}x{s.rows}x"
            f"{len(s.files)} in {s.folder.name}"
            for s in self.series
        ]
        return lines


def find_series(source: Path, progress=None) -> list[Series]:
    """Every CT series under `source`, validated; raises DatasetError naming what is wrong.
    A subject is named after the sub-folder of `source` that holds its series."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    source = Path(source)
    if not source.is_dir():
        raise DatasetError(f"{source}: not a folder")
    by_folder: dict[Path, list] = defaultdict(list)
    for folder, _, names in os.walk(source):
        for name in sorted(names):
            path = Path(folder) / name
            if path.suffix.lower() in NOT_DICOM_SUFFIXES or name.startswith("."):
                continue
            try:
                ds = pydicom.dcmread(path, stop_before_pixels=True)
            except (InvalidDicomError, EOFError, OSError, ValueError) as exc:
                raise DatasetError(f"{path}: not a readable DICOM file ({exc})") from exc
            if getattr(ds, "Modality", None) != "CT":
                continue  # LIDC folders also hold X-ray (CR/DX) series and SEG/SR objects
            by_folder[path.parent].append((path, ds))
    if not by_folder:
        raise DatasetError(f"{source}: no CT DICOM files found (checked every sub-folder)")

    series = []
    per_subject: dict[str, int] = defaultdict(int)
    for folder in progress_bar(sorted(by_folder), progress, "checking series", "series"):
        items = by_folder[folder]
        uids = {str(ds.SeriesInstanceUID) for _, ds in items}
        if len(uids) > 1:
            raise DatasetError(
                f"{folder}: mixed series ({len(uids)} SeriesInstanceUIDs in one folder); "
                "put each series in its own folder"
            )
        items.sort(key=lambda item: float(item[1].ImagePositionPatient[2]))
        z_step, hu_range, rescale = _check_slices(folder, items)
        relative = folder.relative_to(source).parts
        subject = relative[0] if relative else source.name
        per_subject[subject] += 1
        if per_subject[subject] > 1:
            subject = f"{subject}-{per_subject[subject]}"
        first = items[0][1]
        row_mm, column_mm = (float(v) for v in getattr(first, "PixelSpacing", (1.0, 1.0)))
        series.append(
            Series(
                subject_id=subject,
                patient_id=str(getattr(first, "PatientID", "") or ""),
                uid=uids.pop(),
                files=tuple(p for p, _ in items),
                rows=int(first.Rows),
                columns=int(first.Columns),
                spacing=(column_mm, row_mm, round(z_step, 4)),
                hu_range=hu_range,
                rescale=rescale,
            )
        )
    return series


def plan_cohort(
    source: Path,
    series: list[Series],
    train_slices: int | None,
    batch_size: int,
    patch: tuple[int, int, int],
    crop: bool = False,
) -> Cohort:
    """The training cohort, or DatasetError for one the suite cannot benchmark honestly."""
    if len(series) < batch_size:
        raise DatasetError(
            f"{source}: {len(series)} CT series ({', '.join(s.subject_id for s in series)}), "
            f"fewer than the batch size {batch_size}: the training loaders drop the incomplete "
            f"last batch, so an epoch would give none; add series until there are {batch_size}"
        )
    sizes: dict[tuple[int, int], list[str]] = defaultdict(list)
    for s in series:
        sizes[(s.rows, s.columns)].append(s.subject_id)
    if len(sizes) > 1 and not crop:
        listed = "; ".join(f"{r}x{c}: {', '.join(ids)}" for (r, c), ids in sorted(sizes.items()))
        raise DatasetError(
            f"{source}: series of different in-plane sizes (rows x columns: {listed}). "
            "RadiObject keeps one shape per collection and every framework must read the same "
            "voxels: pass --crop to cut every series to the central "
            f"{min(r for r, _ in sizes)}x{min(c for _, c in sizes)}, or remove the odd series"
        )
    rescales: dict[tuple[float, float], list[str]] = defaultdict(list)
    for s in series:
        rescales[s.rescale].append(s.subject_id)
    if len(rescales) > 1:
        listed = _by_rescale(rescales, ", ".join)
        raise DatasetError(
            f"{source}: series with different rescales ({listed}). RadiObject keeps the stored "
            "values and the suite maps them to HU with one mapping per cohort, found from its "
            "first series: import series that share RescaleSlope and RescaleIntercept, or "
            "remove the odd ones"
        )
    rows, columns = min(s.rows for s in series), min(s.columns for s in series)
    shortest = min(series, key=lambda s: len(s.files))
    slices = len(shortest.files)
    if train_slices is not None and train_slices > slices:
        raise DatasetError(
            f"--train-slices {train_slices}: the shortest series ({shortest.subject_id}, "
            f"{shortest.folder}) has {slices} slices; choose at most {slices}"
        )
    train = train_slices or slices
    shape = "x".join(map(str, patch))
    if min(columns, rows) < min(patch[:2]):
        raise DatasetError(
            f"{source}: the series are {columns}x{rows} in-plane, smaller than the {shape} "
            "training patch: loaders would pad or fail, measuring other voxels than a patch"
        )
    if train < patch[2]:
        which = (
            f"--train-slices {train}"
            if train_slices
            else f"the shortest series ({shortest.subject_id}, {shortest.folder}) has {slices}"
        )
        raise DatasetError(
            f"{which} slices, fewer than the {patch[2]} of a {shape} training patch: loaders "
            "would pad or fail, measuring other voxels than a patch"
        )
    return Cohort(series, train, rows, columns)


def _check_slices(folder: Path, items) -> tuple[float, tuple[float, float], tuple[float, float]]:
    """Pixel data complete in every file, one geometry, one rescale (RadiObject keeps the stored
    values: a rescale that changes from slice to slice has no one mapping to HU), no gap in
    slice positions; returns the slice step (mm), the range of values after rescale and the
    rescale (slope, intercept)."""
    import pydicom

    if len(items) < 2:
        raise DatasetError(f"{folder}: a single slice is not a volume")
    first = items[0][1]
    low, high = np.inf, -np.inf
    rescales: dict[tuple[float, float], list[str]] = defaultdict(list)
    for path, ds in items:
        if (ds.Rows, ds.Columns) != (first.Rows, first.Columns):
            raise DatasetError(
                f"{path}: {ds.Rows}x{ds.Columns} slice in a {first.Rows}x{first.Columns} series"
            )
        full = pydicom.dcmread(path)
        expected = ds.Rows * ds.Columns * ds.BitsAllocated // 8
        data = full.get("PixelData")
        if data is None or len(data) < expected:
            got = 0 if data is None else len(data)
            raise DatasetError(f"{path}: pixel data truncated ({got} of {expected} bytes)")
        pixels = full.pixel_array
        slope = float(getattr(full, "RescaleSlope", 1) or 1)
        intercept = float(getattr(full, "RescaleIntercept", 0) or 0)
        rescales[(slope, intercept)].append(path.name)
        low = min(low, float(pixels.min()) * slope + intercept)
        high = max(high, float(pixels.max()) * slope + intercept)
    if len(rescales) > 1:
        listed = _by_rescale(rescales, lambda names: f"{len(names)} slices (first {names[0]})")
        raise DatasetError(
            f"{folder}: the rescale changes from slice to slice ({listed}). RadiObject keeps "
            "the stored values, so no one mapping turns its voxels into the HU the other "
            "frameworks read: import series with one RescaleSlope and RescaleIntercept"
        )
    z = np.array([float(ds.ImagePositionPatient[2]) for _, ds in items])
    steps = np.diff(z)
    if np.any(steps == 0):
        k = int(np.argmin(steps))
        raise DatasetError(f"{items[k + 1][0]}: duplicate slice position z={z[k + 1]}")
    typical = float(np.median(steps))
    gaps = np.nonzero(steps > typical * 1.5)[0]
    if gaps.size:
        k = int(gaps[0])
        raise DatasetError(
            f"{folder}: missing slice between {items[k][0].name} (z={z[k]:g}) and "
            f"{items[k + 1][0].name} (z={z[k + 1]:g}); slices are {typical:g} mm apart elsewhere"
        )
    return typical, (low, high), next(iter(rescales))


def _by_rescale(groups: dict[tuple[float, float], list[str]], show) -> str:
    """Groups of slices or series by (RescaleSlope, RescaleIntercept), for an error message."""
    return "; ".join(
        f"slope {slope:g}, intercept {intercept:g}: {show(names)}"
        for (slope, intercept), names in sorted(groups.items())
    )


def fingerprint(series: list[Series]) -> str:
    """Changes when any file is added, removed, resized or touched."""
    h = hashlib.sha256()
    for s in series:
        for f in s.files:
            st = f.stat()
            h.update(f"{f}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def source_checksums(source: Path, series: list[Series]) -> dict[str, str]:
    """sha256 of every file of the cohort, by its path relative to `source`."""
    return {str(f.relative_to(source)): sha256(f) for s in series for f in s.files}


def changed_files(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """The files (relative paths) edited, added or removed between two source_checksums."""
    return sorted(f for f in old.keys() | new.keys() if old.get(f) != new.get(f))


def copy_series(cohort: Cohort):
    """(subject id, writer) pairs for the dataset builder. The user's files are copied (cropped
    in-plane to the cohort's size if asked), never linked or modified, so a later edit of theirs
    cannot change a dataset that results were measured on."""
    for s in cohort.series:

        def write(folder: Path, files=s.files, rows=cohort.rows, columns=cohort.columns):
            folder.mkdir(parents=True, exist_ok=True)
            out = []
            for n, f in enumerate(files, start=1):
                target = folder / f"{n:04d}.dcm"
                if cohort.crop:
                    _write_cropped(f, target, rows, columns)
                else:
                    shutil.copy2(f, target)
                out.append(target)
            return out

        yield s.subject_id, write


def _write_cropped(path: Path, target: Path, rows: int, columns: int) -> None:
    """The central rows x columns of a slice, its position moved to the new first pixel."""
    import pydicom
    from pydicom.uid import ExplicitVRLittleEndian

    ds = pydicom.dcmread(path)
    pixels = ds.pixel_array
    r0, c0 = (ds.Rows - rows) // 2, (ds.Columns - columns) // 2
    orientation = np.array([float(v) for v in ds.ImageOrientationPatient])
    row_mm, column_mm = (float(v) for v in ds.PixelSpacing)
    # ImageOrientationPatient: the direction along a row (columns grow), then along a column.
    moved = np.array([float(v) for v in ds.ImagePositionPatient])
    moved += c0 * column_mm * orientation[:3] + r0 * row_mm * orientation[3:]
    ds.PixelData = np.ascontiguousarray(pixels[r0 : r0 + rows, c0 : c0 + columns]).tobytes()
    ds.Rows, ds.Columns = rows, columns
    ds.ImagePositionPatient = [f"{v:.6g}" for v in moved]
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.save_as(target, enforce_file_format=True)


def progress_bar(items, progress, what: str, unit: str):
    """A progress bar with time left (tqdm, on stderr) when progress goes to the terminal
    (progress None); the items as they are when it is silenced or sent elsewhere."""
    if progress is not None:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=f"radibench data: {what}", unit=unit)
