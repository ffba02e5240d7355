"""A latency/bandwidth-emulating TCP proxy in front of the local S3 server, counting S3 requests.

Why: the local S3 server answers in microseconds, so a benchmark against it says nothing about
how many round trips a reader makes. The kernel here has no ``tc netem``, so this proxy delays
every byte by a one-way latency in each direction (a request/response therefore pays one round
trip, a new connection one more for the handshake) and paces bytes through token buckets, per
connection and in total. Because all S3 traffic passes through it, it is also where HTTP
requests are counted: TileDB 2.30 has no S3 request counter.

Why a separate process: the delays are sleeps on an event loop; inside the benchmark process
that loop would wait for the GIL behind numpy/torch/TileDB-Py work and add jitter that is not
network. In its own process (``NetemProxy`` starts ``python -I netem.py``, stdlib only, its own
process group, bound to 127.0.0.1) it only competes for a core. Counters are read over a
loopback control socket, so they are exact at the moment of the call: a request is counted when
its head passes the proxy, before the server can answer it.

Profiles: ``lan`` (no delay, no cap) and ``cloud`` (15 ms each way, 80 MB/s per connection,
250 MB/s in total; MB = 10**6 bytes); any ``Profile`` can be passed too. What they give on this
machine, through SeaweedFS and boto3: ``python -m radibench.tools.s3_timings``.

Request kinds (path-style addressing, as all local endpoints use): GET (object, ``ranged_gets``
counts those with a Range header), HEAD, PUT (objects, parts, bucket creation), LIST (GET on a
bucket, or with list-type/prefix/delimiter/uploads/versions in the query), DELETE, POST
(multipart create/complete, multi-delete), OTHER. Requests are delimited on keep-alive
connections by Content-Length or chunked framing; responses likewise (HEAD, 1xx, 204, 304
without body), which gives response body bytes per kind besides wire bytes both ways. Requests
and response body bytes are also counted by the TileDB array (or group) they are for
(``array_of``), so a rise in requests or bytes can be traced to the arrays that cause it.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import weakref
from dataclasses import asdict, dataclass
from urllib.parse import parse_qsl, unquote


@dataclass(frozen=True)
class Profile:
    """One-way latency in seconds; rates in bytes per second (0 = no cap)."""

    latency_s: float = 0.0
    conn_rate: float = 0.0
    total_rate: float = 0.0


PROFILES = {
    "lan": Profile(),
    "cloud": Profile(latency_s=0.015, conn_rate=80e6, total_rate=250e6),
}


def as_profile(profile: str | Profile) -> Profile:
    """A named profile or a Profile instance."""
    if isinstance(profile, Profile):
        return profile
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {sorted(PROFILES)} or a Profile, not {profile!r}")
    return PROFILES[profile]


KINDS = ("GET", "HEAD", "PUT", "LIST", "DELETE", "POST", "OTHER")
_LIST_PARAMS = {"list-type", "prefix", "delimiter", "uploads", "versions"}
_MAX_HEAD = 64 * 1024
_CHUNK = 256 * 1024
_BURST_S = 0.005


def classify(method: str, target: str) -> str:
    """S3 request kind from the request line (path-style addressing)."""
    if target.startswith(("http://", "https://")):  # absolute-form
        target = "/" + target.split("/", 3)[-1] if target.count("/") >= 3 else "/"
    path, _, query = target.partition("?")
    params = {k for k, _ in parse_qsl(query, keep_blank_values=True)}
    segments = [s for s in path.split("/") if s]
    if method == "GET":
        return "LIST" if len(segments) <= 1 or params & _LIST_PARAMS else "GET"
    return method if method in KINDS else "OTHER"


def array_of(target: str) -> str:
    """The TileDB array or group a request is for, from the request line (path-style
    addressing): the object key, or a LIST's prefix, up to TileDB's first own segment
    (``__fragments``, ``__schema``, ``__meta``, ``__tiledb_group.tdb``, ...), without the bucket.
    All-digit segments become ``<n>``: RadiObject keeps one array per volume
    (``collections/CT/volumes/0``), and a collection's volumes are counted together."""
    if target.startswith(("http://", "https://")):  # absolute-form
        target = "/" + target.split("/", 3)[-1] if target.count("/") >= 3 else "/"
    path, _, query = target.partition("?")
    key = [s for s in unquote(path).split("/") if s][1:]
    if not key:
        prefix = dict(parse_qsl(query, keep_blank_values=True)).get("prefix", "")
        key = [s for s in prefix.split("/") if s]
    kept = []
    for segment in key:
        if segment.startswith("__"):
            break
        kept.append("<n>" if segment.isdigit() else segment)
    return "/".join(kept) or "(bucket)"


