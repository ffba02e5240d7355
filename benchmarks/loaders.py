"""The training DataLoader comparison of RadiObject's study on local disk: the same subjects,
batch 4, random 64^3 patches, num_workers 0 for every framework (what differs by design: each
adapter's docstring, radibench/frameworks/). Throughput is tracked as seconds per sample."""

from radibench import suite
from radibench.frameworks import PEERS, STUDY, LoaderSpec
from radibench.measure.counters import bytes_per_batch
from radibench.measure.process import kept
from radibench.measure.protocol import WARMUP_BATCHES, exact_peak, warm_batches
from radibench.prepare import training

FRAMEWORKS = list(STUDY)  # the study's recipes; the best ones are in recipes.py


class _Loaders:
    """One setup_cache (ingest + the protocol per framework) for the classes below; RadiObject
    only: the peers' ~0.7 s would set each graph's y axis and thumbnail. StudyPeers has them."""

    params = [["radiobject"]]
    param_names = ["framework"]
    timeout = suite.SETUP_CACHE_TIMEOUT
    rounds = 1  # track_ numbers come from setup_cache's processes: rounds would repeat them

    def setup_cache(self):
        return training.prepare_training(FRAMEWORKS)


class TrainingLoader(_Loaders):
    """The study's protocol (first batch, 3 warm-up, 20 timed, an epoch) per framework in 5
    fresh processes, interleaved: one sample each, asv keeps their median and 99% interval."""

    version = suite.version("training-loader-1")
    unit = "seconds"  # every track_ below but track_rss_delta

    def setup(self, cache, framework):
        self.result = training.protocol(cache, framework)

    def track_seconds_per_sample(self, cache, framework):
        """Seconds per training sample over the 20 timed batches (1 / throughput)."""
        return self.result["seconds_per_sample"]

    def track_cold_start(self, cache, framework):
        """Seconds from building a fresh loader to its first batch (imports excluded)."""
        return self.result["cold_start"]

    def track_warm_batch(self, cache, framework):
        """Median seconds per batch of the 20 timed batches, after 3 warm-up batches."""
        return self.result["warm_batch"]

    def track_epoch_seconds(self, cache, framework):
        """Seconds for one full epoch of the training cohort (drop_last, batch 4)."""
        return self.result["epoch_seconds"]

    def track_rss_delta(self, cache, framework):
        """Resident memory the loader added after the timed batches, imports excluded."""
        return self.result["rss_delta"]

    track_rss_delta.unit = "bytes"

    def track_peak_memory_hwm(self, cache, framework):
        """Peak RSS by the kernel's high-water marks (VmHWM) of the process and any workers, to
        the last timed batch, imports included: no peak too short (radibench.measure.memory)."""
        return exact_peak(self.result)

    track_peak_memory_hwm.unit = "bytes"


class WarmBatch(_Loaders):
    """One batch after 3 warm-up batches, timed by asv with many samples (a patch touches 1 to
    8 tiles: batches vary): the number `asv continuous` gates on (docs/precision.md)."""

    version = suite.version("warm-batch-1")
    number, warmup_time = 1, 0
    repeat = (50, 200, 30.0)
    rounds = 2

    def setup(self, cache, framework):
        self.batches = kept(
            ("warm", framework),
            lambda: warm_batches(training.adapter(cache, framework), LoaderSpec()),
        )

    def time_warm_batch(self, cache, framework):
        next(self.batches)


class ColdStart(_Loaders):
    """A fresh loader and its first batch, frameworks already imported (seconds)."""

    version = suite.version("cold-start-1")
    number, warmup_time = 1, 0
    repeat = (3, 10, 10.0)

    def setup(self, cache, framework):
        self.framework = training.adapter(cache, framework)

    def time_first_batch(self, cache, framework):
        next(self.framework.batches(LoaderSpec()))


class Memory(_Loaders):
    """asv's peak RSS of one process that imports the framework, builds the loader and takes 4
    batches (TrainingLoader.track_peak_memory_hwm: the same over the protocol's processes)."""

    version = suite.version("memory-1")

    def setup(self, cache, framework):
        self.framework = training.adapter(cache, framework)

    def peakmem_training(self, cache, framework):
        batches = self.framework.batches(LoaderSpec())
        for _ in range(4):
            next(batches)


class StudyPeers(TrainingLoader, Memory):
    """The study's peers (MONAI, TorchIO), constant over RadiObject's commits, in graphs of
    their own: TrainingLoader's numbers from the same protocol run, Memory's peak."""

    params = [list(PEERS)]
    param_names = ["peer"]
    version = suite.version("study-peers-1")

    def setup(self, cache, peer):
        TrainingLoader.setup(self, cache, peer)
        Memory.setup(self, cache, peer)  # imports the peer, for peakmem_training


class BytesRead(_Loaders):
    """Bytes RadiObject's loader reads per batch (TileDB's counter), seeded: the same on every
    run, so an I/O regression (an extra read, a bigger tile, a lost cache) shows exactly."""

    version = suite.version("bytes-read-1")

    def setup(self, cache, framework):
        self.framework = training.adapter(cache, framework)

    def track_bytes_per_batch(self, cache, framework):
        """Mean bytes read per batch over 8 batches after the first and 3 warm-up batches."""
        return bytes_per_batch(self.framework, LoaderSpec(), WARMUP_BATCHES)

    track_bytes_per_batch.unit = "bytes"


class RadiObjectVersusPeers(_Loaders):
    """RadiObject's seconds per sample over a peer's, one ratio per round of TrainingLoader's
    fresh processes (training.relative_cost). Below 1 RadiObject is faster; speedup = 1 / this."""

    params = [list(PEERS)]
    param_names = ["peer"]
    version = suite.version("versus-peers-2")

    def setup(self, cache, peer):
        self.ratio = training.relative_cost(cache, "radiobject", peer)

    def track_relative_cost(self, cache, peer):
        """RadiObject seconds per sample / peer seconds per sample (1 / speedup)."""
        return self.ratio

    track_relative_cost.unit = "ratio"
