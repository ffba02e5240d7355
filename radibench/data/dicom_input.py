"""Reading a user's DICOM folder (for example a real LIDC-IDRI subset) into a dataset.

Everything is checked before any benchmark starts, so a bad folder fails in seconds with the file
and the problem named, instead of minutes later inside a framework.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np

from radibench.data.store import DatasetError

NOT_DICOM_SUFFIXES = {".xml", ".txt", ".json", ".csv", ".md", ".zip", ".nii", ".gz"}


@dataclasses.dataclass(frozen=True)
class Series:
    subject_id: str
    uid: str
    files: tuple[Path, ...]  # in slice order


def find_series(source: Path) -> list[Series]:
    """Every CT series under `source`, validated; raises DatasetError naming what is wrong."""
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
    for folder in sorted(by_folder):
        items = by_folder[folder]
        uids = {str(ds.SeriesInstanceUID) for _, ds in items}
        if len(uids) > 1:
            raise DatasetError(
                f"{folder}: mixed series ({len(uids)} SeriesInstanceUIDs in one folder); "
                "put each series in its own folder"
            )
        items.sort(key=lambda item: float(item[1].ImagePositionPatient[2]))
        _check_slices(folder, items)
        subject = str(getattr(items[0][1], "PatientID", "") or folder.name)
        per_subject[subject] += 1
        if per_subject[subject] > 1:
            subject = f"{subject}-{per_subject[subject]}"
        series.append(Series(subject, uids.pop(), tuple(p for p, _ in items)))
    return series


def _check_slices(folder: Path, items) -> None:
    """Pixel data complete in every file, one geometry, and no gap in slice positions."""
    import pydicom

    if len(items) < 2:
        raise DatasetError(f"{folder}: a single slice is not a volume")
    first = items[0][1]
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


def fingerprint(series: list[Series]) -> str:
    """Changes when any file is added, removed, resized or touched."""
    h = hashlib.sha256()
    for s in series:
        for f in s.files:
            st = f.stat()
            h.update(f"{f}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def link_series(series: list[Series]):
    """(subject id, writer) pairs for the dataset builder: hard links, or copies across file
    systems."""
    for s in series:

        def write(folder: Path, files=s.files):
            folder.mkdir(parents=True, exist_ok=True)
            out = []
            for n, f in enumerate(files, start=1):
                target = folder / f"{n:04d}.dcm"
                try:
                    os.link(f, target)
                except OSError:
                    shutil.copy2(f, target)
                out.append(target)
            return out

        yield s.subject_id, write
