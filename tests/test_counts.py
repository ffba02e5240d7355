"""S3 requests per batch by kind (counts.S3PerBatch), what the pull-request gate trusts at 1.02:
the same numbers on every run of the same code, counted after the warm-up, writes apart.

radiobject runs in subprocesses, as asv runs it: its S3 configuration is global state other
tests must not inherit, and each asv benchmark is a fresh process of its own.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from radibench.measure.counters import COUNTED_BATCHES, requests_per_batch, s3_requests
from radibench.tools.count_spread import spread

ROOT = Path(__file__).resolve().parent.parent
KINDS = ["GET", "HEAD", "LIST", "other"]
COMMIT = "c0ffee" + "0" * 34  # the commit a benchmark process is told it measures (asv's)
METHODS = {  # counts.S3PerBatch's benchmarks and the kind each returns
    "track_get_requests_per_batch": "GET",
    "track_head_requests_per_batch": "HEAD",
    "track_list_requests_per_batch": "LIST",
    "track_other_requests_per_batch": "other",
}

SETUP_CACHE = """
import pickle
from benchmarks.counts import S3PerBatch
pickle.dump(S3PerBatch().setup_cache(), open("cache.pickle", "wb"))
"""
BENCHMARK = """
import json, pickle, sys
from benchmarks.counts import S3PerBatch
cache = pickle.load(open(sys.argv[1], "rb"))
bench = S3PerBatch()
bench.setup(cache, "radiobject")
found = {name: getattr(bench, name)(cache, "radiobject") for name in json.loads(sys.argv[2])}
print("COUNTS", json.dumps(found))
"""
SPREAD = """
import json
from radibench.tools.count_spread import s3_request_spread
print("SPREAD", json.dumps(s3_request_spread("quick", 2)))
"""


def run(script: str, *args: str, cwd: Path, data_root: Path, **environ: str) -> str:
    env = {
        **os.environ,
        "RADIBENCH_PROFILE": "quick",
        "RADIBENCH_DATA": str(data_root),
        "PYTHONPATH": str(ROOT),
        "AWS_EC2_METADATA_DISABLED": "true",
        **environ,
    }
    env.pop("RADIBENCH_DATASET", None)
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return proc.stdout


def printed(out: str, tag: str) -> dict:
    line = next(line for line in out.splitlines() if line.startswith(tag + " "))
    return json.loads(line.removeprefix(tag + " "))


@pytest.fixture(scope="module")
def counts_folder(tmp_path_factory) -> Path:
    """The folder counts.S3PerBatch runs in, as asv's setup_cache folder."""
    return tmp_path_factory.mktemp("s3-counts")


@pytest.fixture(scope="module")
def benchmark_counts(quick, data_root, counts_folder) -> list[dict]:
    """counts.S3PerBatch as asv runs it: setup_cache in one process (the cohort ingested into
    the local S3 server's data dir), then the benchmark processes with their own server and
    proxy; here two such processes, each in a working folder of its own (as two commits' runs
    are), each returning every kind and keeping the requests by array in profiles/<commit>
    (kept_requests) as under `asv continuous` with RADIBENCH_PROFILES set."""
    folder = counts_folder
    run(SETUP_CACHE, cwd=folder, data_root=data_root)
    cache = str(folder / "cache.pickle")
    names = json.dumps(list(METHODS))
    kept = {"RADIBENCH_PROFILES": str(folder / "profiles"), "ASV_COMMIT": COMMIT}
    found = []
    for run_folder in ("first", "second"):
        (folder / run_folder).mkdir()
        out = run(BENCHMARK, cache, names, cwd=folder / run_folder, data_root=data_root, **kept)
        found.append(printed(out, "COUNTS"))
    return found


@pytest.fixture(scope="module")
def kept_requests(benchmark_counts, counts_folder) -> dict:
    """What the last benchmark process kept: counters.s3_requests' kinds and arrays."""
    return json.loads(
        (counts_folder / "profiles" / COMMIT / "radiobject.requests.json").read_text()
    )


def test_s3_requests_per_batch_are_the_same_in_every_benchmark_process(benchmark_counts):
    first, second = benchmark_counts
    assert first == second
    assert first["track_get_requests_per_batch"] > 0
    assert first["track_other_requests_per_batch"] == 0  # a reader does not write


