"""setup_cache of benchmarks/storage.py and of counts.S3PerBatch (prepare_local_s3: the local S3
copy alone), and the S3 connection each benchmark process opens.

asv runs setup_cache in one process and every benchmark in fresh spawned processes, and nothing
may outlive them, so:
- setup_cache ingests the training cohort with this commit's RadiObject twice: into a local
  folder, and into a local S3 server (radibench.storage.server) whose data dir lies in asv's
  cache folder; the server is stopped, the objects stay on disk: ingest is paid once per commit.
  How the stored voxels map onto the NIfTI files is detected once, on the local copy (the S3
  one is the same commit's ingest of the same files), and given to every adapter.
- setup_cache then runs the study's protocol per storage and worker count in several fresh
  processes, interleaved (run_protocols): one local server for the runs, one latency proxy per
  profile; the timings reach asv as one sample per process (radibench.prepare.training.protocol).
- each benchmark process that counts starts its own server on that data dir, plus the latency proxy
  (radibench.storage.netem) for the profile asked for, the first time its setup runs (asv re-runs
  setup before every sample, so they are kept for the life of the process); both die with the
  process (a finalizer at exit, and the kernel's parent-death signal if asv kills it). Servers
  are never shared between processes, so `asv run --parallel` must not be used with this module.
- real S3 (``s3-real``), when RADIBENCH_S3_URI and AWS credentials are set (else n/a, naming
  what is missing): setup_cache checks within seconds that the endpoint answers, ingests the
  cohort into a fresh prefix under RADIBENCH_S3_URI (radibench.storage.s3.for_run) and leaves
  word for asv's process to remove that prefix when asv removes its folder
  (radibench/asv_plugins/cache_cleanup.py); each benchmark process checks the endpoint again
  before anything is timed. The same settings code (radibench.storage.s3.RealS3) serves a
  bucket on AWS and, with AWS_ENDPOINT_URL, any S3-compatible service.
"""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack, nullcontext
from pathlib import Path

from radibench import suite
from radibench.frameworks import radiobject as radiobject_api
from radibench.frameworks.mapping import ValueMapping
from radibench.measure.process import kept
from radibench.measure.runner import processes, run_in_fresh_process
from radibench.prepare import outcome, training
from radibench.prepare.ingest import detect_mapping, ingest_cohort, recorded_mapping
from radibench.storage import s3

S3_KEY = "radiobject-train"
REAL = "s3-real"
STORAGES = ("local", "s3-lan", "s3-cloud", REAL)


def prepare(cache_dir: Path) -> dict:
    """The training cohort ingested locally, into a persistent local S3 data dir, and into
    real S3 when it is configured."""
    data, cache = _started()
    problems = cache["problems"]
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
    cache.update(local_uri=local_uri, local_seconds=seconds)
    _ingest_local_s3(cache, cache_dir, data.subjects)
    prepare_real_s3(cache, cache_dir, data.subjects)
    return cache


def prepare_local_s3(cache_dir: Path) -> dict:
    """The training cohort ingested into a persistent local S3 data dir only: no local copy and
    no value mapping (what counts S3 requests takes batches and never compares voxels)."""
    data, cache = _started()
    if not cache["problems"]:
        _ingest_local_s3(cache, cache_dir, data.subjects)
    return cache


def _started() -> tuple:
    """The dataset, and a cache whose problems say n/a when radiobject is not selected."""
    data = suite.dataset()
    cache = {"dataset": data.name, "problems": {}}
    outcome.deselect(cache["problems"], ["radiobject"])
    return data, cache


def _ingest_local_s3(cache: dict, cache_dir: Path, subjects) -> None:
    from radibench.storage.server import LocalS3Server

    problems = cache["problems"]
    server = LocalS3Server(data_dir=cache_dir / "s3-data")
    cache.update(s3_data_dir=str(server.data_dir), bucket=server.bucket, s3_key=S3_KEY)
    # S3 parameters only: n/a where no server binary is installed (S3ServerUnavailable), failed
    # where the server is there but does not start.
    if not outcome.attempt(problems, "s3", server.start, "starting the local S3 server"):
        return
    try:
        with server.settings.applied():
            configured = outcome.attempt(
                problems, "s3", lambda: radiobject_api.configure_s3(server.settings), "S3 setup"
            )
            if configured:
                uri = server.settings.uri(S3_KEY)
                cache["s3_seconds"] = ingest_cohort(problems, "s3", uri, subjects)
    finally:
        server.stop()
    cache["server_start_seconds"] = server.start_seconds


def prepare_real_s3(cache: dict, cache_dir: Path, subjects) -> None:
    """The cohort ingested by this commit's RadiObject into a fresh prefix of real S3, or the
    problem recorded under "s3-real": n/a naming the missing setting, failed naming the
    endpoint that does not answer. No message keeps a credential's value."""
    problems = cache["problems"]
    try:
        _ingest_real_s3(cache, cache_dir, subjects)
    finally:
        if REAL in problems:
            kind, message = problems[REAL]
            problems[REAL] = (kind, s3.scrub(message))


def _ingest_real_s3(cache: dict, cache_dir: Path, subjects) -> None:
    problems, found = cache["problems"], []
    if not outcome.attempt(problems, REAL, lambda: found.append(s3.require_real_s3()), "S3"):
        return
    settings = s3.for_run(found[0])
    if not outcome.attempt(problems, REAL, lambda: s3.probe(settings), "reaching real S3"):
        return
    # Written before the first object: asv's process removes the prefix with this folder.
    s3.leave_cleanup(cache_dir, settings)
    cache["s3_real_prefix"] = settings.prefix
    with settings.applied():
        configure = lambda: radiobject_api.configure_s3(settings)  # noqa: E731
        if outcome.attempt(problems, REAL, configure, "S3 setup"):
            uri = settings.uri(S3_KEY)
            cache["s3_real_seconds"] = ingest_cohort(problems, REAL, uri, subjects)


