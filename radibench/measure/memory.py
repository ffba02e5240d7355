"""Peak memory of this process and its workers over a region of code, two ways (PeakMemory).

- The kernel's high-water marks (`hwm_*`): VmHWM in /proc/PID/status is the most resident memory
  (RSS) a process has had, kept by the kernel itself, so no peak is too short for it. It is
  read for every process of the tree at each sample while the process lives, and again when
  the process is reaped: wait4's ru_maxrss is its VmHWM at exit. The figure is the largest
  sum, over one sampling interval, of the marks of every process alive in it. It misses no
  peak but overstates the tree's simultaneous one: the processes need not peak at the same
  moment, and RSS counts a page shared by several processes once in each (a forked worker's
  RSS includes the parent's pages it maps; a spawned one's, the shared libraries). The
  largest single process's mark (`hwm_largest_bytes`) is the other side: the tree's resident
  peak was at least that.
- PSS sampled in a thread (`peak_bytes`): PSS (proportional set size) splits every shared page
  among the processes that map it, so its sum over the tree is the memory the tree really uses,
  but only at the instants sampled: a peak shorter than the interval can fall between two
  samples (a fast loader's batch can, a 3 s decode cannot), so it is an estimate from below.

Why not the alternatives: tracemalloc misses torch/ITK buffers (not allocated through Python)
and counts TileDB buffers that are reserved but never touched; a single sample after the run
misses a volume that was decoded and freed; asv's peakmem_ (ru_maxrss) sees the benchmark
process alone, not its workers.

Reading a child's high-water mark at its exit: a process that has exited keeps no memory map
(a zombie's status has no VmHWM), so only its reaper learns the mark, from wait4. While a
PeakMemory is open, os.waitpid, which multiprocessing (fork and spawn: every DataLoader worker,
TorchIO's Queue included) and subprocess's wait() reap with, is replaced by the same call
through os.wait4, which hands the mark over. A process seen alive whose exit was reaped some
other way (subprocess's poll(), a grandchild reaped by a worker), or still a zombie at the end,
is counted in `hwm_unread`: its last mark read is a lower bound, and the peak is not exact.

Cost, measured on a ~300 MB process with 2 spawned workers (4 processes, with multiprocessing's
resource tracker): the PSS part of one sample takes ~1.5 ms of CPU back to back and ~2.5 ms
spaced out (cold caches); two thirds of it is psutil scanning /proc for the children (it grows
with the number of processes on the machine), ~0.13 ms per process is the kernel summing
smaps_rollup; reading VmHWM adds ~0.07 ms per process. DEFAULT_INTERVAL = 0.1 s keeps the
sampler thread at ~3 % of one core (it holds the GIL for part of that); pass a smaller interval
to catch shorter PSS peaks at a proportional cost, or None for no thread: PSS at entry and exit
only, and high-water marks at exit for the processes still alive and at reaping for the others
(the sum then adds processes that never lived at the same time, and one born and reaped other
than through os.waitpid goes unseen).
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


def high_water_mark(pid: int | None = None) -> int | None:
    """VmHWM of one process (this one by default) in bytes: the most resident memory it has had
    since it started or since reset_high_water_mark(); None once it has exited (a zombie keeps
    no memory map). Raises one of VANISHED if the process is gone altogether."""
    with open(f"/proc/{os.getpid() if pid is None else pid}/status", "rb") as status:
        for line in status:
            if line.startswith(b"VmHWM:"):
                return int(line.split()[1]) * 1024
    return None


def reset_high_water_mark() -> None:
    """Set this process's VmHWM to its current RSS (Linux's clear_refs "5"), so that a peak
    before a region (imports, an earlier run) does not hide one inside it. It also lowers
    getrusage's ru_maxrss, which is what asv's peakmem_ benchmarks read."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


