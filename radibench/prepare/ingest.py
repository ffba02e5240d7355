"""This commit's RadiObject ingesting the dataset's training cohort: the work that depends on
the commit, done in setup_cache, timed, and recorded as n/a or failed when it cannot be done."""

from __future__ import annotations

import time

from radibench.frameworks import radiobject as radiobject_api
from radibench.prepare import outcome


def ingest_cohort(
    problems: dict, key: str, uri: str, subjects, source: str = "dicom", tiling: str = "isotropic"
) -> float | None:
    """Ingest the subjects' training DICOM series (or NIfTI files) into `uri`; the seconds it
    took, or None with the problem recorded under `key`."""
    if source == "dicom":
        ingest, inputs = radiobject_api.ingest_dicoms, [(s.train_dicom_dir, s.id) for s in subjects]
    else:
        ingest, inputs = radiobject_api.ingest_niftis, [(s.train_nifti, s.id) for s in subjects]
    start = time.perf_counter()
    if outcome.attempt(problems, key, lambda: ingest(uri, inputs, tiling=tiling)):
        return time.perf_counter() - start
    return None
