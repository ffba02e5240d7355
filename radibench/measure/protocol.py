"""The study's measuring protocol, shared by every benchmark that times a training loader.

Protocol (RadiObject's framework comparison): a fresh loader, its first batch (cold start),
3 warm-up batches, then 20 timed batches (warm batch time, throughput), then one full epoch of
the same loader; memory as resident set size (RSS) of the process plus its loader workers,
measured as a difference so that import cost is not counted, and as the peak of the kernel's
high-water marks of the process and its workers (HighWaterMarks).
"""

from __future__ import annotations

import dataclasses
import gc
import os
import statistics
import time
from typing import TYPE_CHECKING

from radibench.measure.counters import rss_bytes

if TYPE_CHECKING:  # imported where used: psutil stays out of every asv process's import
    from radibench.measure.memory import PeakMemory

WARMUP_BATCHES = 3
TIMED_BATCHES = 20


class _TimedBatches:
    """What both results derive from their timed batches (`warm_batches`, `batch_size`)."""

    warm_batches: list[float]
    batch_size: int

    @property
    def warm_batch(self) -> float:
        return statistics.median(self.warm_batches)

    @property
    def seconds_per_sample(self) -> float:
        return sum(self.warm_batches) / (len(self.warm_batches) * self.batch_size)

    @property
    def samples_per_second(self) -> float:
        return 1.0 / self.seconds_per_sample

    @property
    def slowest_batch(self) -> float:
        """A queue that refills in bursts hides its refills in the median; this shows them."""
        return max(self.warm_batches)

    def to_json(self) -> dict:
        out = dataclasses.asdict(self)
        out.update(
            warm_batch=self.warm_batch,
            seconds_per_sample=self.seconds_per_sample,
            samples_per_second=self.samples_per_second,
            slowest_batch=self.slowest_batch,
        )
        return out


@dataclasses.dataclass
class HighWaterMarks:
    """Peak memory of the process and its workers from the kernel's own high-water marks
    (VmHWM), every worker's read before it exits: no peak is too short for it, and it counts a
    page shared by several processes once in each (radibench.measure.memory)."""

    peak_memory_hwm: int  # the largest sum of the marks of the processes alive in one interval
    start_memory_hwm: int  # that sum at the start of the run
    largest_process_hwm: int  # the largest one process reached: the tree's peak was at least this
    hwm_unread: int  # processes whose mark at exit could not be read (0: peak_memory_hwm exact)

    @staticmethod
    def of(memory: PeakMemory) -> dict:
        return dict(
            peak_memory_hwm=memory.hwm_peak_bytes,
            start_memory_hwm=memory.hwm_start_bytes,
            largest_process_hwm=memory.hwm_largest_bytes,
            hwm_unread=memory.hwm_unread,
        )


def exact_peak(result: dict) -> int:
    """A run's peak_memory_hwm; an error if a process's exit escaped the marks, since the peak
    could then be missing that process's last growth."""
    if result["hwm_unread"]:
        raise RuntimeError(
            f"{result['hwm_unread']} process(es) exited without their high-water mark read "
            "(reaped other than through os.waitpid, or never): the peak is not exact"
        )
    return result["peak_memory_hwm"]


@dataclasses.dataclass
class ProtocolResult(_TimedBatches, HighWaterMarks):
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


def timed_next(batches) -> tuple[float, object]:
    start = time.perf_counter()
    batch = next(batches)
    return time.perf_counter() - start, batch


def run_protocol(framework, spec, warmup=WARMUP_BATCHES, timed=TIMED_BATCHES) -> ProtocolResult:
    """Run the study's protocol on a framework adapter in this process. The high-water marks
    cover the loader's batches up to rss_delta's sample, read with no sampler thread beside the
    timed batches: at the end for the processes alive, as they are reaped for the others."""
    from radibench.measure.memory import PeakMemory

    gc.collect()
    with PeakMemory(interval=None) as memory:
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
        rss_delta = rss_bytes() - rss_before
    expected = (spec.batch_size, 1, *spec.patch_size)
    if tuple(batch.shape) != expected:
        raise RuntimeError(f"{framework.label}: batch shape {tuple(batch.shape)} != {expected}")
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
        **HighWaterMarks.of(memory),
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


@dataclasses.dataclass
class RecipeResult(_TimedBatches, HighWaterMarks):
    """One recipe's run (run_recipe); every number per sample or per batch, never per epoch of
    a recipe-specific length, so recipes with different patches per volume compare directly."""

    framework: str
    batch_size: int
    num_workers: int
    threads: int | None  # threads per process in every library (TileDB included)
    subjects: int
    samples_per_epoch: int  # subjects x samples_per_volume, the same for every recipe
    cache_build: float  # seconds to build the recipe's cache (0 when it keeps none)
    cold_start: float  # seconds from building the loader (cache ready) to its first batch
    warm_batches: list[float]  # seconds for each timed batch after the warm-up
    epoch_seconds_per_sample: float  # over two epochs' worth of samples, after the timed ones
    peak_memory: int  # peak PSS of the process and its workers during the whole run, sampled
    start_memory: int  # PSS before the cache and the loader (interpreter and imports)
    memory_kind: str  # "pss", or "rss" where the kernel does not give PSS
    distinct_patches: float | None  # distinct patch starts per subject over two epochs
    first_batch_voxels: int | None  # voxels of the first batch compared with a reference read
    first_batch_mismatches: int | None  # of those, how many differ
    batch_shape: list[int]
    dtype: str


