"""The recipe comparison in the regimes people train in, beyond a warm page cache: from a cold
page cache, from the DICOM folder, and with an accelerator to keep busy (docs/recipes.md).

The recipes of `make bench`'s answer (benchmarks.recipes.SCALED: RadiObject's and each peer's
best) at 0 and 2 workers, each number from 5 fresh processes, interleaved across the recipes
(radibench.prepare.recipes), reaching asv as one sample per process.
"""

import benchmarks.recipes as recipes_bench
from radibench import suite
from radibench.measure.protocol import steps_ms
from radibench.prepare import recipes

SCALED, WORKERS = recipes_bench.SCALED, recipes_bench.WORKERS
STEPS_MS = list(steps_ms())  # emulated model steps (RADIBENCH_STEP_MS adds the user's own)


class ColdCache(recipes_bench.Recipes):
    """Recipes' numbers with a cold page cache: before each run's process starts, every file it
    reads (the NIfTI files, or RadiObject's arrays) is evicted (posix_fadvise DONTNEED) and
    checked gone (mincore), as after a reboot or with a cohort larger than RAM. The recipes of
    `make bench`'s answer, 5 fresh processes each, interleaved."""

    params = [SCALED, WORKERS]
    version = suite.version("cold-cache-1")

    def setup_cache(self):
        return recipes.prepare(SCALED, WORKERS, cold=True)


class FromDicom:
    """Seconds from the cohort's DICOM series to what each recipe reads, as its users would
    make it: RadiObject's ingest (isotropic tiles), or SimpleITK's conversion to NIfTI (.nii.gz,
    or .nii for the _nii recipes), as the study made its files; one sample per fresh process (5,
    interleaved). Beside each recipe's cache build and cold start, the time from a DICOM folder
    to a first batch."""

    params = [SCALED]
    param_names = ["recipe"]
    version = suite.version("from-dicom-1")
    timeout = suite.SETUP_CACHE_TIMEOUT
    rounds = 1
    unit = "seconds"

    def setup_cache(self):
        return recipes.prepare_from_dicom(SCALED)

    def setup(self, cache, recipe):
        self.seconds = recipes.preparation(cache, recipe)

    def track_preparation(self, cache, recipe):
        """Seconds to ingest or convert the whole cohort from its DICOM series."""
        return self.seconds


class Utilisation:
    """Does the loader keep an accelerator busy? MLPerf Storage's accelerator utilisation (AU):
    the training loop with each model step emulated by sleeping `step_ms` after taking a batch;
    at each step time 3 steps to settle, then 10 counted, AU = compute time / wall time; MLPerf
    Storage passes a loader at 90%. Tracked as 1 - AU (the share of the time the accelerator
    waits for data: lower is better), one sample per fresh process (5, interleaved). The
    recipes of `make bench`'s answer; RADIBENCH_STEP_MS adds your own step time(s)."""

    params = [SCALED, WORKERS, STEPS_MS]
    param_names = ["recipe", "workers", "step_ms"]
    version = suite.version("utilisation-2")
    timeout = 3 * suite.SETUP_CACHE_TIMEOUT
    rounds = 1
    unit = "ratio"  # of two timings in one process: wait / wall

    def setup_cache(self):
        return recipes.prepare(SCALED, WORKERS, steps_ms=STEPS_MS)

    def setup(self, cache, recipe, workers, step_ms):
        self.wait = recipes.accelerator_wait(cache, recipe, workers, step_ms)

    def track_accelerator_wait(self, cache, recipe, workers, step_ms):
        """1 - AU: the share of the wall time the emulated accelerator waits for a batch."""
        return self.wait
