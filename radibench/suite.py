"""What the asv benchmarks share: profile choice, the per-commit preparation and its results.

Benchmarks stay thin and call these. Everything that does not depend on the RadiObject commit
(the dataset) comes from radibench.datasets' cache; what does (the ingest) happens here, inside
asv's setup_cache, in the temporary folder asv gives it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from radibench import datasets, measure
from radibench.frameworks import radiobject as radiobject_api

PROFILE_ENV = "RADIBENCH_PROFILE"
DATASET_ENV = "RADIBENCH_DATASET"
# Comma-separated frameworks to measure; the others show n/a. A RadiObject pull request needs
# only `radiobject`: the peers do not change with RadiObject's commits.
FRAMEWORKS_ENV = "RADIBENCH_FRAMEWORKS"
# What a pull request is gated on (`asv continuous -b`): the warm-batch timing (400 samples) and
# the noise-free bytes read. Not the throughput: one 20-batch run per round, it moved by up to 15%
# between identical commits in the precision study (docs/precision.md). pr-check.yml uses the
# same regex, with the factor that study chose.
GATED = r"loaders\.WarmBatch\.time_warm_batch|loaders\.BytesRead\.track_bytes_per_batch"
GATE_FACTOR = "1.08"
# asv does not time imports it cannot see; this one is slow only the first time.
SETUP_CACHE_TIMEOUT = 3600


def profile_name() -> str:
    """The dataset the suite runs on: an imported folder, or a generated profile."""
    if os.environ.get(DATASET_ENV):
        return "custom"
    return os.environ.get(PROFILE_ENV, "default")


def version(tag: str) -> str:
    """A benchmark version that changes with the profile, so results of different data never
    land in one series (asv discards results whose version differs from the benchmark's)."""
    return f"{tag}-{profile_name()}"


def selected(framework: str) -> bool:
    chosen = os.environ.get(FRAMEWORKS_ENV, "").strip()
    return not chosen or framework in {f.strip() for f in chosen.split(",")}


def dataset() -> datasets.Dataset:
    custom = os.environ.get(DATASET_ENV)
    if custom:
        return datasets.Dataset.open(Path(custom))
    return datasets.ensure_dataset(profile_name())


def prepare_training(frameworks, tiling: str = "isotropic", num_workers: int = 0) -> dict:
    """setup_cache of the loader benchmarks: dataset, this commit's ingest, and the protocol
    run once per framework, each in a fresh process. Errors are kept per framework, so a commit
    whose RadiObject fails still measures its peers (and shows RadiObject as failed or n/a)."""
    data = dataset()
    subjects = data.subjects
    cache = {
        "dataset": data.name,
        "niftis": [str(s.train_nifti) for s in subjects],
        "radiobject_uri": None,
        "protocol": {},
        "problems": {},
    }
    for name in frameworks:
        if not selected(name):
            cache["problems"][name] = ("n/a", f"not in {FRAMEWORKS_ENV}")
    uri = str(Path.cwd() / "radiobject-train")
    start = time.perf_counter()
    try:
        if "radiobject" in cache["problems"]:
            raise NotImplementedError(cache["problems"]["radiobject"][1])
        radiobject_api.ingest_dicoms(uri, [(s.train_dicom_dir, s.id) for s in subjects], tiling)
    except NotImplementedError as exc:
        cache["problems"]["radiobject"] = ("n/a", str(exc))
    except Exception as exc:  # a real failure of this commit: shown as failed, never hidden
        cache["problems"]["radiobject"] = ("failed", f"ingest failed: {exc!r}")
    else:
        cache["radiobject_uri"] = uri
        cache["ingest_seconds"] = time.perf_counter() - start
    for name in frameworks:
        if name in cache["problems"]:
            continue
        try:
            result = measure.run_protocol_in_subprocess(
                name, cache["niftis"], cache["radiobject_uri"], num_workers=num_workers
            )
        except Exception as exc:  # fails this framework's protocol metrics, nothing else
            result = {"failed": str(exc)}
        cache["protocol"][name] = result
    return cache


def check(cache: dict, framework: str) -> None:
    """Raise what asv should show for a framework this commit cannot measure."""
    kind, message = cache["problems"].get(framework, (None, None))
    if kind == "n/a":
        raise NotImplementedError(message)
    if kind == "failed":
        raise RuntimeError(message)


def adapter(cache: dict, framework: str):
    from radibench import frameworks

    check(cache, framework)
    fw = frameworks.make(framework, cache["niftis"], cache["radiobject_uri"])
    fw.import_modules()
    return fw


def protocol(cache: dict, framework: str) -> dict:
    check(cache, framework)
    result = cache["protocol"][framework]
    if "unavailable" in result:
        raise NotImplementedError(result["unavailable"])
    if "failed" in result:
        raise RuntimeError(result["failed"])
    return result
