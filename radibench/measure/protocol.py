"""The study's measuring protocol, shared by every benchmark that times a training loader.

Protocol (RadiObject's framework comparison): a fresh loader, its first batch (cold start),
3 warm-up batches, then 20 timed batches (warm batch time, throughput), then one full epoch of
the same loader; memory as resident set size (RSS) of the process plus its loader workers,
measured as a difference so that import cost is not counted.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import statistics
import time

from radibench.measure.counters import rss_bytes

WARMUP_BATCHES = 3
TIMED_BATCHES = 20


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


def warm_batches(framework, spec, warmup: int = WARMUP_BATCHES):
    """A loader's batch stream past its first batch and `warmup` more."""
    batches = framework.batches(spec)
    for _ in range(1 + warmup):
        next(batches)
    return batches


def relative_cost(subject, reference, repeats: int) -> float:
    """Seconds of calling `subject()` / seconds of calling `reference()`, the calls alternating
    in one process so that machine drift hits both alike. Below 1 the subject is faster. Four
    significant digits: a ratio of a few timings carries no more."""
    seconds = [0.0, 0.0]
    for _ in range(repeats):
        for k, call in enumerate((subject, reference)):
            start = time.perf_counter()
            call()
            seconds[k] += time.perf_counter() - start
    return float(f"{seconds[0] / seconds[1]:.4g}")


def batch_cost_ratio(subject, reference, spec, warmup=1, timed=5) -> float:
    """relative_cost of one batch of two framework adapters' loaders, both warmed first."""
    a, b = warm_batches(subject, spec, warmup), warm_batches(reference, spec, warmup)
    return relative_cost(functools.partial(next, a), functools.partial(next, b), timed)
