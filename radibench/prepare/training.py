"""setup_cache of the training-loader benchmarks (benchmarks/loaders.py, scaling.py).

The dataset's training cohort is ingested once per commit, then the study's protocol runs per
framework and worker count in several fresh interpreters (radibench.measure.runner, 5 by
default), interleaved (A B A B), so the batches are paid once per commit, the track_ benchmarks
read their numbers from the cache, and each timing reaches asv as one sample per process: asv
stores their median with its 99% interval, so the history's graphs carry process-level
intervals (one process differs from the next by up to 20% for identical code here).
Problems are kept per framework: a commit whose RadiObject fails still measures its peers.
"""

from __future__ import annotations

from pathlib import Path

from radibench import suite
from radibench.measure.protocol import TIMED_BATCHES, WARMUP_BATCHES
from radibench.measure.runner import per_process, processes, run_in_fresh_process
from radibench.prepare import outcome
from radibench.prepare.ingest import detect_mapping, recorded_mapping, reused_or_ingested

# What varies from process to process and is summarised over them; the rest are the first run's.
TIMED = (
    "seconds_per_sample",
    "cold_start",
    "warm_batch",
    "epoch_seconds",
    "rss_delta",
    "peak_memory_hwm",
)


def prepare_training(
    frameworks,
    workers=(0,),
    warmup=WARMUP_BATCHES,
    timed=TIMED_BATCHES,
    cache_dir=None,
    rounds=None,
) -> dict:
    """The dataset, this commit's ingest (isotropic tiles), and `rounds` protocol runs (default:
    processes()) per (framework, worker count), each in a fresh process, interleaved; a key
    whose run fails is not run again."""
    rounds = processes() if rounds is None else rounds
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
    for _ in range(rounds):
        for name in frameworks:
            if name in problems:
                continue
            for n in workers:
                k = run_key(name, n)
                if k in problems:
                    continue
                run = run_in_fresh_process(
                    name,
                    cache["niftis"],
                    cache["radiobject_uri"],
                    n,
                    warmup,
                    timed,
                    mapping=mapping,
                )
                cache["runs"].setdefault(k, []).append(run)
                outcome.record(problems, k, run)
    return cache


def run_key(name: str, workers: int) -> str:
    """Where a configuration's runs and problem are kept: a framework (or a storage) and its
    worker count."""
    return f"{name}-{workers}"


def protocol(cache: dict, name: str, workers: int = 0) -> dict:
    """The protocol's numbers over its processes (a timing as asv's sample list, one per
    process; the high-water marks' exactness over all of them), or what asv should show.
    `name`: a framework, or a storage (radibench.prepare.storage.run_protocols)."""
    runs = _runs(cache, name, workers)
    combined = dict(runs[0])
    for name in TIMED:
        combined[name] = per_process([run[name] for run in runs])
    combined["hwm_unread"] = sum(run["hwm_unread"] for run in runs)
    combined["processes"] = len(runs)
    return combined


def relative_cost(cache: dict, name: str, reference: str, workers: int = 0) -> dict | float:
    """`name`'s seconds per sample over `reference`'s, round by round: prepare_training
    interleaves the frameworks (A B A B), so each ratio pairs two neighbouring processes and a
    drift of the machine hits both alike; one ratio per pair, as asv's samples. Below 1 `name`
    is faster."""
    pairs = zip(_runs(cache, name, workers), _runs(cache, reference, workers), strict=True)
    return per_process([a["seconds_per_sample"] / b["seconds_per_sample"] for a, b in pairs])


def _runs(cache: dict, name: str, workers: int) -> list[dict]:
    """A configuration's runs in the order they ran, or what asv should show."""
    k = run_key(name, workers)
    outcome.check(cache, name)
    outcome.check(cache, k)
    return [outcome.measured(run) for run in cache["runs"][k]]


def adapter(cache: dict, framework: str):
    """The framework's adapter over the cohort, its modules imported (cold start excludes
    them), or what asv should show."""
    from radibench import frameworks

    outcome.check(cache, framework)
    mapping = recorded_mapping(cache.get("mapping"))
    fw = frameworks.make(framework, cache["niftis"], cache["radiobject_uri"], mapping)
    fw.import_modules()
    return fw