def run_protocols(cache: dict, storages=STORAGES, workers=(0, 2), rounds=None) -> None:
    """The study's protocol per (storage, worker count) in `rounds` fresh processes (default
    processes()), interleaved (A B C A B C), into cache["runs"]; a run that fails is recorded
    under its key and not repeated. Each child reads S3 through its storage's settings in the
    TILEDB_VFS_S3_* environment, as spawned DataLoader workers do."""
    rounds = processes() if rounds is None else rounds
    problems, runs = cache["problems"], cache.setdefault("runs", {})
    mapping = recorded_mapping(cache.get("mapping"))
    with ExitStack() as stack:
        sources = _sources(cache, storages, stack)
        for _ in range(rounds):
            for storage, (uri, settings) in sources.items():
                for n in workers:
                    key = training.run_key(storage, n)
                    if key in problems:
                        continue
                    with settings.applied() if settings else nullcontext():
                        run = run_in_fresh_process("radiobject", [], uri, n, mapping=mapping)
                    if "failed" in run:  # a child's error may quote its environment
                        run = {"failed": s3.scrub(run["failed"])}
                    runs.setdefault(key, []).append(run)
                    outcome.record(problems, key, run)


def _sources(cache: dict, storages, stack: ExitStack) -> dict:
    """{storage: (uri, S3Settings or None)} for the storages this commit can measure; one local
    server for every S3 profile (stopped with `stack`), a proxy per profile. A server or proxy
    that does not start fails its storages' timings only."""
    from radibench.storage.netem import NetemProxy
    from radibench.storage.server import LocalS3Server

    problems, sources, servers = cache["problems"], {}, []

    def serve(storage: str) -> None:
        if not servers:
            servers.append(
                stack.enter_context(
                    LocalS3Server(bucket=cache["bucket"], data_dir=cache["s3_data_dir"])
                )
            )
        proxy = stack.enter_context(NetemProxy(servers[0].port, storage.removeprefix("s3-")))
        settings = servers[0].settings.via(proxy.endpoint)
        sources[storage] = (settings.uri(cache["s3_key"]), settings)

    if "radiobject" in problems:
        return sources
    for storage in storages:
        if storage == "local":
            sources[storage] = (cache["local_uri"], None)
        elif storage == REAL:
            if REAL not in problems:
                settings = _real_settings(cache)
                sources[storage] = (settings.uri(cache["s3_key"]), settings)
        elif "s3" not in problems:
            outcome.attempt(problems, storage, lambda s=storage: serve(s), "starting the local S3")
    return sources


def measured(cache: dict, storage: str, num_workers: int) -> dict:
    """The protocol's numbers for `storage` over run_protocols' processes, or what asv should
    show (the same n/a and failures as connect)."""
    require(cache, storage)
    return training.protocol(cache, storage, num_workers)


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
    """This process's connection for `storage` ("local", "s3-lan", "s3-cloud", "s3-real"), or
    what asv should show (n/a, failed)."""
    require(cache, storage)
    mapping = recorded_mapping(cache.get("mapping"))  # none in prepare_local_s3's cache
    if storage == "local":
        return Connection(cache["local_uri"], mapping)
    if storage == REAL:
        return kept(("s3", storage), lambda: _real(cache, mapping))
    return kept(("s3", storage), lambda: _serve(cache, storage.removeprefix("s3-"), mapping))


def require(cache: dict, storage: str) -> None:
    """Raise what asv should show where this commit cannot read `storage` (n/a, failed)."""
    outcome.check(cache, "radiobject")
    if storage != "local":
        outcome.check(cache, REAL if storage == REAL else "s3")


def require_request_counter(storage: str) -> None:
    """n/a where no proxy stands between TileDB and S3 to count requests (TileDB has no S3
    request counter): real S3."""
    if storage == REAL:
        raise NotImplementedError(
            "requests to real S3 are not counted: no proxy stands in their path (TileDB has no "
            "S3 request counter); bytes per batch are"
        )


def _real(cache: dict, mapping: ValueMapping | None) -> Connection:
    """Real S3 at the prefix setup_cache ingested into, checked first: an endpoint that stopped
    answering fails here, within seconds, before anything is timed."""
    settings = _real_settings(cache)
    try:
        s3.probe(settings)
    except s3.RealS3Error as exc:
        raise s3.RealS3Error(f"{exc} (it answered when setup_cache ingested)") from None
    settings.apply()  # kept for the process: spawned DataLoader workers inherit it
    radiobject_api.configure_s3(settings)
    return Connection(settings.uri(cache["s3_key"]), mapping)


def _real_settings(cache: dict) -> s3.S3Settings:
    """Real S3 as the environment names it, at the prefix setup_cache ingested into."""
    return dataclasses.replace(s3.require_real_s3(), prefix=cache["s3_real_prefix"])


def _serve(cache: dict, profile: str, mapping: ValueMapping | None) -> Connection:
    from radibench.storage.server import proxied

    server, proxy = proxied(profile, bucket=cache["bucket"], data_dir=cache["s3_data_dir"])
    settings = server.settings.via(proxy.endpoint)
    settings.apply()  # kept for the process: spawned DataLoader workers inherit it
    radiobject_api.configure_s3(settings)
    return Connection(settings.uri(cache["s3_key"]), mapping, server, proxy)