def test_one_count_per_commit_serves_every_kind(benchmark_counts, counts_folder, data_root):
    """The first kind's benchmark counts every kind and keeps them in its working folder (asv's
    setup_cache folder, one per commit); the other kinds' benchmarks there read them, never
    starting a server and counting again."""
    first = benchmark_counts[0]
    memo = json.loads((counts_folder / "first" / "s3-requests-radiobject.json").read_text())
    assert memo["kinds"] == {METHODS[name]: first[name] for name in METHODS}
    kept = counts_folder / "kept"
    kept.mkdir()
    (kept / "s3-requests-radiobject.json").write_text(json.dumps({"kinds": {"HEAD": 999.0}}))
    cache = str(counts_folder / "cache.pickle")
    names = json.dumps(["track_head_requests_per_batch"])
    again = printed(run(BENCHMARK, cache, names, cwd=kept, data_root=data_root), "COUNTS")
    assert again == {"track_head_requests_per_batch": 999.0}


def test_the_requests_kept_by_array_add_up_to_what_is_gated(benchmark_counts, kept_requests):
    """The benchmark keeps its requests and bytes by array: each kind summed over the arrays is
    the number gated; the volume arrays (counted together) get the GETs and the bytes."""
    first, kept = benchmark_counts[0], kept_requests
    assert kept["kinds"] == {METHODS[name]: first[name] for name in METHODS}
    for kind in KINDS:
        assert sum(a[kind] for a in kept["arrays"].values()) == pytest.approx(kept["kinds"][kind])
    (volumes,) = [v for a, v in kept["arrays"].items() if a.endswith("/CT/volumes/<n>")]
    assert volumes["GET"] > 0 and volumes["bytes"] > 0, kept["arrays"]


def test_count_spread_counts_what_the_benchmark_counts(benchmark_counts, data_root, tmp_path):
    """s3_request_spread (the precision study's evidence): two fresh seeded loaders in one
    process, one server and ingest, the same numbers as each benchmark process."""
    found = printed(run(SPREAD, cwd=tmp_path, data_root=data_root), "SPREAD")
    assert sorted(found) == sorted(KINDS)
    assert all(len(set(values)) == 1 for values in found.values()), found
    assert found["GET"][0] > 0
    first = benchmark_counts[0]
    assert {METHODS[name]: value for name, value in first.items()} == {
        kind: values[0] for kind, values in found.items()
    }


class Proxy:
    """What requests_per_batch needs of NetemProxy, over a stream that counts its batches."""

    def __init__(self, taken: list):
        self.taken, self.reset_after = taken, None

    def reset(self):
        self.reset_after = len(self.taken)

    def stats(self):
        batches = len(self.taken) - self.reset_after
        kinds = {"GET": 3, "HEAD": 1, "PUT": 0, "LIST": 5, "DELETE": 0, "POST": 0, "OTHER": 0}
        counted = {kind: n * batches for kind, n in kinds.items()}
        counted["PUT"] = 1  # one write in all the counted batches
        arrays = {
            "train/collections/CT/volumes/<n>": {
                "requests": {"GET": 3 * batches, "HEAD": batches},
                "response_body_bytes": 1000 * batches,
            },
            "train/collections/CT/obs": {
                "requests": {"LIST": 5 * batches, "PUT": 1},
                "response_body_bytes": 0,
            },
        }
        return {"requests": counted, "requests_total": sum(counted.values()), "arrays": arrays}


class Framework:
    def __init__(self):
        self.taken, self.workers = [], None

    def batches(self, spec):
        self.workers = spec.num_workers
        while True:
            self.taken.append(1)
            yield len(self.taken)


def test_requests_are_counted_per_batch_after_the_warm_up_and_writes_together():
    from radibench.frameworks import LoaderSpec

    framework = Framework()
    proxy = Proxy(framework.taken)
    found = requests_per_batch(framework, LoaderSpec(num_workers=2), 3, proxy)
    assert framework.workers == 0  # in-process, whatever the spec says
    assert proxy.reset_after == 1 + 3 and len(framework.taken) == 4 + COUNTED_BATCHES
    assert found == {"GET": 3, "HEAD": 1, "LIST": 5, "other": 1 / COUNTED_BATCHES}
    fresh = Framework()
    arrays = s3_requests(fresh, LoaderSpec(), 3, Proxy(fresh.taken))["arrays"]
    assert arrays["train/collections/CT/volumes/<n>"] == {
        "GET": 3,
        "HEAD": 1,
        "LIST": 0,
        "other": 0,
        "bytes": 1000,
    }
    assert arrays["train/collections/CT/obs"]["other"] == 1 / COUNTED_BATCHES


def test_the_spread_of_a_count_that_leaves_zero_is_infinite():
    assert spread([0.0, 0.0]) == 0.0 and spread([4.0, 5.0]) == 0.25
    assert math.isinf(spread([0.0, 0.125]))
