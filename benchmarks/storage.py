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
from radibench.measure.protocol import WARMUP_BATCHES, run_protocol, warm_batches
from radibench.prepare import storage as prepare_storage
from radibench.storage.server import reading

STORAGES = ["local", "s3-lan", "s3-cloud", "s3-real"]
WORKERS = [0, 2]


def _warm(cache, storage, num_workers):
    """A loader past its first batch and 3 warm-up batches, kept across asv's samples. Also
    time_warm_batch's own setup (run after the class's), so the loader is built outside the
    timed call, even under --quick, which makes no warm-up call."""
    link = prepare_storage.connect(cache, storage)

    def build():
        with reading(link.server):
            return warm_batches(link.adapter, LoaderSpec(num_workers=num_workers))

    return kept(("warm", storage, num_workers), build)


def _counted(cache, storage, num_workers):
    """track_requests_per_batch's own setup: n/a where nothing counts the requests (real S3)."""
    prepare_storage.require_request_counter(storage)


class S3VersusLocal:
    """RadiObject's training loader on local disk, on S3 over a LAN, on cloud-like S3, and on
    a real bucket."""

    params = [STORAGES, WORKERS]
    param_names = ["storage", "num_workers"]
    version = suite.version("s3-versus-local-1")
    timeout = suite.SETUP_CACHE_TIMEOUT
    number = 1
    repeat = (3, 10, 30.0)
    rounds = 1

    def setup_cache(self):
        return prepare_storage.prepare(Path.cwd())

    def setup(self, cache, storage, num_workers):
        self.link = prepare_storage.connect(cache, storage)
        self.spec = LoaderSpec(num_workers=num_workers)

    def time_first_batch(self, cache, storage, num_workers):
        """A fresh loader and its first batch (seconds): opening and the first reads."""
        with reading(self.link.server):
            next(self.link.adapter.batches(self.spec))

    time_first_batch.warmup_time = 0

    def time_warm_batch(self, cache, storage, num_workers):
        """One batch of a loader past its first batch and 3 warm-up batches (seconds)."""
        batches = _warm(cache, storage, num_workers)
        with reading(self.link.server):
            next(batches)

    time_warm_batch.setup = _warm
    time_warm_batch.warmup_time = 0

    def track_seconds_per_sample(self, cache, storage, num_workers):
        """Seconds per training sample over the study's 20 timed batches (1 / throughput)."""
        with reading(self.link.server):
            return run_protocol(self.link.adapter, self.spec).seconds_per_sample

    track_seconds_per_sample.unit = "seconds"

    def track_requests_per_batch(self, cache, storage, num_workers):
        """HTTP requests to S3 per batch of a warm loader (all kinds; workers' prefetch
        included, so an average over several batches). Local disk: none."""
        if self.link.proxy is None:
            return 0.0
        batches = _warm(cache, storage, num_workers)
        self.link.proxy.reset()
        with reading(self.link.server):
            for _ in range(COUNTED_BATCHES):
                next(batches)
        return self.link.proxy.stats()["requests_total"] / COUNTED_BATCHES

    track_requests_per_batch.unit = "requests"
    track_requests_per_batch.setup = _counted

    def track_bytes_per_batch(self, cache, storage, num_workers):
        """Bytes TileDB reads per batch of a fresh seeded loader, after its first batch and 3
        warm-up batches, read in-process (TileDB's counters live in the reading process)."""
        with reading(self.link.server):
            return bytes_per_batch(self.link.adapter, self.spec, WARMUP_BATCHES)

    track_bytes_per_batch.unit = "bytes"
    # 2: counted on a fresh seeded loader, as loaders.BytesRead (was: the warm unseeded one).
    track_bytes_per_batch.version = suite.version("s3-bytes-2")
