"""What the local S3 servers and the network-emulation proxy give on this machine.

``python -m radibench.tools.s3_timings`` prints, for SeaweedFS and moto, the start time and a
10 MB put and get through boto3; then, through the proxy's ``lan`` and ``cloud`` profiles, a
100 MB GET, 1-byte GETs on a warm and a new connection, and four 50 MB GETs in parallel. Run it
on a quiet machine when choosing a server or checking a profile; nothing else calls it.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

from radibench.storage.netem import NetemProxy
from radibench.storage.server import LocalS3Server


def compare_servers() -> None:
    """Start, 10 MB put and 10 MB get for each local server kind, through boto3."""
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


def measure_profiles() -> None:
    """Big and small GETs through each network profile of the proxy, and in parallel."""
    big = os.urandom(100_000_000)
    with LocalS3Server() as server:
        direct = server.settings.boto3_client()
        direct.put_object(Bucket=server.bucket, Key="big", Body=big)
        direct.put_object(Bucket=server.bucket, Key="half", Body=big[:50_000_000])
        direct.put_object(Bucket=server.bucket, Key="small", Body=b"x")
        t0 = time.perf_counter()
        assert direct.get_object(Bucket=server.bucket, Key="big")["Body"].read() == big
        print(f"direct 100 MB GET {time.perf_counter() - t0:.2f} s (no proxy)")
        for name in ("lan", "cloud"):
            with NetemProxy(server.port, profile=name) as proxy:
                client = server.settings.via(proxy.endpoint).boto3_client()
                client.head_bucket(Bucket=server.bucket)  # warm one connection
                t0 = time.perf_counter()
                data = client.get_object(Bucket=server.bucket, Key="big")["Body"].read()
                t1 = time.perf_counter()
                assert data == big
                warm = []
                for _ in range(10):
                    t = time.perf_counter()
                    client.get_object(Bucket=server.bucket, Key="small")["Body"].read()
                    warm.append(time.perf_counter() - t)
                fresh = server.settings.via(proxy.endpoint).boto3_client()
                t = time.perf_counter()
                fresh.get_object(Bucket=server.bucket, Key="small")["Body"].read()
                cold = time.perf_counter() - t
                clients = [server.settings.via(proxy.endpoint).boto3_client() for _ in range(4)]
                for c in clients:
                    c.head_bucket(Bucket=server.bucket)

                def fetch(c):
                    return len(c.get_object(Bucket=server.bucket, Key="half")["Body"].read())

                t = time.perf_counter()
                with ThreadPoolExecutor(4) as pool:
                    total = sum(pool.map(fetch, clients))
                par = time.perf_counter() - t
                print(
                    f"{name:6s} 100 MB GET {t1 - t0:.2f} s ({100 / (t1 - t0):.0f} MB/s); "
                    f"1-byte GET warm {1000 * min(warm):.1f} ms, new connection "
                    f"{1000 * cold:.0f} ms; 4 x 50 MB in parallel {par:.2f} s "
                    f"({total / 1e6 / par:.0f} MB/s)"
                )
                print("   ", json.dumps(proxy.stats()["requests"]))


if __name__ == "__main__":
    compare_servers()
    measure_profiles()