# ---------------------------------------------------------------------------------------------
# HTTP/1.1 framing, observed passively (the bytes are forwarded unchanged)


class HttpStream:
    """Incremental parser of one direction of an HTTP/1.1 connection.

    ``on_message(start_line, headers, body_bytes)`` is called for each complete request (when its
    head is complete, body_bytes=None) or response (when its body is complete). Anything it
    cannot parse stops the parsing for this connection (``broken``), never the forwarding.
    """

    def __init__(self, is_request: bool, on_head, on_done=None, pending_methods=None):
        self.is_request = is_request
        self.on_head = on_head
        self.on_done = on_done
        self.pending = pending_methods  # response side: methods of requests awaiting answers
        self.broken = False
        self._buf = bytearray()
        self._state = "head"
        self._left = 0  # bytes of body (or chunk) left
        self._body = 0
        self._info = None

    def feed(self, data: bytes) -> None:
        if self.broken:
            return
        try:
            self._feed(bytes(data))
        except (ValueError, IndexError, UnicodeDecodeError):
            self.broken = True

    def eof(self) -> None:
        """Connection closed: a response delimited by close is complete now."""
        if not self.broken and self._state == "until_close":
            self._finish()

    def _feed(self, data: bytes) -> None:
        pos, n = 0, len(data)
        while pos < n:
            state = self._state
            if state == "until_close":
                self._body += n - pos
                return
            if state in ("body", "chunk_data", "chunk_crlf"):
                take = min(self._left, n - pos)
                pos += take
                self._left -= take
                if state != "chunk_crlf":
                    self._body += take
                if self._left == 0:
                    if state == "body":
                        self._finish()
                    elif state == "chunk_data":
                        self._state, self._left = "chunk_crlf", 2
                    else:
                        self._state = "chunk_size"
                continue
            # Line-oriented states: head, chunk_size, trailer.
            end = data.find(b"\n", pos)
            if end < 0:
                self._buf += data[pos:]
                if len(self._buf) > _MAX_HEAD:
                    raise ValueError("header too long")
                return
            self._buf += data[pos : end + 1]
            pos = end + 1
            if state == "head":
                if self._buf in (b"\r\n", b"\n"):
                    self._buf.clear()  # stray CRLF between messages
                elif self._buf.endswith((b"\r\n\r\n", b"\n\n")):
                    head = bytes(self._buf)
                    self._buf.clear()
                    self._head(head)
                continue
            line = bytes(self._buf)
            self._buf.clear()
            if state == "chunk_size":
                size = int(line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    self._state = "trailer"
                else:
                    self._state, self._left = "chunk_data", size
            elif not line.strip():  # trailer section ends with an empty line
                self._finish()

    def _head(self, raw: bytes) -> None:
        lines = raw.decode("latin-1").split("\n")
        start = lines[0].strip()
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        length = int(headers.get("content-length", "0") or 0)
        self._body = 0
        if self.is_request:
            method, target, version = start.split(" ", 2)
            if not (version.startswith("HTTP/1.") and method.isalpha() and method.isupper()):
                raise ValueError("not an HTTP/1.x request")
            self._info = self.on_head(method, target, headers)
            has_body = True
        else:
            version, status, *_ = start.split(" ", 2)
            if not version.startswith("HTTP/1."):
                raise ValueError("not an HTTP/1.x response")
            code = int(status)
            if 100 <= code < 200:
                self._state = "head"  # interim (100 Continue): the real answer follows
                return
            method = self.pending.popleft() if self.pending else None
            self._info = (code, method)
            has_body = method != "HEAD" and code not in (204, 304)
            if has_body and not chunked and "content-length" not in headers:
                self._state = "until_close"
                return
        if has_body and chunked:
            self._state = "chunk_size"
        elif has_body and length > 0:
            self._state, self._left = "body", length
        else:
            self._finish()

    def _finish(self) -> None:
        self._state = "head"
        if self.on_done is not None:
            self.on_done(self._info, self._body)


# ---------------------------------------------------------------------------------------------
# The proxy (runs in the child process)


class _Bucket:
    """Token bucket as a virtual clock: when the link is free to send the next byte.

    Up to ``_BURST_S`` of idle time is credited back, so that sleep overshoot of the event loop
    (about a millisecond per sleep) does not add up to a lower rate than the cap.
    """

    def __init__(self):
        self.t = 0.0

    def reserve(self, due: float, now: float, nbytes: int, rate: float) -> float:
        begin = max(due, self.t, now - _BURST_S)
        self.t = begin + nbytes / rate
        return self.t


class Proxy:
    def __init__(self, target: tuple[str, int], profile: Profile):
        self.target = target
        self.profile = profile
        self.total_up = _Bucket()
        self.total_down = _Bucket()
        self.reset()

    def reset(self) -> None:
        self.requests = collections.Counter()
        self.responses = collections.Counter()
        self.body_down = collections.Counter()
        self.array_requests = collections.Counter()  # (array, kind) -> requests
        self.array_body_down = collections.Counter()  # array -> response body bytes
        self.ranged_gets = 0
        self.bytes_up = 0
        self.bytes_down = 0
        self.connections = 0
        self.unparsed = 0

    def snapshot(self) -> dict:
        return {
            "requests": {k: self.requests.get(k, 0) for k in KINDS},
            "requests_total": sum(self.requests.values()),
            "ranged_gets": self.ranged_gets,
            "responses": dict(self.responses),
            "response_body_bytes": dict(self.body_down),
            "arrays": {
                array: {
                    "requests": {k: n for (a, k), n in self.array_requests.items() if a == array},
                    "response_body_bytes": self.array_body_down.get(array, 0),
                }
                for array in sorted({a for a, _ in self.array_requests})
            },
            "bytes_up": self.bytes_up,
            "bytes_down": self.bytes_down,
            "connections": self.connections,
            "unparsed_connections": self.unparsed,
            "profile": asdict(self.profile),
        }

    async def handle(self, c_reader, c_writer) -> None:
        self.connections += 1
        pending = collections.deque()
        kinds = collections.deque()

        def on_request(method, target, headers):
            kind, array = classify(method, target), array_of(target)
            self.requests[kind] += 1
            self.array_requests[array, kind] += 1
            if kind == "GET" and "range" in headers:
                self.ranged_gets += 1
            pending.append(method)
            kinds.append((kind, array))
            return kind

        def on_response(info, body):
            code, _method = info
            self.responses[str(code)] += 1
            kind, array = kinds.popleft() if kinds else ("OTHER", "(unknown)")
            self.body_down[kind] += body
            self.array_body_down[array] += body

        up_parser = HttpStream(True, on_request)
        down_parser = HttpStream(False, None, on_response, pending)
        s_writer = None
        tasks = []
        try:
            if self.profile.latency_s:
                await asyncio.sleep(2 * self.profile.latency_s)  # TCP handshake: one round trip
            s_reader, s_writer = await asyncio.open_connection(*self.target, limit=2 * _CHUNK)
            conn_up, conn_down = _Bucket(), _Bucket()
            tasks = [
                asyncio.ensure_future(
                    self._pump(c_reader, s_writer, up_parser, True, conn_up, self.total_up)
                ),
                asyncio.ensure_future(
                    self._pump(s_reader, c_writer, down_parser, False, conn_down, self.total_down)
                ),
            ]
            await asyncio.gather(*tasks)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            for t in tasks:
                t.cancel()
            if up_parser.broken or down_parser.broken:
                self.unparsed += 1
            for w in (c_writer, s_writer):
                if w is not None:
                    w.close()

    async def _pump(self, reader, writer, parser, upstream, conn_bucket, total_bucket) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue(maxsize=32)

        async def writer_side():
            while True:
                item = await queue.get()
                if item is None:
                    break
                due, data = item
                p, now, size = self.profile, loop.time(), len(data)
                end = due
                if p.conn_rate:
                    end = max(end, conn_bucket.reserve(due, now, size, p.conn_rate))
                if p.total_rate:
                    end = max(end, total_bucket.reserve(due, now, size, p.total_rate))
                due = end
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                writer.write(data)
                await writer.drain()
            with contextlib.suppress(OSError):
                if writer.can_write_eof():
                    writer.write_eof()

        task = asyncio.ensure_future(writer_side())
        try:
            while True:
                data = await reader.read(_CHUNK)
                if not data:
                    parser.eof()
                    break
                if upstream:
                    self.bytes_up += len(data)
                else:
                    self.bytes_down += len(data)
                parser.feed(data)
                if task.done():
                    break  # the other side is gone
                await queue.put((loop.time() + self.profile.latency_s, data))
            await queue.put(None)
            await task
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def control(self, reader, writer) -> None:
        """Line protocol on the control port: stats | reset | profile JSON-of-Profile."""
        try:
            line = (await reader.readline()).decode().strip()
            cmd, _, arg = line.partition(" ")
            if cmd == "stats":
                reply = self.snapshot()
            elif cmd == "reset":
                self.reset()
                reply = {"ok": True}
            elif cmd == "profile":
                try:
                    self.profile = Profile(**json.loads(arg))
                    reply = {"ok": True, "profile": asdict(self.profile)}
                except (ValueError, TypeError) as err:
                    reply = {"error": f"bad profile: {err}"}
            else:
                reply = {"error": f"unknown command {line!r}"}
            writer.write(json.dumps(reply).encode() + b"\n")
            await writer.drain()
        finally:
            writer.close()


async def _serve(args) -> None:
    host, _, port = args.target.rpartition(":")
    proxy = Proxy((host, int(port)), Profile(**json.loads(args.profile)))
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", args.port, limit=2 * _CHUNK)
    control = await asyncio.start_server(proxy.control, "127.0.0.1", 0)
    listen = server.sockets[0].getsockname()[1]
    ctl = control.sockets[0].getsockname()[1]
    print(f"READY {listen} {ctl}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    control.close()


# ---------------------------------------------------------------------------------------------
# The handle used by benchmarks and tests (parent process)


class NetemProxy:
    """Start/stop the proxy process; read its counters. A context manager.

    ``endpoint`` ("http://127.0.0.1:PORT") replaces the S3 server's endpoint in client settings
    (``S3Settings.via(proxy.endpoint)``).
    """

    def __init__(
        self,
        target_port: int,
        profile: str | Profile = "cloud",
        target_host: str = "127.0.0.1",
        startup_timeout: float = 10.0,
    ):
        as_profile(profile)  # validate before starting anything
        if target_host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the proxy forwards to loopback addresses only")
        self.target = f"{target_host}:{target_port}"
        self.profile = profile
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self.control_port: int | None = None
        self.proc: subprocess.Popen | None = None
        self._finalizer = None

    def __repr__(self) -> str:
        return f"NetemProxy(profile={self.profile!r}, port={self.port}, target={self.target!r})"

    def __enter__(self) -> NetemProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> NetemProxy:
        import selectors

        cmd = [sys.executable, "-I", os.path.abspath(__file__), "serve"]
        cmd += ["--target", self.target, "--profile", json.dumps(asdict(as_profile(self.profile)))]
        self._err = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the process)
        # Not at the top: the proxy child runs this file with `python -I`, stdlib only.
        from radibench.storage import process

        self.proc = process.launch(cmd, stdout=subprocess.PIPE, stderr=self._err)
        self._finalizer = weakref.finalize(self, process.stop_group, self.proc)
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        line = b""
        if sel.select(self.startup_timeout):
            line = self.proc.stdout.readline()
        sel.close()
        if not line.startswith(b"READY "):
            self.stop()
            self._err.seek(0)
            tail = self._err.read()[-2000:].decode(errors="replace")
            raise RuntimeError(
                f"netem proxy did not start within {self.startup_timeout} s:\n{tail}"
            )
        _, port, ctl = line.split()
        self.port, self.control_port = int(port), int(ctl)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            from radibench.storage import process

            process.stop_group(self.proc)
            self.proc.stdout.close()
            self.proc = None
            self._err.close()
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None

    def _call(self, line: str) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError("netem proxy is not running")
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=5) as s:
            s.sendall(line.encode() + b"\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        return json.loads(data)

    def stats(self) -> dict:
        """Counters since start or the last reset (see the module docstring)."""
        return self._call("stats")

    def reset(self) -> None:
        self._call("reset")

    def set_profile(self, profile: str | Profile) -> None:
        """Switch the emulated network for new bytes (counters are kept)."""
        reply = self._call("profile " + json.dumps(asdict(as_profile(profile))))
        if "error" in reply:
            raise ValueError(reply["error"])
        self.profile = profile


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", choices=["serve"])
    parser.add_argument("--target", help="HOST:PORT of the S3 server (loopback)")
    parser.add_argument("--profile", help="Profile as JSON (NetemProxy passes it)")
    parser.add_argument("--port", type=int, default=0, help="listen port (0: any free)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        asyncio.run(_serve(args))
    else:
        parser.print_help()


if __name__ == "__main__":
    main()
