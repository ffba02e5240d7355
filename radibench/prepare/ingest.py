"""This commit's RadiObject ingesting the dataset's training cohort: the work that depends on
the commit, done in setup_cache, timed, and recorded as n/a or failed when it cannot be done;
then, untimed, how the stored voxels relate to the NIfTI files the peers read (detect_mapping)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from importlib import metadata
from pathlib import Path

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


INGEST_CACHE_ENV = "RADIBENCH_INGEST_CACHE"


def installed_code_digest(distribution: str = "radiobject") -> str:
    """sha256 of the installed distribution's RECORD, which lists every installed file with its
    own hash: two installs share it only when their code is byte-identical."""
    record = metadata.distribution(distribution).read_text("RECORD") or ""
    return hashlib.sha256(record.encode()).hexdigest()


def reused_or_ingested(problems: dict, key: str, uri: str, dataset, tiling="isotropic"):
    """(uri, seconds) of the training cohort's DICOM ingest (ingest_cohort). With
    RADIBENCH_INGEST_CACHE set, a store this very code made of this very dataset is read from
    there instead of ingesting again: the pull-request check and the precision study run
    setup_cache once per round of `asv continuous`, and the ingest (~40 s on the default
    profile) would dominate them. The seconds are then those of the ingest that made the store.
    A store is complete once its ingest.json exists; an incomplete one is made again."""
    root = os.environ.get(INGEST_CACHE_ENV)
    if not root:
        return uri, ingest_cohort(problems, key, uri, dataset.subjects, tiling=tiling)
    if not Path(root).is_absolute():  # setup_cache runs in a temporary folder
        raise ValueError(f"{INGEST_CACHE_ENV} must be an absolute path, not {root!r}")
    ids = [s.id for s in dataset.subjects]
    key_text = json.dumps([installed_code_digest(), dataset.name, ids, "dicom", tiling])
    target = Path(root) / f"{dataset.name}-{hashlib.sha256(key_text.encode()).hexdigest()[:16]}"
    record = target / "ingest.json"
    if record.exists():
        return str(target / "store"), json.loads(record.read_text())["seconds"]
    shutil.rmtree(target, ignore_errors=True)  # an ingest that did not finish
    target.mkdir(parents=True)
    seconds = ingest_cohort(problems, key, str(target / "store"), dataset.subjects, tiling=tiling)
    if seconds is None:
        shutil.rmtree(target, ignore_errors=True)
        return uri, None
    record.write_text(json.dumps({"seconds": seconds, "key": json.loads(key_text)}))
    return str(target / "store"), seconds


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
