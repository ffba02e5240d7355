"""Counts per training batch that do not depend on machine noise: what the pull-request gate
trusts at a tight factor (docs/precision.md), beside loaders.BytesRead's bytes.

RadiObject's loader as shipped (isotropic tiles, batch 4, 64^3 patches, 0 workers), shuffle and
patches seeded, after its first and 3 warm-up batches:
- tiles and arrays opened: TileDB's own counters (an extra read, a bigger tile, a lost open
  array cache show here exactly);
- instructions executed: valgrind's callgrind, counting only the batches (a CPU-only slowdown
  shows here when a timing's noise would hide it; n/a where valgrind is not installed).
"""

from radibench import suite
from radibench.frameworks import LoaderSpec
from radibench.measure import instructions
from radibench.measure.counters import counts_per_batch
from radibench.measure.protocol import WARMUP_BATCHES
from radibench.prepare import training


def _needs_valgrind(cache, framework):
    instructions.tools()  # NotImplementedError in a setup: n/a where valgrind is missing


class PerBatch:
    """Tiles, array opens and instructions per batch of RadiObject's training loader."""

    params = [["radiobject"]]
    param_names = ["framework"]
    version = suite.version("counts-1")
    timeout = suite.SETUP_CACHE_TIMEOUT
    rounds = 1  # the same number every run: one is enough

    def setup_cache(self):
        return training.prepare_training(["radiobject"], workers=())  # the ingest only

    def setup(self, cache, framework):
        self.framework = training.adapter(cache, framework)

    def track_tiles_per_batch(self, cache, framework):
        """Tiles TileDB reads per batch (mean of 8 batches)."""
        return counts_per_batch(self.framework, LoaderSpec(), WARMUP_BATCHES)["tiles"]

    track_tiles_per_batch.unit = "tiles"

    def track_array_opens_per_batch(self, cache, framework):
        """Arrays TileDB opens for reading per batch (mean of 8 batches)."""
        return counts_per_batch(self.framework, LoaderSpec(), WARMUP_BATCHES)["array_opens"]

    track_array_opens_per_batch.unit = "opens"

    def track_instructions_per_batch(self, cache, framework):
        """Instructions executed per batch (mean of 4 batches, callgrind)."""
        uri = cache["radiobject_uri"]
        return instructions.count(framework, cache["niftis"], uri, WARMUP_BATCHES)

    track_instructions_per_batch.setup = _needs_valgrind
    track_instructions_per_batch.unit = "instructions"
    track_instructions_per_batch.timeout = 1800
