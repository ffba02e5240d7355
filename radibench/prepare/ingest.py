"""This commit's RadiObject ingesting the dataset's training cohort: the work that depends on
the commit, done in setup_cache, timed, and recorded as n/a or failed when it cannot be done;
then, untimed, how the stored voxels relate to the NIfTI files the peers read (detect_mapping)."""

from __future__ import annotations

import time

from radibench.frameworks import radiobject as radiobject_api
from radibench.frameworks.mapping import ValueMapping
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


def detect_mapping(problems: dict, key: str, uri: str, nifti) -> ValueMapping | None:
    """How the voxels ingested at `uri` relate to the NIfTI files: its volume 0 (to_numpy)
    against `nifti`, the same subject's training NIfTI (nibabel), once per ingest, right after
    it and never in a timed call. None with the problem recorded under `key` when it cannot be
    found: a stored volume that no flip and offset map onto the NIfTI is a real finding (failed,
    with what was seen), not something to time anyway."""
    found = []

    def detect():
        found.append(radiobject_api.RadiObject(uri, niftis=[nifti]).mapping)

    if outcome.attempt(problems, key, detect, "detecting how the stored voxels map to the NIfTI"):
        return found[0]
    return None


def recorded_mapping(data: dict | None) -> ValueMapping | None:
    """The mapping detect_mapping found, from its JSON form in a cache (None stays None)."""
    return ValueMapping.from_json(data) if data else None
