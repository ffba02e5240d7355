"""The netem proxy: HTTP framing, request counting, and the emulated latency/bandwidth.

Timing asserts are lower bounds only (the emulation must add at least its delay); upper bounds
would flake on a shared 2-core machine.
"""

from __future__ import annotations

import collections
import os
import random
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from radibench.storage.netem import HttpStream, NetemProxy, Profile, array_of, classify
from radibench.storage.server import LocalS3Server

os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

BODY = os.urandom(300_000)


# -- parsing (no processes) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "target", "kind"),
    [
        ("GET", "/bkt/a/b/tile.tdb", "GET"),
        ("GET", "/bkt?list-type=2&prefix=a%2F&delimiter=%2F", "LIST"),
        ("GET", "/bkt/?prefix=x", "LIST"),
        ("GET", "/bkt", "LIST"),
        ("GET", "/", "LIST"),
        ("GET", "/bkt/key?uploads", "LIST"),
        ("HEAD", "/bkt/key", "HEAD"),
        ("PUT", "/bkt/key?partNumber=1&uploadId=abc", "PUT"),
        ("POST", "/bkt/key?uploads", "POST"),
        ("DELETE", "/bkt/key", "DELETE"),
        ("PATCH", "/bkt/key", "OTHER"),
        ("GET", "http://127.0.0.1:1/bkt/key", "GET"),
    ],
)
def test_classify(method, target, kind):
    assert classify(method, target) == kind


VOLUMES = "train/collections/CT/volumes/<n>"


@pytest.mark.parametrize(
    ("target", "array"),
    [
        ("/bkt/train/collections/CT/volumes/0/__fragments/__1_2_ab_22/a0.tdb", VOLUMES),
        ("/bkt/train/collections/CT/volumes/17/__schema/__3_4_cd", VOLUMES),
        (
            "/bkt?list-type=2&prefix=train%2Fcollections%2FCT%2Fobs%2F__meta%2F&delimiter=%2F",
            "train/collections/CT/obs",
        ),
        ("/bkt/train/collections/__tiledb_group.tdb", "train/collections"),
        ("/bkt/train%20set/obs_meta/__commits/x.wrt", "train set/obs_meta"),
        ("http://127.0.0.1:1/bkt/train/__group/x", "train"),
        ("/bkt", "(bucket)"),
    ],
)
def test_array_of_names_the_tiledb_array_a_request_is_for(target, array):
    assert array_of(target) == array


def _feed_in_random_pieces(stream: HttpStream, data: bytes, seed: int) -> None:
    rng = random.Random(seed)
    pos = 0
    while pos < len(data):
        step = rng.choice([1, 2, 3, 7, 50, 1000, 70000])
        stream.feed(data[pos : pos + step])
        pos += step


def test_keepalive_requests_and_responses_are_delimited():
    chunked = b"5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nx-trailer: 1\r\n\r\n"
    requests = (
        b"GET /b/k1 HTTP/1.1\r\nHost: h\r\nRange: bytes=0-9\r\n\r\n"
        b"PUT /b/k2 HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nGET /b/fake"
        b"PUT /b/k3 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked + b"\r\n"
        b"HEAD /b/k1 HTTP/1.1\r\nHost: h\r\n\r\n"
        b"GET /b?list-type=2 HTTP/1.1\r\nHost: h\r\n\r\n"
    )
    responses = (
        b"HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\n\r\n0123456789"
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked + b""
        b"HTTP/1.1 200 OK\r\nContent-Length: 123456\r\n\r\n"  # HEAD: no body follows
        b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n<L/>"
    )
    for seed in range(20):
        seen, done, methods = [], [], collections.deque()

        def on_head(method, target, headers, seen=seen, methods=methods):
            seen.append((method, classify(method, target), "range" in headers))
            methods.append(method)
            return method

        up = HttpStream(True, on_head)
        down = HttpStream(
            False, None, lambda info, body, done=done: done.append(info + (body,)), methods
        )
        _feed_in_random_pieces(up, requests, seed)
        _feed_in_random_pieces(down, responses, seed)
        assert not up.broken and not down.broken
        assert seen == [
            ("GET", "GET", True),
            ("PUT", "PUT", False),
            ("PUT", "PUT", False),
            ("HEAD", "HEAD", False),
            ("GET", "LIST", False),
        ]
        assert done == [
            (206, "GET", 10),
            (200, "PUT", 0),
            (200, "PUT", 8),
            (200, "HEAD", 0),
            (200, "GET", 4),
        ]


def test_response_delimited_by_close():
    done = []
    down = HttpStream(False, None, lambda info, body: done.append(body), collections.deque(["GET"]))
    down.feed(b"HTTP/1.0 200 OK\r\n\r\nabcdef")
    assert done == []
    down.eof()
    assert done == [6]


def test_garbage_stops_parsing_not_forwarding():
    up = HttpStream(True, lambda *a: None)
    up.feed(b"\x16\x03\x01 not http at all\r\n\r\n")
    assert up.broken


