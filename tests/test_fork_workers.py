"""Why RadiObject's loader runs with spawned workers (frameworks.RadiObject.start_method):
with forked workers it gives no batch at all, while spawned ones give theirs within seconds.

RadiObject's own worker_init is written for forked workers (a fresh TileDB context per worker),
yet the forked workers hang once the parent holds a TileDB context, as TileDB warns. Each run is
a process group of its own, killed whole at the timeout (hung workers never notice the parent
has gone)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

TAKE_BATCHES = """
import sys, time
from radibench.frameworks import LoaderSpec, RadiObject
framework = RadiObject(sys.argv[1])
framework.import_modules()
stream = framework.batches(LoaderSpec(num_workers=2, start_method=sys.argv[2]))
for i in range(3):
    next(stream)
    print("batch", i, flush=True)
"""
SECONDS = 90  # spawned workers take a few seconds for their batches here


def batches_within(uri: str, start_method: str) -> tuple[int, bool]:
    """(batches printed, whether the loader was still running at the timeout)."""
    command = [sys.executable, "-c", TAKE_BATCHES, uri, start_method]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=SECONDS)
        hung = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        hung = True
    return out.count("batch "), hung


@pytest.mark.slow
def test_forked_workers_hang_where_spawned_ones_give_their_batches(radiobject_uri):
    assert batches_within(radiobject_uri, "spawn") == (3, False)
    assert batches_within(radiobject_uri, "fork") == (0, True)
