"""The S3 server dies or hangs in the middle of a storage benchmark (issue 8, item 6).

Each case runs what asv's benchmark process runs (benchmarks/storage.py's S3VersusLocal: setup,
then batches) in a fresh process, breaks the server under it, and checks: the read fails within
seconds with an error that says what happened to the server; the process ends; neither the
server nor the latency proxy outlives it; and the next benchmark process, like asv's next one,
starts its own server on the same data and measures again.
"""

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
    from radibench.prepare.storage import connect

    cache = pickle.load(open(sys.argv[1], "rb"))
    fault = sys.argv[2]
    bench = S3VersusLocal()
    bench.setup(cache, "s3-lan", 0)
    bench.track_requests_per_batch(cache, "s3-lan", 0)  # a healthy server first
    link = connect(cache, "s3-lan")  # the process's own server and proxy
    server, proxy = link.server, link.proxy
    print("PIDS", server.proc.pid, proxy.proc.pid, flush=True)
    if fault == "dies":
        os.kill(server.proc.pid, signal.SIGKILL)
    elif fault == "hangs":
        os.kill(server.proc.pid, signal.SIGSTOP)
    start = time.monotonic()
    try:
        bench.track_requests_per_batch(cache, "s3-lan", 0)
    except Exception as exc:
        print("FAILED", round(time.monotonic() - start, 1), type(exc).__name__, exc, flush=True)
        sys.exit(1)
    print("READ", flush=True)
    """
)


def _pid_alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


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
def test_broken_server_fails_the_benchmark_clearly_and_leaves_nothing(storage_cache, fault, says):
    proc, _ = run_benchmark(storage_cache, fault)
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
    again, _ = run_benchmark(storage_cache, "none")
    assert again.returncode == 0 and "READ" in again.stdout, (again.stdout + again.stderr)[-3000:]
