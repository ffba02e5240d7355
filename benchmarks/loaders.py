"""The training DataLoader comparison of RadiObject's study, on local disk.

Every framework gets the same subjects (the dataset's uniform training cohort), batch size 4,
random 64^3 patches and num_workers 0. What differs, by design of each framework:
- radiobject: patches read tile by tile (isotropic 64^3 tiles), stored values (HU + 1024), uint16.
- monai: LoadImaged + EnsureChannelFirstd + RandSpatialCropd on .nii.gz, float32 HU.
- torchio: SubjectsDataset + CropOrPad as the study did: the CENTRAL 64^3 block, int16 HU.
- torchio_queue: Queue + UniformSampler, 4 random patches per decoded volume, int16 HU.
MONAI and TorchIO decode the whole compressed volume for every patch.

asv treats every number as lower-is-better, so throughput is tracked as seconds per sample;
samples/s = 1 / that (the dashboard's README and `radibench report` show it).
"""

from radibench import suite
from radibench.frameworks import PEERS, LoaderSpec
from radibench.prepare import training

FRAMEWORKS = ["radiobject", "monai", "torchio", "torchio_queue"]


class _Loaders:
    """Shares one setup_cache (ingest + the protocol per framework) among the classes below."""

    params = [FRAMEWORKS]
    param_names = ["framework"]
    timeout = suite.SETUP_CACHE_TIMEOUT

    def setup_cache(self):
        return training.prepare_training(FRAMEWORKS)


class TrainingLoader(_Loaders):
    """The study's protocol, run once per framework and commit in a fresh process: a new loader,
    its first batch, 3 warm-up batches, 20 timed batches, then one epoch. Each number below is
    read from that one run, so the 23 batches are paid once, not once per metric."""

    version = suite.version("training-loader-1")
    rounds = 1  # the numbers come from setup_cache's one run: more rounds would repeat them

    def setup(self, cache, framework):
        self.result = training.protocol(cache, framework)

    def track_seconds_per_sample(self, cache, framework):
        """Seconds per training sample over the 20 timed batches (1 / throughput)."""
        return self.result["seconds_per_sample"]

    track_seconds_per_sample.unit = "seconds"
    track_seconds_per_sample.pretty_name = "Seconds per sample (1 / throughput)"

    def track_cold_start(self, cache, framework):
        """Seconds from building a fresh loader to its first batch (imports excluded)."""
        return self.result["cold_start"]

    track_cold_start.unit = "seconds"

    def track_warm_batch(self, cache, framework):
        """Median seconds per batch of the 20 timed batches, after 3 warm-up batches."""
        return self.result["warm_batch"]

    track_warm_batch.unit = "seconds"

    def track_epoch_seconds(self, cache, framework):
        """Seconds for one full epoch of the training cohort (drop_last, batch 4)."""
        return self.result["epoch_seconds"]

    track_epoch_seconds.unit = "seconds"

    def track_rss_delta(self, cache, framework):
        """Resident memory the loader added after the timed batches, imports excluded."""
        return self.result["rss_delta"]

    track_rss_delta.unit = "bytes"


class WarmBatch(_Loaders):
    """One batch from a loader that has already given 3 warm-up batches, timed by asv with many
    samples: the number `asv continuous` gates on (seconds)."""

    version = suite.version("warm-batch-1")
    number = 1
    warmup_time = 0
    # Batches vary (each random patch touches 1 to 8 tiles), so the median needs many: 200
    # samples give a 99% CI of a few % (see the precision study in README), ~15 s per round.
    repeat = (50, 200, 30.0)
    rounds = 2

    def setup(self, cache, framework):
        from radibench.measure.process import kept
        from radibench.measure.protocol import warm_batches

        if framework in PEERS:
            self.repeat = (3, 5, 10.0)  # ~1 s per decoded volume: fewer samples, same protocol
        self.batches = kept(
            ("warm", framework),
            lambda: warm_batches(training.adapter(cache, framework), LoaderSpec()),
        )

    def time_warm_batch(self, cache, framework):
        next(self.batches)


class ColdStart(_Loaders):
    """A fresh loader and its first batch, frameworks already imported (seconds)."""

    version = suite.version("cold-start-1")
    number = 1
    warmup_time = 0
    repeat = (3, 10, 10.0)
    rounds = 1

    def setup(self, cache, framework):
        self.framework = training.adapter(cache, framework)

    def time_first_batch(self, cache, framework):
        next(self.framework.batches(LoaderSpec()))


class Memory(_Loaders):
    """Peak resident memory of a process that imports the framework, builds the loader and takes
    4 batches. Includes the interpreter and imports (see TrainingLoader.track_rss_delta for the
    loader alone); loader workers are separate processes and not counted (num_workers 0 here)."""

    version = suite.version("memory-1")
    rounds = 1

    def setup(self, cache, framework):
        self.framework = training.adapter(cache, framework)

    def peakmem_training(self, cache, framework):
        batches = self.framework.batches(LoaderSpec())
        for _ in range(4):
            next(batches)


class BytesRead(_Loaders):
    """Bytes RadiObject's loader reads from disk per batch (TileDB's own counter), with the
    shuffle and the patches seeded: the same number on every run, so a change in it is never
    noise. It catches I/O regressions (an extra read, a bigger tile, a lost cache) exactly,
    where a timing needs many samples to see them."""

    params = [["radiobject"]]
    version = suite.version("bytes-read-1")
    rounds = 1

    def setup(self, cache, framework):
        self.framework = training.adapter(cache, framework)

    def track_bytes_per_batch(self, cache, framework):
        """Mean bytes read per batch over 8 batches after the first and 3 warm-up batches."""
        from radibench.measure.counters import bytes_per_batch
        from radibench.measure.protocol import WARMUP_BATCHES

        return bytes_per_batch(self.framework, LoaderSpec(), WARMUP_BATCHES)

    track_bytes_per_batch.unit = "bytes"


class RadiObjectVersusPeers(_Loaders):
    """RadiObject's seconds per batch divided by a peer's, their batches alternating in one
    process so machine drift cancels. Below 1 RadiObject is faster; speedup = 1 / this."""

    params = [list(PEERS)]
    param_names = ["peer"]
    version = suite.version("versus-peers-1")
    rounds = 1

    def setup(self, cache, peer):
        self.radiobject = training.adapter(cache, "radiobject")
        self.peer = training.adapter(cache, peer)

    def track_relative_cost(self, cache, peer):
        """RadiObject seconds per batch / peer seconds per batch (1 / speedup)."""
        from radibench.measure.protocol import batch_cost_ratio

        return batch_cost_ratio(self.radiobject, self.peer, LoaderSpec())

    track_relative_cost.unit = "ratio"