def run_recipe(
    framework, spec, subjects: int, reference=None, warmup=WARMUP_BATCHES, timed=TIMED_BATCHES
) -> RecipeResult:
    """The study's protocol for one recipe, with what a fair comparison adds: the cache built and
    timed on its own, memory as a sampled PSS peak of the process tree and as the peak of its
    high-water marks (cache included in both), an epoch of the same number of samples for every
    recipe, and the patches' positions recorded to count distinct crops and to check the first
    batch against `reference(framework, batch)`."""
    from radibench.measure.memory import PeakMemory

    samples_per_epoch = subjects * spec.samples_per_volume
    gc.collect()
    with PeakMemory() as memory:
        start = time.perf_counter()
        framework.prepare(spec)
        cache_build = time.perf_counter() - start
        start = time.perf_counter()
        batches = framework.batches(spec, raw=True)
        first = next(batches)
        cold_start = time.perf_counter() - start
        first_positions = _positions(framework, first)
        first = framework.images(first).clone()  # kept for the check and its shape
        for _ in range(warmup):
            next(batches)
        warm = [timed_next(batches)[0] for _ in range(timed)]
        seen, epoch_seconds = {}, 0.0
        for _ in range(-(-2 * samples_per_epoch // spec.batch_size)):
            seconds, batch = timed_next(batches)
            epoch_seconds += seconds
            for i, start_voxel in _positions(framework, batch) or ():
                seen.setdefault(i, set()).add(start_voxel)
        samples = -(-2 * samples_per_epoch // spec.batch_size) * spec.batch_size
    # Ended here, not left to the interpreter: a loader whose prefetch thread still runs at
    # exit aborts the process (ThreadDataLoader; tests/test_recipes.py).
    batches.close()
    framework.close()
    voxels = mismatches = None
    if reference is not None and first_positions is not None:
        voxels, mismatches = reference(framework, first, first_positions)
    return RecipeResult(
        framework=framework.name,
        batch_size=spec.batch_size,
        num_workers=spec.num_workers,
        threads=spec.threads,
        subjects=subjects,
        samples_per_epoch=samples_per_epoch,
        cache_build=cache_build,
        cold_start=cold_start,
        warm_batches=warm,
        epoch_seconds_per_sample=epoch_seconds / samples,
        peak_memory=memory.peak_bytes,
        start_memory=memory.start_bytes,
        memory_kind=memory.kind,
        distinct_patches=(
            statistics.mean(len(s) for s in seen.values()) if first_positions and seen else None
        ),
        first_batch_voxels=voxels,
        first_batch_mismatches=mismatches,
        batch_shape=list(first.shape),
        dtype=str(first.dtype),
        **HighWaterMarks.of(memory),
    )


def _positions(framework, batch):
    """Where each patch of a batch came from, or None if the framework does not say."""
    try:
        return framework.locate(batch)
    except NotImplementedError:
        return None


# --- keeping an accelerator busy (MLPerf Storage's accelerator utilisation) ---------------------

STEPS_MS = (20, 100, 500)  # emulated model steps per batch: a small, a mid-size, a large 3D net
STEP_MS_ENV = "RADIBENCH_STEP_MS"  # the user's own step time(s), comma-separated milliseconds
STEP_BATCHES = 10  # training steps per step time, after the warm-up
AU_TARGET = 0.9  # MLPerf Storage's passing utilisation


def steps_ms() -> tuple[int, ...]:
    """STEPS_MS and the step times RADIBENCH_STEP_MS adds (whole milliseconds, above 0)."""
    extra = [v.strip() for v in os.environ.get(STEP_MS_ENV, "").split(",") if v.strip()]
    if not all(v.isdigit() and int(v) > 0 for v in extra):
        raise ValueError(f"{STEP_MS_ENV}={','.join(extra)!r}: give whole milliseconds above 0")
    return tuple(sorted({*STEPS_MS, *map(int, extra)}))


def emulated_training(
    batches, step: float, count: int, clock=time.perf_counter, sleep=time.sleep
) -> float:
    """Accelerator utilisation of `count` training steps, each taking the next batch and then
    computing for `step` seconds, emulated by sleeping as MLPerf Storage emulates its
    accelerators: compute time over wall time. 1 when the next batch is always ready (a loader
    whose workers or thread prepare it during the step); below when the step waits for data."""
    start = clock()
    for _ in range(count):
        next(batches)
        sleep(step)
    return count * step / (clock() - start)


@dataclasses.dataclass
class UtilisationResult:
    framework: str
    num_workers: int
    steps_ms: list[int]
    utilisation: list[float]  # per step time: compute time / wall time
    batches_per_step: int

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def run_utilisation(
    framework, spec, steps=STEPS_MS, count=STEP_BATCHES, warmup=WARMUP_BATCHES
) -> UtilisationResult:
    """A recipe's training loop with its model step emulated, step time by step time, on one
    loader past its first batch and `warmup` more (the cache built first, as for run_recipe).
    At each step time, `warmup` steps first, not counted: a loader's prefetched batches are
    drained or filled by the step time before it, and a short count would measure that."""
    framework.prepare(spec)
    batches = framework.batches(spec)
    for _ in range(1 + warmup):
        next(batches)
    utilisation = []
    for ms in steps:
        emulated_training(batches, ms / 1000, warmup)  # settle at this step time
        utilisation.append(emulated_training(batches, ms / 1000, count))
    batches.close()
    framework.close()
    return UtilisationResult(framework.name, spec.num_workers, list(steps), utilisation, count)
