"""What the whole asv suite shares: which data it runs on, which frameworks, benchmark
versions, and what a pull request is gated on. Read by the benchmarks and by the tools."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

PROFILE_ENV = "RADIBENCH_PROFILE"
DATASET_ENV = "RADIBENCH_DATASET"
# Comma-separated frameworks to measure; the others show n/a. A RadiObject pull request needs
# only `radiobject`: the peers do not change with RadiObject's commits.
FRAMEWORKS_ENV = "RADIBENCH_FRAMEWORKS"
# Comma-separated recipes of the recipe comparison to measure; the others show n/a. `make bench`
# names the ones its answer compares (radibench.frameworks.ANSWER); `make bench-all`, all.
RECIPES_ENV = "RADIBENCH_RECIPES"
# What a pull request is judged on, each metric at the factor its own run-to-run spread justifies
# (docs/precision.md): the counts that do not depend on noise (bytes, tiles, array opens, S3
# requests by kind through the counting proxy: exact; instructions: callgrind, within 0.2% run
# to run), judged by the factor alone, and the warm-batch wall time (asv's Mann-Whitney test and
# the factor), reported beside them but failing no check (ADVISORY). A count that was 0 at the
# base and is not at the head (a reader that starts writing, a first LIST) has no ratio ("n/a")
# but asv still marks it worse, and the gate fails it. Not the throughput: one 20-batch run per
# round, it moved by up to 15% between identical commits in an earlier study.
# pr-check.yml runs `asv continuous -b GATED`; `radibench gate` then judges each metric.
# The gated numbers are counts and asv's own samples of the warm batch; the study's protocol,
# which loaders' setup_cache runs too, is not gated: one process of it per commit is enough there.
GATE_PROCESSES = "1"  # RADIBENCH_PROCESSES in pr-check.yml
GATE_FACTOR = "1.18"  # wall time: one A/A comparison in 100 above it (docs/precision.md)
COUNT_FACTOR = "1.02"  # exact counts: any real change in bytes, tiles, opens or requests
# Instructions per batch: chosen on the precision study's A/A comparisons (the larger of their
# log-normal fit's one-in-10,000 point and twice their largest move, rounded up to 0.001) and
# checked on a second, disjoint set of fresh counts (docs/precision.md): a CPU-only regression
# of 1% of the wall time moves them by about 1.5%.
INSTRUCTIONS_FACTOR = "1.004"
# The worker path's instructions (every process, imports included): chosen the same way on its
# own A/A runs (docs/precision.md, "The worker path").
WORKER_PATH_FACTOR = "1.001"
GATES = {
    r"loaders\.WarmBatch\.time_warm_batch": GATE_FACTOR,
    r"loaders\.BytesRead\.track_bytes_per_batch": COUNT_FACTOR,
    r"counts\.PerBatch\.track_tiles_per_batch": COUNT_FACTOR,
    r"counts\.PerBatch\.track_array_opens_per_batch": COUNT_FACTOR,
    r"counts\.PerBatch\.track_instructions_per_batch": INSTRUCTIONS_FACTOR,
    r"counts\.WorkerPath\.track_instructions": WORKER_PATH_FACTOR,
    r"counts\.S3PerBatch\.track_get_requests_per_batch": COUNT_FACTOR,
    r"counts\.S3PerBatch\.track_head_requests_per_batch": COUNT_FACTOR,
    r"counts\.S3PerBatch\.track_list_requests_per_batch": COUNT_FACTOR,
    r"counts\.S3PerBatch\.track_other_requests_per_batch": COUNT_FACTOR,
}
# Reported in the verdict beside the counts, failing no check: a wall time compared with one
# process per commit (asv's rounds in one environment) is not yet a comparison whose unit is the
# process: its factor, fitted to 20 A/A comparisons, failed identical code once in three later
# tries (1.19 against 1.18).
ADVISORY = (r"loaders\.WarmBatch\.time_warm_batch",)
GATED = "|".join(GATES)
# What every commit of RadiObject's history is measured on (with RADIBENCH_FRAMEWORKS=radiobject):
# RadiObject's loaders, the counts per batch (S3 requests by kind: counts.S3PerBatch), ingest.
# Not counts.WorkerPath (about 5 minutes a commit under valgrind). Not storage's
# requests and bytes over every storage and worker count: 40% of a commit's time for what
# S3PerBatch and loaders.BytesRead count already. The whole suite (the peers, partial reads,
# recipes, storage) runs at the releases and the newest commit only (`radibench source
# --references`). docs/history.md, "Running the whole history"; nightly.yml.
HISTORY = (
    r"^(loaders\.(TrainingLoader|WarmBatch|ColdStart|Memory|BytesRead)\."
    r"|counts\.(PerBatch|S3PerBatch)\.|ingest\.)"
)
# What `make bench` measures at the newest commit: the recipe comparison (the answer it prints;
# with RADIBENCH_RECIPES naming RadiObject's recipes and each peer's best, frameworks.ANSWER) and
# RadiObject's exact counts per batch. `make bench-all` runs the rest too (the peers' study
# recipes, the study's loaders, cohorts, storage, access, ingest, scaling).
BENCH = r"^(recipes\.(Recipes|Correctness)\.|counts\.PerBatch\.)"
# asv does not time imports it cannot see; this one is slow only the first time.
SETUP_CACHE_TIMEOUT = 3600

# The benchmarks that count instead of timing: bytes, tiles, array opens, S3 requests,
# instructions, distinct patches, voxel mismatches, bytes on disk. Counted, so no machine noise
# and no interval; what the dashboard's legend calls counts. Nearly all are exact run to run;
# instructions differ by ~0.05% and S3 requests with DataLoader workers by a few (worker timing
# decides the prefetches). Everything else is a timing, a memory peak or a ratio of timings.
COUNTS = (
    r"^(counts\.|loaders\.BytesRead\.|ingest\.DiskSpace\.|recipes\.Correctness\."
    r"|storage\.S3VersusLocal\.track_(requests|bytes)_per_batch$)"
)
# The counts the gate stands on (GATES but the ADVISORY wall time): their history is the dashboard
# summary's table, a step being a change the gate would flag.
GATED_COUNTS = tuple(p for p in GATES if p not in ADVISORY)


# How a benchmark version ends: the dataset it measured (see dataset_id).
DATASET_ID = re.compile(r"-(?P<id>custom-[0-9a-f]+|custom(?:-unreadable)?|[a-z]+)$")


def profile_name() -> str:
    """The generated profile the suite runs on (when no imported dataset is named)."""
    return os.environ.get(PROFILE_ENV, "default")


def dataset_id() -> str:
    """Which data the suite measures: a generated profile's name (its spec is pinned by
    tests/test_data.py, so the name is its identity), or `custom-<digest>` for an imported
    folder, from the digest of its content and spec that names the dataset."""
    custom = os.environ.get(DATASET_ENV)
    if not custom:
        return profile_name()
    try:
        name = json.loads((Path(custom) / "manifest.json").read_text())["name"]
    except (OSError, ValueError, KeyError):
        return "custom-unreadable"  # setup_cache then fails, naming what is wrong
    return f"custom-{name.rsplit('-', 1)[-1]}"


def version(tag: str) -> str:
    """A benchmark version that names the dataset, so results of different data never land in
    one series (asv discards results whose version differs from the benchmark's)."""
    return f"{tag}-{dataset_id()}"


def selected(name: str, env: str = FRAMEWORKS_ENV) -> bool:
    """Whether the comma-separated list in `env` (unset: everything) names `name`."""
    chosen = os.environ.get(env, "").strip()
    return not chosen or name in {f.strip() for f in chosen.split(",")}


def dataset():
    """The dataset to benchmark: RADIBENCH_DATASET, else the profile's (generated once)."""
    from radibench.data import datasets

    custom = os.environ.get(DATASET_ENV)
    if custom:
        return datasets.Dataset.open(Path(custom))
    return datasets.ensure_dataset(profile_name())
