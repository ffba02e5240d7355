"""RadiObject's training loader reading from S3 versus local disk.

The same training cohort, ingested by this commit's RadiObject twice (a local folder, a bucket),
read by the same adapter (radibench.frameworks.RadiObject) with batch 4, 64^3 patches and 0 or
2 spawned workers. S3 is a local SeaweedFS server behind the netem proxy: ``s3-lan`` (no delay)
or ``s3-cloud`` (15 ms each way, 80 MB/s per connection, 250 MB/s total); see radibench/s3.py
and radibench/netem.py. The proxy counts HTTP requests (TileDB has no S3 request counter);
bytes come from TileDB's own ``Context.VFS.read_byte_num``.

Where the S3 server lives, given that asv runs setup_cache in one process and every benchmark
in fresh spawned processes, and that nothing may outlive them:
- setup_cache starts SeaweedFS on a data dir inside asv's cache folder, ingests into it, and
  stops it; the objects stay on disk, so ingest is paid once per commit.
- each benchmark process starts its own SeaweedFS on that data dir plus a proxy the first time
  its setup runs (asv re-runs setup before every sample, so they are kept in a module-level
  dict for the life of the process), and both die with the process: a finalizer at exit, and
  the kernel's parent-death signal if asv kills it. Servers are never shared between
  processes, so ``asv run --parallel`` must not be used with this module.

Measured on the shared 2-core machine, quick profile (4 subjects of 128x128x72): setup_cache
7.9 s (local ingest 2.5 s, S3 ingest 2.5 s, server start 1.5 s, stop ~1.5 s); a benchmark
process's setup 4-5 s on local disk (imports) and 5.5-7.5 s on S3 (+ server and proxy). Warm
batch 0.07 s local, 0.16 s s3-lan, 0.6 s s3-cloud; 28 requests per batch of 4 patches (radiobject
0.1.1 reopens the array for every patch: LISTs + HEAD + GET), 5.3 MB read per batch everywhere.
A first batch with 2 spawned workers takes ~18 s (each worker imports torch and radiobject.ml).
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from radibench import measure, suite
from radibench.frameworks import LoaderSpec
from radibench.frameworks import radiobject as radiobject_api

STORAGES = ["local", "s3-lan", "s3-cloud"]
WORKERS = [0, 2]
S3_KEY = "radiobject-train"
COUNTED_BATCHES = 8  # batches over which requests and bytes are averaged (after warm-up)

_LIVE: dict = {}  # storage -> (server, proxy, uri): one per benchmark process, see docstring


def _configure_radiobject(settings) -> None:
    """Point radiobject's global context at `settings` (workers read the TILEDB_* env)."""
    try:
        from radiobject.ctx import S3Config, configure

        configure(s3=S3Config(**settings.radiobject_s3config_kwargs()))
    except (ImportError, TypeError) as exc:
        raise NotImplementedError(f"radiobject has no S3 configuration here: {exc}") from exc


def _start_s3(cache: dict, profile: str):
    from radibench.netem import NetemProxy
    from radibench.s3 import LocalS3Server

    server = LocalS3Server(bucket=cache["bucket"], data_dir=cache["s3_data_dir"]).start()
    try:
        proxy = NetemProxy(server.port, profile=profile).start()
    except BaseException:
        server.stop()
        raise
    settings = server.settings.via(proxy.endpoint)
    settings.apply()  # kept for the process: spawned DataLoader workers inherit it
    _configure_radiobject(settings)
    return server, proxy, settings.uri(cache["s3_key"])


def _build_warm_loader(cache, storage, num_workers):
    """Method-level setup of time_warm_batch (asv runs it after the class's setup): the warm
    loader is built outside the timed call, also under --quick, which makes no warm-up call."""
    _LIVE["current"]._warm_batches()


def prepare(cache_dir: Path) -> dict:
    """setup_cache: ingest the training cohort locally and into a persistent S3 data dir."""
    from radibench.s3 import LocalS3Server

    data = suite.dataset()
    dirs = [(s.train_dicom_dir, s.id) for s in data.subjects]
    cache = {"dataset": data.name, "niftis": [], "problems": {}, "radiobject_uri": None}
    local_uri = str(cache_dir / "radiobject-local")
    start = time.perf_counter()
    try:
        radiobject_api.ingest_dicoms(local_uri, dirs, "isotropic")
    except NotImplementedError as exc:
        cache["problems"]["radiobject"] = ("n/a", str(exc))
        return cache
    except Exception as exc:  # this commit's failure: shown as failed, never hidden
        cache["problems"]["radiobject"] = ("failed", f"ingest failed: {exc!r}")
        return cache
    cache["local_seconds"] = time.perf_counter() - start
    server = LocalS3Server(data_dir=cache_dir / "s3-data")
    cache.update(local_uri=local_uri, s3_data_dir=str(server.data_dir), s3_key=S3_KEY)
    try:
        server.start()
    except Exception as exc:  # e.g. no weed binary: the local numbers are still measured
        cache["problems"]["s3"] = ("failed", f"local S3 server did not start: {exc}")
        return cache
    settings = server.settings
    old = settings.apply()
    try:
        _configure_radiobject(settings)
        start = time.perf_counter()
        radiobject_api.ingest_dicoms(settings.uri(S3_KEY), dirs, "isotropic")
        cache["s3_seconds"] = time.perf_counter() - start
    except Exception as exc:
        cache["problems"]["s3"] = ("failed", f"ingest into S3 failed: {exc!r}")
    finally:
        settings.restore(old)
        server.stop()
    cache.update(bucket=server.bucket, server_start_seconds=server.start_seconds)
    return cache


