"""PeakMemory sees what a sample of the parent's RSS after the run cannot: a transient peak, the
memory of child processes, pages shared with forked children counted once; and it stays quiet
when nothing is allocated and when processes vanish (radibench.measure.memory)."""

import os
import signal
import subprocess
import sys
import time
import types

import numpy as np
import psutil
import pytest

from radibench.measure import memory

MB = 2**20


def test_a_transient_allocation_is_seen_although_it_is_freed_before_the_end():
    """In a bare interpreter: a long-lived test process may get the 200 MB from pages its
    allocator kept resident after earlier frees, so its footprint (rightly) does not grow."""
    region = (
        "import time; import numpy as np; from radibench.measure import memory\n"
        "with memory.PeakMemory(interval=0.005) as peak:\n"
        "    volume = np.ones(200 * 2**20 // 8)  # every page touched\n"
        "    time.sleep(0.3)\n"
        "    del volume\n"
        "after, _, _ = memory.tree_bytes()\n"
        "print(peak.peak_bytes - peak.start_bytes, after - peak.start_bytes, peak.kind)"
    )
    out = subprocess.run([sys.executable, "-c", region], check=True, capture_output=True)
    growth, left, kind = out.stdout.split()
    assert int(growth) >= 150 * MB
    assert int(left) < 50 * MB  # a sample after the run would have missed it
    assert kind == b"pss"


def test_the_memory_of_a_child_process_is_counted():
    child = "import time; data = b'x' * (150 << 20); time.sleep(0.5)"  # 150 MB, touched
    with memory.PeakMemory(interval=0.005) as peak:
        subprocess.run([sys.executable, "-c", child], check=True)
    assert peak.peak_bytes - peak.start_bytes >= 100 * MB
    assert peak.peak_processes >= 2
    assert memory.tree_bytes()[1] == 1  # the child is gone: only a live listing could see it


def test_a_region_without_allocation_peaks_near_its_start():
    """In a bare interpreter: the PSS of shared library pages moves with unrelated processes
    that map the same libraries (by tens of MB with torch), which is not the sampler's doing."""
    region = (
        "import time; from radibench.measure import memory\n"
        "with memory.PeakMemory(interval=0.005) as peak: time.sleep(0.3)\n"
        "print(peak.samples, peak.peak_bytes - peak.start_bytes)"
    )
    out = subprocess.run([sys.executable, "-c", region], check=True, capture_output=True)
    samples, growth = map(int, out.stdout.split())
    assert samples >= 20  # the sampler ran
    assert growth < 3 * MB


def test_pages_shared_with_forked_children_are_counted_once():
    shared = np.ones(200 * MB // 8)
    before, _, _ = memory.tree_bytes()
    rss_before = psutil.Process().memory_info().rss
    children = []
    try:
        for _ in range(2):
            pid = os.fork()
            if pid == 0:
                try:
                    time.sleep(30)
                finally:
                    os._exit(0)
            children.append(pid)
        time.sleep(0.2)
        after, processes, _ = memory.tree_bytes()
        rss_after = sum(psutil.Process(p).memory_info().rss for p in [os.getpid(), *children])
    finally:
        for pid in children:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    del shared
    assert processes == 3
    assert rss_after - rss_before >= 2 * 200 * MB  # RSS counts the buffer once per process
    assert after - before < 50 * MB  # PSS splits it among them


def test_vanished_processes_are_skipped(monkeypatch):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with pytest.raises(memory.VANISHED):
        memory.pss_bytes(dead.pid)  # the error is real; tree_bytes must absorb it
    assert memory.tree_bytes(dead.pid) == (0, 0, "pss")

    zombie = subprocess.Popen([sys.executable, "-c", "pass"])  # exited, not yet waited for
    while psutil.Process(zombie.pid).status() != psutil.STATUS_ZOMBIE:
        time.sleep(0.01)
    try:
        assert memory.tree_bytes()[1] == 1  # listed as a child, unreadable, skipped
    finally:
        zombie.wait()

    listed = [types.SimpleNamespace(pid=dead.pid)]  # exits between listing and reading
    monkeypatch.setattr(psutil.Process, "children", lambda self, recursive=False: listed)
    total, processes, kind = memory.tree_bytes()
    assert (processes, kind) == (1, "pss")
    assert total > 0
