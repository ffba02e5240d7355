"""The S3 server dies or hangs in the middle of a storage benchmark (issue 8, item 6).

Each case runs what asv's benchmark process runs (benchmarks/storage.py's S3VersusLocal: setup,
then batches) in a fresh process, breaks the server under it, and checks: the read fails within
seconds with an error that says what happened to the server; the process ends; neither the
server nor the latency proxy outlives it; and the next benchmark process, like asv's next one,
starts its own server on the same data and measures again.
"""

import os
import pickle
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# seconds; TileDB's request timeouts (radibench/storage/s3.py) end a hung read sooner
FAIL_WITHIN = 60

SCRIPT = textwrap.dedent(
    """
    import os, pickle, signal, sys, time
    from benchmarks.storage import S3VersusLocal

    cache = pickle.load(open(sys.argv[1], "rb"))
    fault = sys.argv[2]
    bench = S3VersusLocal()
    bench.setup(cache, "s3-lan", 0)
    bench.time_warm_batch(cache, "s3-lan", 0)  # a healthy server first
    server, proxy = bench.link.server, bench.link.proxy
    print("PIDS", server.proc.pid, proxy.proc.pid, flush=True)
    if fault == "dies":
        os.kill(server.proc.pid, signal.SIGKILL)
    elif fault == "hangs":
        os.kill(server.proc.pid, signal.SIGSTOP)
    start = time.monotonic()
    try:
        bench.time_warm_batch(cache, "s3-lan", 0)
    except Exception as exc:
        print("FAILED", round(time.monotonic() - start, 1), type(exc).__name__, exc, flush=True)
        sys.exit(1)
    print("READ", flush=True)
    """
)


def _pid_alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, quick, data_root):
    """setup_cache of the storage module: the cohort ingested on disk and into S3."""
    from radibench.prepare import storage

    folder = tmp_path_factory.mktemp("storage-cache")
    # No real bucket here, even a developer's (s3-real: tests/test_s3_real.py).
    env = {"RADIBENCH_PROFILE": "quick", "RADIBENCH_DATA": str(data_root), "RADIBENCH_S3_URI": ""}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        cache = storage.prepare(folder)
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    assert cache["problems"].keys() == {"s3-real"}, cache["problems"]  # n/a: no bucket named
    path = folder / "cache.pickle"
    path.write_bytes(pickle.dumps(cache))
    return path


def run_benchmark(cache: Path, fault: str) -> tuple[subprocess.CompletedProcess, float]:
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(cache), fault],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return proc, time.monotonic() - start


@pytest.mark.parametrize(
    ("fault", "says"),
    [("dies", "exited with code -9"), ("hangs", "does not answer HTTP within 1 s: it hangs")],
)
def test_broken_server_fails_the_benchmark_clearly_and_leaves_nothing(prepared, fault, says):
    proc, _ = run_benchmark(prepared, fault)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-3000:]
    failed = next(line for line in proc.stdout.splitlines() if line.startswith("FAILED"))
    seconds, kind = float(failed.split()[1]), failed.split()[2]
    print(failed)
    assert kind == "S3ReadError" and says in failed, failed
    assert seconds < FAIL_WITHIN, failed
    pids = [int(p) for p in proc.stdout.split("PIDS", 1)[1].split()[:2]]
    deadline = time.monotonic() + 15
    while any(map(_pid_alive, pids)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(map(_pid_alive, pids)), f"orphans left: {pids}"

    # asv's next benchmark process: its own server on the same data, and it measures.
    again, _ = run_benchmark(prepared, "none")
    assert again.returncode == 0 and "READ" in again.stdout, (again.stdout + again.stderr)[-3000:]
