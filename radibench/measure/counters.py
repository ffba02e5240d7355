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


def tiledb_counts() -> dict[str, int]:
    """TileDB's own counts in this process since stats were last reset: bytes fetched, tiles
    read, arrays opened for reading (from the count behind its array-open timer)."""
    import tiledb

    stats = json.loads(tiledb.stats_dump(json=True))
    counters, timers = stats.get("counters", {}), stats.get("timers", {})
    opened = timers.get("Context.array_open_READ.sum", 0.0)
    average = timers.get("Context.array_open_READ.avg", 0.0)
    return {
        "bytes": int(counters.get("Context.VFS.read_byte_num", 0)),
        "tiles": int(counters.get("Context.Query.Reader.num_tiles_read", 0)),
        "array_opens": round(opened / average) if average else 0,
    }


def seeded_warm_batches(framework, spec, warmup: int):
    """A fresh, seeded, in-process loader's batches, past its first batch and `warmup` more:
    what every count per batch is taken from, so it is the same on every run.

    In-process (num_workers=0): TileDB's counters live in the process that reads, workers'
    prefetch would blur which batch a request belongs to, and what a batch needs does not
    depend on the workers."""
    import dataclasses

    seed_everything()
    stream = framework.batches(dataclasses.replace(spec, num_workers=0))
    for _ in range(1 + warmup):
        next(stream)
    return stream


def counts_per_batch(framework, spec, warmup: int, batches: int = COUNTED_BATCHES) -> dict:
    """Mean TileDB counts (tiledb_counts) per batch of seeded_warm_batches: the same numbers on
    every run, so a change in them is never noise."""
    import tiledb

    stream = seeded_warm_batches(framework, spec, warmup)
    tiledb.stats_enable()
    tiledb.stats_reset()
    try:
        for _ in range(batches):
            next(stream)
        return {key: value / batches for key, value in tiledb_counts().items()}
    finally:
        tiledb.stats_disable()


# The S3 request kinds gated one by one (radibench.storage.netem's kinds); every other kind
# (PUT, POST, DELETE, anything unrecognised) is counted together as "other": a reader that
# writes is a bug.
READ_REQUESTS = ("GET", "HEAD", "LIST")
OTHER_REQUESTS = "other"


def _by_kind(counted: dict, batches: int) -> dict[str, float]:
    """Requests per batch as gated: GET, HEAD, LIST, and every other kind together."""
    per_batch = {kind: counted.get(kind, 0) / batches for kind in READ_REQUESTS}
    others = sum(n for kind, n in counted.items() if kind not in READ_REQUESTS)
    per_batch[OTHER_REQUESTS] = others / batches
    return per_batch


def s3_requests(framework, spec, warmup: int, proxy, batches: int = COUNTED_BATCHES) -> dict:
    """Mean S3 requests per batch of seeded_warm_batches, counted by `proxy`
    (radibench.storage.netem.NetemProxy), which every request of the reader passes (TileDB has
    no S3 request counter): "kinds" -> GET, HEAD, LIST and "other" per batch; "arrays" -> each
    TileDB array or group (netem.array_of) -> the same kinds and "bytes" (response body bytes)
    per batch. The proxy is reset after the warm-up batches and read after the counted ones;
    in-process reads are synchronous, so every request of those batches has passed it by
    then: the same counts on every run."""
    stream = seeded_warm_batches(framework, spec, warmup)
    proxy.reset()
    for _ in range(batches):
        next(stream)
    counted = proxy.stats()
    arrays = {
        array: {
            **_by_kind(found["requests"], batches),
            "bytes": found["response_body_bytes"] / batches,
        }
        for array, found in counted.get("arrays", {}).items()
    }
    return {"kinds": _by_kind(counted["requests"], batches), "arrays": arrays}


def requests_per_batch(
    framework, spec, warmup: int, proxy, batches: int = COUNTED_BATCHES
) -> dict[str, float]:
    """Mean S3 requests per batch by kind: s3_requests' "kinds"."""
    return s3_requests(framework, spec, warmup, proxy, batches)["kinds"]


def bytes_per_batch(framework, spec, warmup: int, batches: int = COUNTED_BATCHES) -> float:
    """Mean bytes TileDB reads per batch (counts_per_batch)."""
    return counts_per_batch(framework, spec, warmup, batches)["bytes"]


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
