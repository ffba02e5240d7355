"""A deterministic chest-CT-like phantom written as a DICOM series, shaped like LIDC-IDRI.

Content matters for I/O benchmarks: compression ratios and decode times of constant or pure-noise
volumes are unlike a real CT. The phantom has air, a body outline, two lungs that grow and shrink
along the series, a heart, a spine, ribs, a few nodules and scanner noise, in Hounsfield units.

Stored as most scanners do: unsigned 16-bit with 12 bits stored and RescaleIntercept -1024
(signed storage would make SimpleITK return int32).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

INTERCEPT = -1024
MANUFACTURER = "radibench synthetic phantom"


def phantom_slice(x, y, t: float, nodules, rng) -> np.ndarray:
    """HU values of one axial slice. x, y: normalised grids in [-1, 1]; t: 0 (top) .. 1 (bottom)."""
    hu = np.full(x.shape, -1000.0, dtype=np.float32)
    body = (x / 0.86) ** 2 + ((y - 0.05) / 0.62) ** 2 <= 1.0
    hu[body] = -80.0  # fat
    muscle = (x / 0.78) ** 2 + ((y - 0.05) / 0.54) ** 2 <= 1.0
    hu[muscle] = 45.0
    lung_size = max(0.0, np.sin(np.pi * np.clip((t - 0.05) / 0.85, 0, 1))) ** 0.6
    if lung_size > 0.05:
        for side in (-1, 1):
            lung = ((x - side * 0.36) / (0.28 * lung_size)) ** 2 + (
                (y + 0.02) / (0.40 * lung_size)
            ) ** 2 <= 1.0
            hu[lung] = -860.0
    if 0.25 < t < 0.75:
        heart = ((x + 0.08) / 0.22) ** 2 + ((y + 0.05) / 0.20) ** 2 <= 1.0
        hu[heart] = 38.0
    spine = (x / 0.09) ** 2 + ((y - 0.42) / 0.09) ** 2 <= 1.0
    hu[spine] = 700.0
    marrow = (x / 0.05) ** 2 + ((y - 0.42) / 0.05) ** 2 <= 1.0
    hu[marrow] = 250.0
    angle = np.arctan2(y - 0.05, x)
    radius = np.sqrt((x / 0.82) ** 2 + ((y - 0.05) / 0.58) ** 2)
    rib_phase = np.cos(12 * angle + 6 * np.pi * t)
    hu[(np.abs(radius - 1.0) < 0.03) & (rib_phase > 0.6) & body] = 800.0
    for cx, cy, cz, r in nodules:
        d2 = (x - cx) ** 2 + (y - cy) ** 2 + (t - cz) ** 2 * 4
        hu[d2 <= r * r] = 30.0
    hu += rng.normal(0.0, 18.0, size=x.shape).astype(np.float32)
    return hu


def write_series(folder: Path, subject_id: str, seed: int, rows: int, columns: int, slices: int):
    """Write one CT series; returns the files, in slice order."""
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    rng = np.random.default_rng(seed)
    pixel_spacing = round(float(rng.uniform(0.55, 0.85)), 4)
    thickness = float(rng.choice([1.25, 2.0, 2.5]))
    nodules = [
        (
            float(rng.choice([-1, 1]) * rng.uniform(0.25, 0.45)),
            float(rng.uniform(-0.2, 0.2)),
            float(rng.uniform(0.3, 0.7)),
            float(rng.uniform(0.02, 0.05)),
        )
        for _ in range(int(rng.integers(2, 6)))
    ]
    y, x = np.mgrid[-1 : 1 : rows * 1j, -1 : 1 : columns * 1j].astype(np.float32)
    study_uid = generate_uid(entropy_srcs=[subject_id, "study"])
    series_uid = generate_uid(entropy_srcs=[subject_id, "series"])
    frame_uid = generate_uid(entropy_srcs=[subject_id, "frame"])

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for k in range(slices):
        hu = phantom_slice(x, y, k / max(slices - 1, 1), nodules, rng)
        stored = np.clip(np.rint(hu) - INTERCEPT, 0, 4095).astype(np.uint16)
        sop_uid = generate_uid(entropy_srcs=[subject_id, "slice", str(k)])

        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = sop_uid
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = pydicom.Dataset()
        ds.file_meta = meta
        ds.SOPClassUID = CTImageStorage
        ds.SOPInstanceUID = sop_uid
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.FrameOfReferenceUID = frame_uid
        ds.Modality = "CT"
        ds.Manufacturer = MANUFACTURER
        ds.PatientID = subject_id
        ds.PatientName = subject_id
        ds.StudyDate = "20000101"
        ds.SeriesDescription = "synthetic chest CT"
        ds.SeriesNumber = 1
        ds.InstanceNumber = k + 1
        ds.KVP = 120
        ds.SliceThickness = thickness
        ds.PixelSpacing = [pixel_spacing, pixel_spacing]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        z = round(-k * thickness, 3)
        ds.ImagePositionPatient = [
            round(-columns * pixel_spacing / 2, 3),
            round(-rows * pixel_spacing / 2, 3),
            z,
        ]
        ds.SliceLocation = z
        ds.Rows, ds.Columns = rows, columns
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
        ds.PixelRepresentation = 0
        ds.RescaleIntercept = INTERCEPT
        ds.RescaleSlope = 1
        ds.RescaleType = "HU"
        ds.WindowCenter, ds.WindowWidth = -600, 1500
        ds.PixelData = stored.tobytes()
        path = folder / f"{k + 1:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        files.append(path)
    return files
