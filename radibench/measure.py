"""The study's measuring protocol, shared by every benchmark that times a training loader.

Protocol (RadiObject's framework comparison): a fresh loader, its first batch (cold start),
3 warm-up batches, then 20 timed batches (warm batch time, throughput), then one full epoch of
the same loader; memory as resident set size (RSS) of the process plus its loader workers,
measured as a difference so that import cost is not counted. tracemalloc is not used: it misses
torch/ITK buffers and counts TileDB buffers that are never touched.

`python -m radibench.measure` runs the protocol for one framework in a fresh process and prints
JSON, so that frameworks never share a process (imports, allocator state, threads).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

WARMUP_BATCHES = 3
TIMED_BATCHES = 20

# One thread per library on a 2-core machine, so that timings do not fight the loader workers.
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS": "1",
    # No EC2 metadata probe from boto3/the AWS SDK when no credentials are set.
    "AWS_EC2_METADATA_DISABLED": "true",
}


def pin_threads() -> None:
    """Apply THREAD_ENV to this process before heavy imports. torch reads OMP_NUM_THREADS when it
    is first imported, so torch is not imported here: every asv process would pay for it."""
    for key, value in THREAD_ENV.items():
        os.environ.setdefault(key, value)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def end_with_parent() -> None:
    """Have the kernel SIGTERM this process when the process that started it dies (Linux).

    asv starts each benchmark in a process group of its own, so an `asv run` killed by a CI
    timeout, an OOM kill or SIGKILL would leave the running benchmark behind as an orphan, still
    loading the machine and holding its S3 server (whose own parent-death signal then fires).
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    parent = os.getppid()
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


def seed_everything(seed: int = 0) -> None:
    """Same shuffle order and random patches every run (single-process loading)."""
    import random

    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def tiledb_bytes_read() -> int:
    """Bytes TileDB read in this process since stats were last reset (its own counter)."""
    import tiledb

    counters = json.loads(tiledb.stats_dump(json=True)).get("counters", {})
    return int(counters.get("Context.VFS.read_byte_num", 0))


def rss_bytes(include_children: bool = True) -> int:
    """Resident memory of this process and, optionally, of its child processes (workers)."""
    import psutil

    me = psutil.Process()
    total = me.memory_info().rss
    if include_children:
        for child in me.children(recursive=True):
            with contextlib.suppress(psutil.Error):  # a worker that just exited
                total += child.memory_info().rss
    return total


@dataclasses.dataclass
class ProtocolResult:
    framework: str
    batch_size: int
    num_workers: int
    cold_start: float  # seconds from building the loader to its first batch
    warm_batches: list[float]  # seconds for each of the timed batches
    epoch_seconds: float  # one full pass over the training cohort
    epoch_batches: int
    rss_delta: int  # bytes added by the loader (process + workers), imports excluded
    batch_shape: list[int]
    dtype: str

    @property
    def warm_batch(self) -> float:
        return statistics.median(self.warm_batches)

    @property
    def seconds_per_sample(self) -> float:
        return sum(self.warm_batches) / (len(self.warm_batches) * self.batch_size)

    @property
    def samples_per_second(self) -> float:
        return 1.0 / self.seconds_per_sample

    def to_json(self) -> dict:
        out = dataclasses.asdict(self)
        out.update(
            warm_batch=self.warm_batch,
            seconds_per_sample=self.seconds_per_sample,
            samples_per_second=self.samples_per_second,
        )
        return out


def timed_next(batches) -> tuple[float, object]:
    start = time.perf_counter()
    batch = next(batches)
    return time.perf_counter() - start, batch


def run_protocol(framework, spec, warmup=WARMUP_BATCHES, timed=TIMED_BATCHES) -> ProtocolResult:
    """Run the study's protocol on a framework adapter in this process."""
    gc.collect()
    rss_before = rss_bytes()
    start = time.perf_counter()
    batches = framework.batches(spec)
    batch = next(batches)
    cold_start = time.perf_counter() - start
    for _ in range(warmup):
        next(batches)
    warm = []
    for _ in range(timed):
        seconds, batch = timed_next(batches)
        warm.append(seconds)
    expected = (spec.batch_size, 1, *spec.patch_size)
    if tuple(batch.shape) != expected:
        raise RuntimeError(f"{framework.label}: batch shape {tuple(batch.shape)} != {expected}")
    rss_delta = rss_bytes() - rss_before
    loader = framework.loader(spec)  # one epoch of a loader built the same way, already warm
    start = time.perf_counter()
    epoch_batches = sum(1 for _ in loader)
    epoch_seconds = time.perf_counter() - start
    return ProtocolResult(
        framework=framework.name,
        batch_size=spec.batch_size,
        num_workers=spec.num_workers,
        cold_start=cold_start,
        warm_batches=warm,
        epoch_seconds=epoch_seconds,
        epoch_batches=epoch_batches,
        rss_delta=rss_delta,
        batch_shape=list(batch.shape),
        dtype=str(batch.dtype),
    )


def relative_cost(subject, reference, spec, warmup=1, timed=5) -> float:
    """Seconds per batch of `subject` divided by `reference`'s, batches alternating in one
    process so that machine drift hits both alike. Below 1: the subject is faster."""
    subject_batches, reference_batches = subject.batches(spec), reference.batches(spec)
    for _ in range(warmup + 1):
        next(subject_batches)
        next(reference_batches)
    subject_time = reference_time = 0.0
    for _ in range(timed):
        subject_time += timed_next(subject_batches)[0]
        reference_time += timed_next(reference_batches)[0]
    return subject_time / reference_time


def run_protocol_in_subprocess(
    name: str, niftis, radiobject_uri, num_workers=0, timeout=1200, env=None
) -> dict:
    """The protocol for one framework in a fresh interpreter; returns its JSON result."""
    command = [sys.executable, "-m", "radibench.measure", name, *map(str, niftis)]
    command += ["--workers", str(num_workers)]
    if radiobject_uri:
        command += ["--radiobject-uri", str(radiobject_uri)]
    child_env = {**os.environ, **THREAD_ENV, **(env or {})}
    repo_root = str(Path(__file__).resolve().parent.parent)
    child_env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [repo_root, os.environ.get("PYTHONPATH")])
    )
    proc = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=child_env, check=False
    )
    if proc.returncode == 3:  # NotImplementedError: the framework lacks the API at this commit
        return {"unavailable": proc.stderr.strip().splitlines()[-1]}
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"protocol for {name} failed (exit {proc.returncode}):\n{tail}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("framework")
    parser.add_argument("niftis", nargs="*", type=Path)
    parser.add_argument("--radiobject-uri")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--warmup", type=int, default=WARMUP_BATCHES)
    parser.add_argument("--timed", type=int, default=TIMED_BATCHES)
    args = parser.parse_args(argv)
    pin_threads()
    end_with_parent()  # the benchmark process that runs this may itself be killed
    from radibench import frameworks

    try:
        framework = frameworks.make(args.framework, args.niftis, args.radiobject_uri)
        framework.import_modules()
        spec = frameworks.LoaderSpec(num_workers=args.workers)
        result = run_protocol(framework, spec, args.warmup, args.timed)
    except NotImplementedError as exc:
        print(f"unavailable: {exc}", file=sys.stderr)
        return 3
    print(json.dumps(result.to_json()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
