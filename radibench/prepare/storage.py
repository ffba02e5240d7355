"""setup_cache of benchmarks/storage.py, and the S3 connection each benchmark process opens.

asv runs setup_cache in one process and every benchmark in fresh spawned processes, and nothing
may outlive them, so:
- setup_cache ingests the training cohort with this commit's RadiObject twice: into a local
  folder, and into a local S3 server (radibench.storage.server) whose data dir lies in asv's
  cache folder; the server is stopped, the objects stay on disk: ingest is paid once per commit.
  How the stored voxels map onto the NIfTI files is detected once, on the local copy (the S3
  one is the same commit's ingest of the same files), and given to every adapter.
- each benchmark process starts its own server on that data dir, plus the latency proxy
  (radibench.storage.netem) for the profile asked for, the first time its setup runs (asv re-runs
  setup before every sample, so they are kept for the life of the process); both die with the
  process (a finalizer at exit, and the kernel's parent-death signal if asv kills it). Servers
  are never shared between processes, so `asv run --parallel` must not be used with this module.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from radibench import suite
from radibench.frameworks import radiobject as radiobject_api
from radibench.frameworks.mapping import ValueMapping
from radibench.measure.process import kept
from radibench.prepare import outcome
from radibench.prepare.ingest import detect_mapping, ingest_cohort, recorded_mapping

S3_KEY = "radiobject-train"


def prepare(cache_dir: Path) -> dict:
    """The training cohort ingested locally and into a persistent S3 data dir."""
    from radibench.storage.server import LocalS3Server

    data = suite.dataset()
    cache = {"dataset": data.name, "problems": {}}
    problems = cache["problems"]
    outcome.deselect(problems, ["radiobject"])
    if problems:
        return cache
    local_uri = str(cache_dir / "radiobject-local")
    seconds = ingest_cohort(problems, "radiobject", local_uri, data.subjects)
    if seconds is None:
        return cache
    found = detect_mapping(problems, "radiobject", local_uri, data.subjects[0].train_nifti)
    if found is None:
        return cache
    cache["mapping"] = found.to_json()
    server = LocalS3Server(data_dir=cache_dir / "s3-data")
    cache.update(local_uri=local_uri, local_seconds=seconds, s3_key=S3_KEY)
    cache.update(s3_data_dir=str(server.data_dir), bucket=server.bucket)
    # A server that cannot start (no weed binary) fails the S3 parameters only.
    if not outcome.attempt(problems, "s3", server.start, "starting the local S3 server"):
        return cache
    try:
        with server.settings.applied():
            configured = outcome.attempt(
                problems, "s3", lambda: radiobject_api.configure_s3(server.settings), "S3 setup"
            )
            if configured:
                uri = server.settings.uri(S3_KEY)
                cache["s3_seconds"] = ingest_cohort(problems, "s3", uri, data.subjects)
    finally:
        server.stop()
    cache["server_start_seconds"] = server.start_seconds
    return cache


@dataclasses.dataclass(frozen=True)
class Connection:
    """Where one benchmark process reads the cohort: a local folder, or S3 through the proxy."""

    uri: str
    mapping: ValueMapping | None = None  # as setup_cache detected it
    server: object | None = None  # LocalS3Server
    proxy: object | None = None  # NetemProxy

    @property
    def adapter(self):
        from radibench.frameworks import RadiObject

        return kept(("adapter", self.uri), lambda: _imported(RadiObject(self.uri, self.mapping)))


def _imported(framework):
    framework.import_modules()
    return framework


def connect(cache: dict, storage: str) -> Connection:
    """This process's connection for `storage` ("local", "s3-lan", "s3-cloud"), or what asv
    should show (n/a, failed)."""
    outcome.check(cache, "radiobject")
    mapping = recorded_mapping(cache["mapping"])
    if storage == "local":
        return Connection(cache["local_uri"], mapping)
    outcome.check(cache, "s3")
    return kept(("s3", storage), lambda: _serve(cache, storage.removeprefix("s3-"), mapping))


def _serve(cache: dict, profile: str, mapping: ValueMapping | None) -> Connection:
    from radibench.storage.netem import NetemProxy
    from radibench.storage.server import LocalS3Server

    server = LocalS3Server(bucket=cache["bucket"], data_dir=cache["s3_data_dir"]).start()
    try:
        proxy = NetemProxy(server.port, profile=profile).start()
    except BaseException:
        server.stop()
        raise
    settings = server.settings.via(proxy.endpoint)
    settings.apply()  # kept for the process: spawned DataLoader workers inherit it
    radiobject_api.configure_s3(settings)
    return Connection(settings.uri(cache["s3_key"]), mapping, server, proxy)