def tree_pids(pid: int | None = None) -> list[int]:
    """A process and all its descendants, listed afresh (workers start and stop); [] if the
    process is gone. Zombies are listed: they are children until reaped."""
    pid = os.getpid() if pid is None else pid
    try:
        return [pid] + [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except VANISHED:
        return []


def tree_bytes(pid: int | None = None) -> tuple[int, int, str]:
    """(total PSS bytes, processes counted, kind) over a process and all its descendants. A
    process that exits between listing and reading is skipped; kind is "rss" if any process had
    to be read as RSS."""
    total, counted, kind = 0, 0, "pss"
    for each in tree_pids(pid):
        try:
            size, measure = memory_of(each)
        except VANISHED:
            continue
        total, counted = total + size, counted + 1
        kind = "rss" if measure == "rss" else kind
    return total, counted, kind


_reap_listeners: list = []  # (pid that installed it, callback(pid, high-water mark bytes))
_reap_lock = threading.Lock()
_plain_waitpid = os.waitpid


def _waitpid_reading_peaks(pid, options, /):
    """os.waitpid through os.wait4 (the same wait): a child reaped here hands its ru_maxrss
    (KiB), its VmHWM at exit, to the listeners; the caller gets what waitpid gives."""
    reaped, status, usage = os.wait4(pid, options)
    if reaped and (os.WIFEXITED(status) or os.WIFSIGNALED(status)):
        for owner, listener in tuple(_reap_listeners):
            if owner == os.getpid():  # not in a forked child: its copy serves nobody
                listener(reaped, usage.ru_maxrss * 1024)
    return reaped, status


def _listening() -> bool:
    """Whether a PeakMemory of this process is open (one encloses a new one)."""
    return any(owner == os.getpid() for owner, _ in _reap_listeners)


def _listen_to_reaping(listener) -> None:
    with _reap_lock:
        _reap_listeners.append((os.getpid(), listener))
        os.waitpid = _waitpid_reading_peaks


def _stop_listening(listener) -> None:
    with _reap_lock:
        _reap_listeners.remove((os.getpid(), listener))
        if not _reap_listeners and os.waitpid is _waitpid_reading_peaks:
            os.waitpid = _plain_waitpid


class PeakMemory:
    """`with PeakMemory() as peak: ...`, then (module docstring for what each means):

    - hwm_peak_bytes: the largest sum of high-water marks of the processes alive in one
      sampling interval (each read while it lived or at its exit); hwm_start_bytes: the sum at
      entry; hwm_largest_bytes: the largest one process reached; hwm_unread: processes whose
      last mark could not be read (0 when the peak is exact). With reset_own_peak (default),
      this process's mark starts from its RSS at entry (unless a PeakMemory encloses this one:
      its peak would be lost); pass False inside an asv peakmem_ benchmark, whose ru_maxrss
      the reset lowers.
    - peak_bytes: the largest tree PSS seen by a daemon thread sampling every `interval`
      seconds, plus one sample at entry and one at exit so a short region is never missed
      entirely; start_bytes (the entry sample), samples, peak_processes (processes in the peak
      sample) and kind ("rss" once any sample fell back).
    """

    def __init__(
        self,
        interval: float | None = DEFAULT_INTERVAL,
        pid: int | None = None,
        reset_own_peak: bool = True,
    ):
        self.interval, self.pid = interval, os.getpid() if pid is None else pid
        self.reset_own_peak = reset_own_peak
        self.peak_bytes = self.start_bytes = self.samples = self.peak_processes = 0
        self.kind = "pss"
        self.hwm_peak_bytes = self.hwm_start_bytes = self.hwm_largest_bytes = 0
        self.hwm_unread = 0
        self.error: BaseException | None = None
        self.lock = threading.Lock()
        self.marks: dict[int, int] = {}  # last high-water mark of each process alive at a sample
        self.exits: list[tuple[int, int]] = []  # (pid, mark at exit) reaped since the last sample

    def reaped(self, pid: int, mark: int) -> None:
        """A child's high-water mark at exit, from the reaping call (any thread)."""
        with self.lock:
            self.exits.append((pid, mark))

    def sample(self, last: bool = False) -> int:
        pids = tree_pids(self.pid)
        total, processes, kinds, read = 0, 0, set(), {}
        for pid in pids:
            try:
                size, measure = memory_of(pid)
                total, processes = total + size, processes + 1
                kinds.add(measure)
            except VANISHED:  # exited between listing and reading, or a zombie
                pass
            try:
                read[pid] = high_water_mark(pid)
            except VANISHED:
                read[pid] = None
        self.samples += 1
        self.kind = "rss" if "rss" in kinds else self.kind
        if total > self.peak_bytes:
            self.peak_bytes, self.peak_processes = total, processes
        self.add_marks(pids, read, last)
        return total

    def add_marks(self, pids: list[int], read: dict[int, int | None], last: bool) -> None:
        """Sum the marks of this interval: processes listed now (a zombie with its last mark),
        those reaped since the last sample, and those gone without a reaping we saw (their last
        mark, a lower bound: counted in hwm_unread)."""
        with self.lock:
            exits, self.exits = self.exits, []
        exited = {pid for pid, _ in exits}
        marks = {}
        for pid in pids:
            if pid in exited:
                continue  # its mark at exit counts, below
            mark = read.get(pid)
            if mark is None:  # exited, not yet reaped: its last mark, if it had one
                mark = self.marks.get(pid)
                if last:  # still not reaped at the end: its exit is unread
                    self.hwm_unread += 1
            if mark is not None:
                marks[pid] = mark
        lost = [pid for pid in self.marks if pid not in marks and pid not in exited]
        self.hwm_unread += len(lost)
        values = [*marks.values(), *(mark for _, mark in exits), *(self.marks[p] for p in lost)]
        self.marks = marks
        self.hwm_peak_bytes = max(self.hwm_peak_bytes, sum(values))
        self.hwm_largest_bytes = max([self.hwm_largest_bytes, *values])

    def run(self) -> None:
        try:
            while not self.stop.wait(self.interval):
                self.sample()
        except BaseException as error:  # a dead sampler would report a falsely low peak
            self.error = error

    def __enter__(self) -> PeakMemory:
        if self.pid == os.getpid():
            if not os.path.exists("/proc/self/status") or high_water_mark() is None:
                raise RuntimeError("no VmHWM in /proc/self/status: exact peaks need Linux")
            if self.reset_own_peak and not _listening():
                reset_high_water_mark()
            _listen_to_reaping(self.reaped)
        self.start_bytes = self.sample()
        self.hwm_start_bytes = self.hwm_peak_bytes
        self.stop = threading.Event()
        self.thread = None
        if self.interval is not None:
            self.thread = threading.Thread(target=self.run, name="peak-memory", daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join()
        try:
            self.sample(last=True)
        finally:
            if self.pid == os.getpid():
                _stop_listening(self.reaped)
        if self.error is not None and exc_info[0] is None:
            raise RuntimeError("the peak-memory sampler failed") from self.error
