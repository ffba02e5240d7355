"""RadiObject's training loader reading from S3 versus local disk.

The same training cohort, ingested by this commit's RadiObject into a local folder and buckets,
read by the same adapter (radibench.frameworks.RadiObject) with batch 4, 64^3 patches and 0 or
2 spawned workers. S3 is a local SeaweedFS server behind the latency proxy: ``s3-lan`` (no
delay) or ``s3-cloud`` (15 ms each way, 80 MB/s per connection, 250 MB/s total); ``s3-real``
is the bucket RADIBENCH_S3_URI names, with the AWS credentials of the environment (n/a when
unset), ingested into a fresh prefix that is removed afterwards. The proxy counts HTTP requests
(TileDB has no S3 request counter; real S3's are not counted); bytes come from TileDB's own
``Context.VFS.read_byte_num``. Where the servers and settings live: radibench/prepare/storage.py.
"""

from pathlib import Path

from radibench import suite
from radibench.frameworks import LoaderSpec
from radibench.measure.counters import COUNTED_BATCHES, bytes_per_batch
from radibench.measure.process import kept
from radibench.measure.protocol import WARMUP_BATCHES, warm_batches
from radibench.prepare import storage as prepare_storage
from radibench.storage.server import reading

STORAGES = list(prepare_storage.STORAGES)
WORKERS = [0, 2]


def _warm(cache, storage, num_workers):
    """A loader past its first batch and 3 warm-up batches, kept across asv's samples."""
    link = prepare_storage.connect(cache, storage)

    def build():
        with reading(link.server):
            return warm_batches(link.adapter, LoaderSpec(num_workers=num_workers))

    return kept(("warm", storage, num_workers), build)


def _timed(cache, storage, num_workers):
    """The timings' own setup: n/a or failed where setup_cache's runs could not measure."""
    prepare_storage.measured(cache, storage, num_workers)


def _counted(cache, storage, num_workers):
    """track_requests_per_batch's own setup: n/a where nothing counts the requests (real S3)."""
    prepare_storage.require_request_counter(storage)


class S3VersusLocal:
    """RadiObject's training loader on local disk, on S3 over a LAN, on cloud-like S3, and on
    a real bucket. The timings come from setup_cache: the study's protocol per storage and
    worker count in 5 fresh processes, interleaved, one sample each (asv keeps their median
    and 99% interval); the counts from the benchmark's own process."""

    params = [STORAGES, WORKERS]
    param_names = ["storage", "num_workers"]
    version = suite.version("s3-versus-local-1")
    timeout = suite.SETUP_CACHE_TIMEOUT
    rounds = 1  # the timings come from setup_cache's processes: rounds would repeat them

    def setup_cache(self):
        cache = prepare_storage.prepare(Path.cwd())
        prepare_storage.run_protocols(cache, STORAGES, WORKERS)
        return cache

    def setup(self, cache, storage, num_workers):
        prepare_storage.require(cache, storage)

    def track_seconds_per_sample(self, cache, storage, num_workers):
        """Seconds per training sample over the study's 20 timed batches (1 / throughput)."""
        return prepare_storage.measured(cache, storage, num_workers)["seconds_per_sample"]

    track_seconds_per_sample.unit = "seconds"
    track_seconds_per_sample.setup = _timed

    def track_cold_start(self, cache, storage, num_workers):
        """Seconds from building a fresh loader to its first batch: opening and the first
        reads (imports excluded)."""
        return prepare_storage.measured(cache, storage, num_workers)["cold_start"]

    track_cold_start.unit = "seconds"
    track_cold_start.setup = _timed
    track_cold_start.version = suite.version("s3-cold-start-1")

    def track_warm_batch(self, cache, storage, num_workers):
        """Median seconds per batch of the 20 timed batches, after 3 warm-up batches."""
        return prepare_storage.measured(cache, storage, num_workers)["warm_batch"]

    track_warm_batch.unit = "seconds"
    track_warm_batch.setup = _timed
    track_warm_batch.version = suite.version("s3-warm-batch-1")

    def track_requests_per_batch(self, cache, storage, num_workers):
        """HTTP requests to S3 per batch of a warm loader (all kinds; workers' prefetch
        included, so an average over several batches). Local disk: none."""
        link = prepare_storage.connect(cache, storage)
        if link.proxy is None:
            return 0.0
        batches = _warm(cache, storage, num_workers)
        link.proxy.reset()
        with reading(link.server):
            for _ in range(COUNTED_BATCHES):
                next(batches)
        return link.proxy.stats()["requests_total"] / COUNTED_BATCHES

    track_requests_per_batch.unit = "requests"
    track_requests_per_batch.setup = _counted

    def track_bytes_per_batch(self, cache, storage, num_workers):
        """Bytes TileDB reads per batch of a fresh seeded loader, after its first batch and 3
        warm-up batches, read in-process (TileDB's counters live in the reading process)."""
        link = prepare_storage.connect(cache, storage)
        with reading(link.server):
            return bytes_per_batch(
                link.adapter, LoaderSpec(num_workers=num_workers), WARMUP_BATCHES
            )

    track_bytes_per_batch.unit = "bytes"
    # 2: counted on a fresh seeded loader, as loaders.BytesRead (was: the warm unseeded one).
    track_bytes_per_batch.version = suite.version("s3-bytes-2")