class S3ReadError(RuntimeError):
    """A batch could not be read from the local S3 server; says what became of the server."""


@contextlib.contextmanager
def _reading(server):
    """Around reads from `server` (None: local disk). TileDB's S3 timeouts (radibench/s3.py)
    end a read from a dead or hung server within seconds; the error then says which it was, so
    a failed benchmark explains itself in the log."""
    try:
        yield
    except Exception as exc:
        if server is None:
            raise
        raise S3ReadError(f"reading from S3 failed ({exc!r}); {server.diagnose()}") from exc


def _next(batches, server):
    with _reading(server):
        return next(batches)


class S3VersusLocal:
    """RadiObject's training loader on local disk, on S3 over a LAN, and on cloud-like S3."""

    params = [STORAGES, WORKERS]
    param_names = ["storage", "num_workers"]
    version = suite.version("s3-versus-local-1")
    timeout = suite.SETUP_CACHE_TIMEOUT
    number = 1
    repeat = (3, 10, 30.0)
    rounds = 1

    def setup_cache(self):
        return prepare(Path.cwd())

    def setup(self, cache, storage, num_workers):
        suite.check(cache, "radiobject")
        if storage == "local":
            uri, self.proxy, self.server = cache["local_uri"], None, None
        else:
            kind, message = cache["problems"].get("s3", (None, None))
            if kind:
                raise RuntimeError(message)
            if storage not in _LIVE:
                _LIVE[storage] = _start_s3(cache, storage.removeprefix("s3-"))
            self.server, self.proxy, uri = _LIVE[storage]
        self.spec = LoaderSpec(num_workers=num_workers)
        self.framework = suite.adapter({**cache, "radiobject_uri": uri}, "radiobject")
        _LIVE["current"] = self

    def _warm_batches(self, spec: LoaderSpec | None = None):
        """A loader past its first batch and 3 warm-up batches, kept across asv's samples."""
        spec = spec or self.spec
        key = ("warm", spec)  # one storage per benchmark process
        if key not in _LIVE:
            batches = self.framework.batches(spec)
            for _ in range(1 + measure.WARMUP_BATCHES):
                _next(batches, self.server)
            _LIVE[key] = batches
        return _LIVE[key]

    def time_first_batch(self, cache, storage, num_workers):
        """A fresh loader and its first batch (seconds): opening and the first reads."""
        _next(self.framework.batches(self.spec), self.server)

    time_first_batch.warmup_time = 0

    def time_warm_batch(self, cache, storage, num_workers):
        """One batch of a loader past its first batch and 3 warm-up batches (seconds)."""
        _next(self._warm_batches(), self.server)

    time_warm_batch.setup = _build_warm_loader
    time_warm_batch.warmup_time = 0

    def track_seconds_per_sample(self, cache, storage, num_workers):
        """Seconds per training sample over the study's 20 timed batches (1 / throughput)."""
        with _reading(self.server):
            return measure.run_protocol(self.framework, self.spec).seconds_per_sample

    track_seconds_per_sample.unit = "seconds"

    def track_requests_per_batch(self, cache, storage, num_workers):
        """HTTP requests to S3 per batch of a warm loader (all kinds; workers' prefetch
        included, so an average over several batches). Local disk: none."""
        if self.proxy is None:
            return 0.0
        batches = self._warm_batches()
        self.proxy.reset()
        for _ in range(COUNTED_BATCHES):
            _next(batches, self.server)
        return self.proxy.stats()["requests_total"] / COUNTED_BATCHES

    track_requests_per_batch.unit = "requests"

    def track_bytes_per_batch(self, cache, storage, num_workers):
        """Bytes TileDB read per batch of a warm loader (Context.VFS.read_byte_num).

        TileDB's counters live in the process that reads, so the batches are always read by
        an in-process loader (num_workers=0): what a batch needs does not depend on workers.
        """
        import tiledb

        batches = self._warm_batches(LoaderSpec(num_workers=0))
        tiledb.stats_enable()
        tiledb.stats_reset()
        for _ in range(COUNTED_BATCHES):
            _next(batches, self.server)
        read = measure.tiledb_bytes_read()
        tiledb.stats_disable()
        return read / COUNTED_BATCHES

    track_bytes_per_batch.unit = "bytes"
