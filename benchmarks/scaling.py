"""Training-loader scaling with DataLoader workers: RadiObject's multi-worker table.

The study's loader (batch 4, random 64^3 patches, the training cohort; RadiObject with isotropic
tiles) with num_workers 0, 1 and 2, workers started with spawn, each run in a fresh interpreter
during setup_cache (radibench.prepare.training). To bound the per-commit cost: RadiObject and one
peer (MONAI), 1 warm-up and 4 timed batches (not 3 and 20), one epoch. On a 2-core machine more
than 2 workers only measures contention.
"""

from radibench import suite
from radibench.measure.protocol import exact_peak
from radibench.prepare import training

FRAMEWORKS = ["radiobject", "monai"]  # RadiObject plus one peer: bounded per-commit cost
WORKERS = [0, 1, 2]
WARMUP, TIMED = 1, 4


class Workers:
    """Seconds per sample and memory of the main process plus its workers, per worker count."""

    params = [FRAMEWORKS, WORKERS]
    param_names = ["framework", "workers"]
    version = suite.version("scaling-1")
    timeout = suite.SETUP_CACHE_TIMEOUT

    def setup_cache(self):
        return training.prepare_training(FRAMEWORKS, WORKERS, WARMUP, TIMED)

    def setup(self, cache, framework, workers):
        self.result = training.protocol(cache, framework, workers)

    def track_seconds_per_sample(self, cache, framework, workers):
        """Seconds per training sample over the timed batches (1 / throughput)."""
        return self.result["seconds_per_sample"]

    track_seconds_per_sample.unit = "seconds"

    def track_rss_delta(self, cache, framework, workers):
        """Resident bytes the loader added: main process plus its worker processes, sampled after
        the timed batches (imports of the main process excluded; workers' imports included,
        since every spawned worker pays them)."""
        return self.result["rss_delta"]

    track_rss_delta.unit = "bytes"

    def track_peak_memory_hwm(self, cache, framework, workers):
        """Peak memory from the kernel's high-water marks (VmHWM) of the main process plus its
        workers, from building the loader to the last timed batch, imports included (every
        spawned worker pays them): no peak is too short to show; a page shared by several
        processes counts in each."""
        return exact_peak(self.result)

    track_peak_memory_hwm.unit = "bytes"
