"""Numbers that do not depend on machine noise (bytes read), and memory as resident set size.

tracemalloc is not used for memory: it misses torch/ITK buffers and counts TileDB buffers that
are never touched. Bytes come from TileDB's own counter, in the process that reads.
"""

from __future__ import annotations

import contextlib
import json

COUNTED_BATCHES = 8  # batches over which per-batch counters are averaged, after warm-up


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


def bytes_per_batch(framework, spec, warmup: int, batches: int = COUNTED_BATCHES) -> float:
    """Mean bytes TileDB reads per batch of a fresh, seeded, in-process loader, after its first
    batch and `warmup` more: the same number on every run, so a change in it is never noise.

    TileDB's counters live in the process that reads, so the loader always runs in-process
    (num_workers=0): what a batch needs does not depend on the workers."""
    import dataclasses

    import tiledb

    seed_everything()
    stream = framework.batches(dataclasses.replace(spec, num_workers=0))
    for _ in range(1 + warmup):
        next(stream)
    tiledb.stats_enable()
    tiledb.stats_reset()
    try:
        for _ in range(batches):
            next(stream)
        return tiledb_bytes_read() / batches
    finally:
        tiledb.stats_disable()


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
