"""What the whole asv suite shares: which data it runs on, which frameworks, benchmark
versions, and what a pull request is gated on. Read by the benchmarks and by the tools."""

from __future__ import annotations

import os
from pathlib import Path

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


def dataset():
    """The dataset to benchmark: RADIBENCH_DATASET, else the profile's (generated once)."""
    from radibench.data import datasets

    custom = os.environ.get(DATASET_ENV)
    if custom:
        return datasets.Dataset.open(Path(custom))
    return datasets.ensure_dataset(profile_name())
