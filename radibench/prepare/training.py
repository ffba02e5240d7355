"""setup_cache of the training-loader benchmarks (benchmarks/loaders.py, scaling.py).

The dataset's training cohort is ingested once per commit, then the study's protocol runs once
per framework and worker count, each in a fresh interpreter (radibench.measure.runner), so the
batches are paid once per commit and the track_ benchmarks read their numbers from the cache.
Problems are kept per framework: a commit whose RadiObject fails still measures its peers.
"""

from __future__ import annotations

from pathlib import Path

from radibench import suite
from radibench.measure.protocol import TIMED_BATCHES, WARMUP_BATCHES
from radibench.measure.runner import run_in_fresh_process
from radibench.prepare import outcome
from radibench.prepare.ingest import detect_mapping, recorded_mapping, reused_or_ingested


def prepare_training(
    frameworks, workers=(0,), warmup=WARMUP_BATCHES, timed=TIMED_BATCHES, cache_dir=None
) -> dict:
    """The dataset, this commit's ingest (isotropic tiles), and one protocol run per
    (framework, worker count)."""
    data = suite.dataset()
    cache = {
        "dataset": data.name,
        "niftis": [str(s.train_nifti) for s in data.subjects],
        "radiobject_uri": None,
        "runs": {},
        "problems": {},
    }
    problems = cache["problems"]
    outcome.deselect(problems, frameworks)
    if "radiobject" in frameworks and "radiobject" not in problems:
        uri = str(Path(cache_dir or Path.cwd()) / "radiobject-train")
        uri, seconds = reused_or_ingested(problems, "radiobject", uri, data)
        if seconds is not None:
            cache.update(radiobject_uri=uri, ingest_seconds=seconds)
            # How the stored voxels relate to the NIfTI (detected, never assumed).
            found = detect_mapping(problems, "radiobject", uri, data.subjects[0].train_nifti)
            cache["mapping"] = found.to_json() if found else None
    mapping = recorded_mapping(cache.get("mapping"))
    for name in frameworks:
        if name in problems:
            continue
        for n in workers:
            cache["runs"][_key(name, n)] = run_in_fresh_process(
                name, cache["niftis"], cache["radiobject_uri"], n, warmup, timed, mapping=mapping
            )
    return cache


def _key(framework: str, workers: int) -> str:
    return f"{framework}-{workers}"


def protocol(cache: dict, framework: str, workers: int = 0) -> dict:
    """One protocol run's result, or what asv should show (n/a, failed)."""
    outcome.check(cache, framework)
    return outcome.measured(cache["runs"][_key(framework, workers)])


def adapter(cache: dict, framework: str):
    """The framework's adapter over the cohort, its modules imported (cold start excludes
    them), or what asv should show."""
    from radibench import frameworks

    outcome.check(cache, framework)
    mapping = recorded_mapping(cache.get("mapping"))
    fw = frameworks.make(framework, cache["niftis"], cache["radiobject_uri"], mapping)
    fw.import_modules()
    return fw
