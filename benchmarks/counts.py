"""Counts per training batch that do not depend on machine noise: what the pull-request gate
trusts at a tight factor (docs/precision.md), beside loaders.BytesRead's bytes.

RadiObject's loader as shipped (isotropic tiles, batch 4, 64^3 patches, 0 workers), shuffle and
patches seeded, after its first and 3 warm-up batches:
- tiles and arrays opened: TileDB's own counters (an extra read, a bigger tile, a lost open
  array cache show here exactly);
- instructions executed: valgrind's callgrind, counting only the batches (a CPU-only slowdown
  shows here when a timing's noise would hide it; n/a where valgrind is not installed); with
  RADIBENCH_PROFILES set, its profiles are kept there for the gate to say where they went;
- S3 requests by kind (S3PerBatch), the same loader reading the cohort from a local S3 server
  through the counting proxy (TileDB has no S3 request counter): on S3 every request is a round
  trip, so one more LIST or HEAD per read costs a cloud reader milliseconds that a local
  timing cannot see; with RADIBENCH_PROFILES set, the requests and bytes by array are kept.
"""

import json
from pathlib import Path

from radibench import suite
from radibench.atomic import write_atomically
from radibench.frameworks import LoaderSpec
from radibench.measure import instructions, profiles
from radibench.measure.counters import OTHER_REQUESTS, counts_per_batch, s3_requests
from radibench.measure.protocol import WARMUP_BATCHES
from radibench.prepare import storage as prepare_storage
from radibench.prepare import training
from radibench.storage.server import reading


def _counted_file(framework: str) -> Path:
    """Where S3PerBatch keeps one commit's counts: asv's setup_cache folder, the benchmarks'
    working directory (a fresh one per commit)."""
    return Path.cwd() / f"s3-requests-{framework}.json"


def _needs_valgrind(cache, framework):
    instructions.tools()  # NotImplementedError in a setup: n/a where valgrind is missing


class _Ingested:
    """One setup_cache for the classes below (asv shares it: the ingest is done once)."""

    params = [["radiobject"]]
    param_names = ["framework"]
    timeout = suite.SETUP_CACHE_TIMEOUT
    rounds = 1  # the same number every run: one is enough

    def setup_cache(self):
        return training.prepare_training(["radiobject"], workers=())  # the ingest only


class PerBatch(_Ingested):
    """Tiles, array opens and instructions per batch of RadiObject's training loader."""

    version = suite.version("counts-1")

    def setup(self, cache, framework):
        self.framework = training.adapter(cache, framework)

    def track_tiles_per_batch(self, cache, framework):
        """Tiles TileDB reads per batch (mean of 8 batches)."""
        return counts_per_batch(self.framework, LoaderSpec(), WARMUP_BATCHES)["tiles"]

    track_tiles_per_batch.unit = "tiles"

    def track_array_opens_per_batch(self, cache, framework):
        """Arrays TileDB opens for reading per batch (mean of 8 batches)."""
        return counts_per_batch(self.framework, LoaderSpec(), WARMUP_BATCHES)["array_opens"]

    track_array_opens_per_batch.unit = "opens"

    def track_instructions_per_batch(self, cache, framework):
        """Instructions executed per batch (mean of 4 batches, callgrind)."""
        uri, keep = cache["radiobject_uri"], profiles.folder()
        return instructions.count(framework, cache["niftis"], uri, WARMUP_BATCHES, keep=keep)

    track_instructions_per_batch.setup = _needs_valgrind
    track_instructions_per_batch.unit = "instructions"
    track_instructions_per_batch.timeout = 1800


class WorkerPath(_Ingested):
    """Instructions of every process of RadiObject's loader at its default workers (spawned),
    cold, to the workers' exit (instructions.count_worker_path): worker start, imports, pickling,
    worker_init, which PerBatch never sees. About 5 minutes a commit: not in suite.HISTORY."""

    version = suite.version("worker-path-1")

    def track_instructions(self, cache, framework):
        """Instructions of every process of the loader's life at its default workers."""
        workers = training.adapter(cache, framework).shipped_workers()
        uri = cache["radiobject_uri"]
        return instructions.count_worker_path(framework, [], uri, workers)["instructions"]

    track_instructions.setup = _needs_valgrind
    track_instructions.unit = "instructions"
    track_instructions.timeout = 3600


class S3PerBatch:
    """S3 requests per batch of RadiObject's training loader, by kind.

    setup_cache ingests the cohort with this commit's RadiObject into a local SeaweedFS bucket
    (radibench/prepare/storage.py: the data dir outlives the server); the first of the four
    benchmark processes starts its own server on it and the counting proxy in front (lan: no
    delay, so nothing waits on a timer), reads with a fresh seeded loader in-process and keeps
    every kind's count in asv's setup_cache folder (the benchmarks' working directory), which
    the other three read: one measurement per commit, not four. n/a where the server cannot run
    here (no weed binary), as for storage.S3VersusLocal."""

    params = [["radiobject"]]
    param_names = ["framework"]
    version = suite.version("s3-counts-1")
    timeout = suite.SETUP_CACHE_TIMEOUT
    rounds = 1  # the same number every run: one is enough

    def setup_cache(self):
        return prepare_storage.prepare_local_s3(Path.cwd())

    def setup(self, cache, framework):
        counted = _counted_file(framework)
        self.link = None if counted.is_file() else prepare_storage.connect(cache, "s3-lan")

    def _requests(self, framework, kind):
        """One kind's requests per batch; all of them by array kept for the verdict (profiles)."""
        counted_file = _counted_file(framework)
        if counted_file.is_file():
            return json.loads(counted_file.read_text())["kinds"][kind]
        with reading(self.link.server):
            counted = s3_requests(self.link.adapter, LoaderSpec(), WARMUP_BATCHES, self.link.proxy)
        profiles.keep_json(profiles.REQUESTS.format(framework=framework), counted)
        write_atomically(counted_file, lambda tmp: Path(tmp).write_text(json.dumps(counted)))
        return counted["kinds"][kind]

    def track_get_requests_per_batch(self, cache, framework):
        """Object GETs per batch (mean of 8 batches): a read that fetches more pieces."""
        return self._requests(framework, "GET")

    track_get_requests_per_batch.unit = "requests"

    def track_head_requests_per_batch(self, cache, framework):
        """HEADs per batch (mean of 8 batches): existence and size checks, one round trip each."""
        return self._requests(framework, "HEAD")

    track_head_requests_per_batch.unit = "requests"

    def track_list_requests_per_batch(self, cache, framework):
        """LISTs per batch (mean of 8 batches): TileDB lists an array's folders when it opens
        it, so a lost open-array cache shows here."""
        return self._requests(framework, "LIST")

    track_list_requests_per_batch.unit = "requests"

    def track_other_requests_per_batch(self, cache, framework):
        """Every other request per batch (PUT, POST, DELETE, unrecognised): 0 for a reader;
        anything above is a reader that writes (asv flags 0 to more as worse)."""
        return self._requests(framework, OTHER_REQUESTS)

    track_other_requests_per_batch.unit = "requests"
