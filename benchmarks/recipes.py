"""Every framework as its own maintainers would configure it to train fast, beside the study's
recipes: the comparison an ML engineer choosing a loader can trust.

Same cohort, batch 4 of random 64^3 patches, one thread per process in every library (TileDB
included), the same samples per epoch (subjects x 4), workers 0 and 2 (each framework's own
worker start method; RadiObject needs spawn). Recipes (radibench/frameworks/):
`radiobject` (shipped create_training_dataloader), `radiobject_random` (fresh random patches
through the public Volume API), `monai` (study), `monai_cache` (CacheDataset),
`monai_cache_threads` (the same with ThreadDataLoader), `monai_persistent` (PersistentDataset),
`monai_nii` (Dataset on the uncompressed .nii), `torchio` (study, CropOrPad), `torchio_queue`
(Queue as its docs advise), `torchio_queue_nii` (the Queue on the uncompressed .nii).
Every number comes from several runs per recipe, each in a fresh process, interleaved across
the recipes during setup_cache (radibench.prepare.recipes, RADIBENCH_PROCESSES, default 5): a
timing reaches asv as one sample per process, so asv stores the median over the processes and
its 99% confidence interval. asv's lower-is-better holds for all but the correctness counts,
whose expected values are stated.
"""

from radibench import frameworks, suite
from radibench.measure.protocol import exact_peak
from radibench.prepare import recipes

RECIPES = [r.name for r in frameworks.RECIPES]
WORKERS = [0, 2]
COHORTS = [10, 40, 100]
SCALED = list(frameworks.ANSWER)  # the study's peers decode a volume per patch: no need


class _Runs:
    """Shares one setup_cache (ingest + one run per recipe and worker count) between classes."""

    # Every recipe in 5 processes takes over an hour on a 2-core machine (the study's recipes
    # decode a volume per patch); asv kills a setup_cache at its timeout.
    timeout = 3 * suite.SETUP_CACHE_TIMEOUT
    rounds = 1  # the processes are setup_cache's (interleaved across recipes), not asv's rounds

    def setup_cache(self):
        return recipes.prepare(RECIPES, WORKERS)


class Recipes(_Runs):
    """Throughput, cold start, cache build and peak memory of each recipe (seconds, bytes)."""

    params = [RECIPES, WORKERS]
    param_names = ["recipe", "workers"]
    version = suite.version("recipes-2")
    unit = "seconds"

    def setup(self, cache, recipe, workers):
        self.result = recipes.result(cache, recipe, workers)

    def track_seconds_per_sample(self, cache, recipe, workers):
        """Seconds per sample over the 20 timed batches after 3 warm-up (1 / throughput)."""
        return self.result["seconds_per_sample"]

    def track_epoch_seconds_per_sample(self, cache, recipe, workers):
        """Seconds per sample over two epochs of subjects x 4 samples, after the timed batches:
        a queue's refills and a loader's epoch restarts included."""
        return self.result["epoch_seconds_per_sample"]

    def track_cold_start(self, cache, recipe, workers):
        """Seconds from building the loader (its cache already built) to the first batch."""
        return self.result["cold_start"]

    def track_cache_build(self, cache, recipe, workers):
        """Seconds to build the recipe's cache before training (0 for recipes without one)."""
        return self.result["cache_build"]

    def track_slowest_batch(self, cache, recipe, workers):
        """The slowest of the 20 timed batches: where a queue's refill shows."""
        return self.result["slowest_batch"]

    def track_peak_memory(self, cache, recipe, workers):
        """Peak memory (PSS, sampled) of the process and its workers during the whole run,
        cache included; the interpreter and imports are part of it."""
        return self.result["peak_memory"]

    track_peak_memory.unit = "bytes"

    def track_peak_memory_hwm(self, cache, recipe, workers):
        """Peak memory from the kernel's high-water marks (VmHWM) of the process and its
        workers, each worker's read before it exits: no peak is too short to show, unlike the
        sampled PSS, but a page shared by several processes counts in each (an upper bound)."""
        return exact_peak(self.result)

    track_peak_memory_hwm.unit = "bytes"


class Correctness(_Runs):
    """What the patches are, recorded by every run (the worst process's): distinct random crops
    per subject over two epochs (a seeded loader repeats one; lower is NOT better here) and
    voxels of the first batch that differ from a reference read of the same box (expected 0)."""

    params = [RECIPES]
    param_names = ["recipe"]
    version = suite.version("correctness-2")
    unit = "count"

    def setup(self, cache, recipe):
        self.result = recipes.result(cache, recipe)

    def track_distinct_patches(self, cache, recipe):
        """Distinct patch positions per subject over two epochs (8 = a new crop every time)."""
        return self.result["distinct_patches"]

    def track_first_batch_mismatches(self, cache, recipe):
        """Voxels of the first batch that differ from nibabel's read of the same box."""
        return self.result["first_batch_mismatches"]


class Cohorts:
    """Seconds per sample and peak memory as the cohort grows (workers 0): where an in-memory
    cache stops fitting the memory budget (RADIBENCH_MEMORY_BUDGET_GB; beyond it: n/a)."""

    params = [SCALED, COHORTS]
    param_names = ["recipe", "subjects"]
    version = suite.version("cohorts-2")
    timeout = 3 * suite.SETUP_CACHE_TIMEOUT
    rounds = 1
    unit = "seconds"

    def setup_cache(self):
        return recipes.prepare(SCALED, (0,), COHORTS)

    def setup(self, cache, recipe, subjects):
        self.result = recipes.result(cache, recipe, 0, subjects)

    def track_seconds_per_sample(self, cache, recipe, subjects):
        """Seconds per sample over the 20 timed batches (1 / throughput). With 40 or more
        subjects a queue's first fill holds more than these batches: see the epoch number."""
        return self.result["seconds_per_sample"]

    def track_epoch_seconds_per_sample(self, cache, recipe, subjects):
        """Seconds per sample over two epochs (subjects x 4 samples each), refills included."""
        return self.result["epoch_seconds_per_sample"]

    def track_peak_memory(self, cache, recipe, subjects):
        """Peak memory (PSS) of the process and its workers, cache included."""
        return self.result["peak_memory"]

    track_peak_memory.unit = "bytes"

    def track_peak_memory_hwm(self, cache, recipe, subjects):
        """Peak memory from the kernel's high-water marks of the process and its workers (as
        Recipes.track_peak_memory_hwm), cache included."""
        return exact_peak(self.result)

    track_peak_memory_hwm.unit = "bytes"

    def track_cache_build(self, cache, recipe, subjects):
        """Seconds to build the recipe's cache (0 without one)."""
        return self.result["cache_build"]