# -- the proxy process against a plain HTTP server -----------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def http_port():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def _get_n(port: int, n: int, path: str = "/b/obj") -> tuple[int, int, list[float]]:
    """n GETs on one keep-alive connection; bytes sent and received; seconds per GET."""
    sent = received = 0
    times = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        for _ in range(n):
            req = f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
            t0 = time.perf_counter()
            s.sendall(req)
            sent += len(req)
            buf = b""
            while b"\r\n\r\n" not in buf:
                buf += s.recv(65536)
            head, _, body = buf.partition(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            while len(body) < length:
                body += s.recv(1 << 20)
            times.append(time.perf_counter() - t0)
            assert body == BODY
            received += len(head) + 4 + len(body)
    return sent, received, times


def test_counts_requests_and_bytes_exactly(http_port):
    with NetemProxy(http_port, profile="lan") as proxy:
        sent, received, _ = _get_n(proxy.port, 7)
        sent2, received2, _ = _get_n(proxy.port, 3, "/b?list-type=2")
        stats = proxy.stats()
        assert stats["requests"]["GET"] == 7 and stats["requests"]["LIST"] == 3
        assert stats["requests_total"] == 10 and stats["connections"] == 2
        assert stats["bytes_up"] == sent + sent2
        assert stats["bytes_down"] == received + received2
        assert stats["response_body_bytes"]["GET"] == 7 * len(BODY)
        assert stats["responses"] == {"200": 10}
        proxy.reset()
        assert proxy.stats()["requests_total"] == 0


def test_cloud_profile_adds_latency_and_caps_bandwidth(http_port):
    with NetemProxy(http_port, profile="cloud") as proxy:
        t0 = time.perf_counter()
        _, _, times = _get_n(proxy.port, 4)
        first = time.perf_counter() - t0
        # a new connection pays the handshake round trip and the request's: >= 2 x 30 ms
        assert times[0] >= 0.060
        # each request on a warm connection pays one round trip (2 x 15 ms) plus 300 kB at
        # 80 MB/s (3.75 ms)
        assert min(times[1:]) >= 0.030 + 0.0037
        assert first >= 0.060 + 3 * 0.0337
        proxy.set_profile("lan")
        _, _, times = _get_n(proxy.port, 4)
        assert proxy.stats()["requests"]["GET"] == 8


def _parallel_gets(port: int, connections: int, gets: int) -> float:
    threads = [threading.Thread(target=_get_n, args=(port, gets)) for _ in range(connections)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def test_bandwidth_caps_per_connection_and_total(http_port):
    """Slow caps, so that the proxy's own speed cannot be what limits the rate."""
    with NetemProxy(http_port, profile=Profile(conn_rate=10e6)) as proxy:
        # one connection: 4 x 300 kB at 10 MB/s; 4 connections in parallel take as long
        assert _parallel_gets(proxy.port, 1, 4) >= 4 * len(BODY) / 10e6
        assert _parallel_gets(proxy.port, 4, 4) >= 4 * len(BODY) / 10e6
        proxy.set_profile(Profile(total_rate=20e6))
        # 4 connections share 20 MB/s
        assert _parallel_gets(proxy.port, 4, 4) >= 16 * len(BODY) / 20e6
        assert proxy.stats()["requests"]["GET"] == 4 + 16 + 16
        with pytest.raises(ValueError, match="profile"):
            proxy.set_profile("satellite")


def test_stop_leaves_no_process_and_rejects_remote_targets(http_port):
    proxy = NetemProxy(http_port, profile="lan").start()
    pid = proxy.proc.pid
    proxy.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(RuntimeError, match="not running"):
        proxy.stats()
    with pytest.raises(ValueError, match="loopback"):
        NetemProxy(80, target_host="192.0.2.1")
    with pytest.raises(ValueError, match="profile"):
        NetemProxy(80, profile="satellite")


# -- against the S3 server -----------------------------------------------------------------------


def test_s3_requests_counted_by_kind():
    with LocalS3Server() as server, NetemProxy(server.port, profile="lan") as proxy:
        client = server.settings.via(proxy.endpoint).boto3_client()
        b = server.bucket
        client.put_object(Bucket=b, Key="dir/obj", Body=BODY)
        proxy.reset()
        n = 5
        for _ in range(n):
            assert client.get_object(Bucket=b, Key="dir/obj")["Body"].read() == BODY
        client.get_object(Bucket=b, Key="dir/obj", Range="bytes=0-99")["Body"].read()
        client.head_object(Bucket=b, Key="dir/obj")
        client.list_objects_v2(Bucket=b, Prefix="dir/")
        client.delete_object(Bucket=b, Key="dir/obj")
        stats = proxy.stats()
    req = stats["requests"]
    assert req["GET"] == n + 1 and stats["ranged_gets"] == 1
    assert (req["HEAD"], req["LIST"], req["DELETE"], req["PUT"]) == (1, 1, 1, 0)
    assert stats["response_body_bytes"]["GET"] == n * len(BODY) + 100
    assert stats["unparsed_connections"] == 0
