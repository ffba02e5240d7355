"""Peak memory of this process and its workers over a region of code, as PSS, sampled in a thread.

Why not the alternatives: tracemalloc misses torch/ITK buffers (not allocated through Python)
and counts TileDB buffers that are reserved but never touched; RSS counts a page shared by the
forked or spawned DataLoader workers once per process; and a single sample after the run misses
a volume that was decoded and freed between samples. PSS (proportional set size) splits every
shared page among the processes that map it, so the sum over the process tree is the memory the
tree really uses.

Cost, measured on a ~300 MB process with 2 spawned workers (4 processes, with multiprocessing's
resource tracker): one tree_bytes() takes ~1.5 ms of CPU back to back and ~2.5 ms spaced out
(cold caches); two thirds of it is psutil scanning /proc for the children (it grows with the
number of processes on the machine), ~0.13 ms per process is the kernel summing smaps_rollup.
DEFAULT_INTERVAL = 0.1 s keeps the sampler thread at ~3 % of one core (it holds the GIL for part
of that); pass a smaller interval to catch shorter peaks at a proportional cost.
"""

from __future__ import annotations

import os
import threading

import psutil

DEFAULT_INTERVAL = 0.1  # seconds between samples: ~3 % of one core (module docstring)
VANISHED = (psutil.NoSuchProcess, FileNotFoundError, ProcessLookupError, PermissionError)


def memory_of(pid: int) -> tuple[int, str]:
    """(bytes, "pss" or "rss") of one process. smaps_rollup is the cheap PSS (the kernel sums
    it); psutil's pss reads the full smaps (older kernels); RSS where neither is readable."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as rollup:
            for line in rollup:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024, "pss"
    except (FileNotFoundError, PermissionError):  # no smaps_rollup here, or not ours to read
        pass
    process = psutil.Process(pid)  # NoSuchProcess if it was gone rather than unreadable
    try:
        return process.memory_full_info().pss, "pss"
    except (psutil.AccessDenied, AttributeError):  # AttributeError: no pss on this platform
        return process.memory_info().rss, "rss"


def pss_bytes(pid: int | None = None) -> int:
    """PSS of one process (this one by default), RSS where PSS cannot be read."""
    return memory_of(os.getpid() if pid is None else pid)[0]


def tree_bytes(pid: int | None = None) -> tuple[int, int, str]:
    """(total bytes, processes counted, kind) over a process and all its descendants, listed
    afresh on every call because workers start and stop. A process that exits between listing
    and reading is skipped; kind is "rss" if any process had to be read as RSS."""
    pid = os.getpid() if pid is None else pid
    try:
        pids = [pid] + [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except VANISHED:
        return 0, 0, "pss"
    total, counted, kind = 0, 0, "pss"
    for each in pids:
        try:
            size, measure = memory_of(each)
        except VANISHED:
            continue
        total, counted = total + size, counted + 1
        kind = "rss" if measure == "rss" else kind
    return total, counted, kind


class PeakMemory:
    """`with PeakMemory() as peak: ...` then peak.peak_bytes: the largest tree_bytes() seen by a
    daemon thread sampling every `interval` seconds, plus one sample at entry and one at exit so
    a short region is never missed entirely. Also start_bytes (the entry sample), samples,
    peak_processes (processes in the peak sample) and kind ("rss" once any sample fell back)."""

    def __init__(self, interval: float = DEFAULT_INTERVAL, pid: int | None = None):
        self.interval, self.pid = interval, os.getpid() if pid is None else pid
        self.peak_bytes = self.start_bytes = self.samples = self.peak_processes = 0
        self.kind = "pss"
        self.error: BaseException | None = None

    def sample(self) -> int:
        total, processes, kind = tree_bytes(self.pid)
        self.samples += 1
        self.kind = "rss" if kind == "rss" else self.kind
        if total > self.peak_bytes:
            self.peak_bytes, self.peak_processes = total, processes
        return total

    def run(self) -> None:
        try:
            while not self.stop.wait(self.interval):
                self.sample()
        except BaseException as error:  # a dead sampler would report a falsely low peak
            self.error = error

    def __enter__(self) -> PeakMemory:
        self.start_bytes = self.sample()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name="peak-memory", daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop.set()
        self.thread.join()
        self.sample()
        if self.error is not None and exc_info[0] is None:
            raise RuntimeError("the peak-memory sampler failed") from self.error
