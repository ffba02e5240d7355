"""Partial reads (issue 6): RadiObject's published tables, on LIDC-like CT, on every commit.

Full volume, 2D slices (axial, coronal, sagittal) and 3D ROIs (32, 64, 128 a side, clamped to
the volume) of one training-cohort volume, at fixed seeded positions, read by:
- radiobject-axial / radiobject-isotropic: this commit's RadiObject, the cohort ingested from
  DICOM with axial (X, Y, 1) or isotropic 64^3 tiles; read at the NIfTI's positions through
  the value mapping detected after ingest (on the synthetic data HU + 1024, z reversed);
- monai (LoadImage), torchio (ScalarImage), nibabel-niigz: the .nii.gz, decoded whole per read;
- nibabel-nii, zarr-axial, zarr-isotropic: the same voxels, uncompressed NIfTI or zarr 3 (zstd);
- memmap: the raw int16 voxels of a .npy, memory-mapped: the fastest read this machine can do.
See radibench/prepare/partial_reads.py for the cohort, radibench/measure/reads.py for the
positions. Reads are from the page cache (warm) unless the class says cold. Handles (a
RadiObject Volume, a zarr array, a memmap) are opened once per process, as a user keeps them;
only the read is timed.

Cost per commit is bounded by reading the commit-independent readers (peers, baselines) on the
three operations RadiObject's table shows for them, with few samples and one round.
"""

from radibench import suite
from radibench.measure import reads
from radibench.measure.protocol import relative_cost
from radibench.prepare import partial_reads as cohort


class PartialReadsSetup:
    """Shares one setup_cache (three ingests, baseline files) with benchmarks/ingest.py."""

    timeout = suite.SETUP_CACHE_TIMEOUT

    def setup_cache(self):
        return cohort.prepare()

    def prepare(self, cache, name, operation):
        self.op = reads.seeded_read(operation, cache["shape"])
        self.reader = cohort.opened(cache, name, self.op)


class _Read(PartialReadsSetup):
    def setup(self, cache, reader, operation):
        self.prepare(cache, reader, operation)


class _Timed(_Read):
    """Seconds for one read of volume 0; asv re-runs setup before every sample."""

    number = 1
    warmup_time = 0
    rounds = 1

    def time_read(self, cache, reader, operation):
        self.op(self.reader)


class RadiObjectRead(_Timed):
    """Seconds for one read by this commit's RadiObject, per tiling and operation: RadiObject's
    'tiling strategy' table, and its full-volume, slice and ROI rows."""

    params = [cohort.RADIOBJECT, reads.OPERATIONS]
    param_names = ["reader", "operation"]
    version = suite.version("access-radiobject-1")
    repeat = (3, 15, 6.0)


class PeerRead(_Timed):
    """Seconds for the same reads by the tools a user would otherwise pick and by the baselines
    (commit-independent: few samples). MONAI, TorchIO and nibabel on .nii.gz decode the whole
    compressed volume for any slice or ROI, so only RadiObject's headline operations are run."""

    params = [cohort.DECODERS + cohort.PARTIAL, reads.HEADLINE_OPERATIONS]
    param_names = ["reader", "operation"]
    version = suite.version("access-peers-2")
    repeat = (2, 5, 3.0)


class ColdRead(_Timed):
    """Seconds for a read after the page cache of the reader's files was evicted (COLD: from the
    disk, posix_fadvise DONTNEED on those files only, before every sample). On a virtual disk the
    host may still cache: compare with the warm rows of this machine, not with a laptop's."""

    params = [cohort.RADIOBJECT + ["zarr-isotropic", "memmap"], ["volume", "roi_64"]]
    param_names = ["reader", "operation"]
    version = suite.version("access-cold-1")
    repeat = (2, 4, 4.0)

    def setup(self, cache, reader, operation):
        self.prepare(cache, reader, operation)
        reads.evict(cohort.files_of(cache, reader))


class Memory(_Read):
    """Resident bytes one read adds to a fresh process (the returned array included), after a
    warm-up read of another volume: RSS, not tracemalloc (which misses torch/ITK buffers and
    counts TileDB buffers that are never touched)."""

    params = [
        cohort.RADIOBJECT + ["monai", "torchio", "zarr-isotropic", "memmap"],
        ["volume", "roi_64"],
    ]
    param_names = ["reader", "operation"]
    version = suite.version("access-memory-1")

    def track_rss_delta(self, cache, reader, operation):
        """Bytes of resident memory added by the read."""
        return reads.rss_delta(self.reader, self.op)

    track_rss_delta.unit = "bytes"


class MemmapShare(PartialReadsSetup):
    """RadiObject's time / the memmap's time for the same read, alternating in one process so
    drift cancels: how far RadiObject is from the fastest read of these voxels on this machine
    (1 = at the limit; lower is better, as asv wants). Ratio, per tiling and operation."""

    params = [cohort.RADIOBJECT, reads.OPERATIONS]
    param_names = ["reader", "operation"]
    version = suite.version("access-memmap-share-1")
    repeats = 5

    def setup(self, cache, reader, operation):
        self.prepare(cache, "memmap", operation)
        self.memmap = self.reader
        self.prepare(cache, reader, operation)

    def track_share(self, cache, reader, operation):
        """RadiObject seconds / memmap seconds (speed relative to the limit = 1 / this)."""
        return relative_cost(
            lambda: self.op(self.reader), lambda: self.op(self.memmap), self.repeats
        )

    track_share.unit = "ratio"


class VersusPeers(PartialReadsSetup):
    """RadiObject's time / MONAI's or TorchIO's for the same read, alternating in one process.
    RadiObject uses the tiling that suits the read (axial for the axial slice, isotropic for
    the volume and the ROI). Below 1 RadiObject is faster; speedup = 1 / this."""

    params = [["monai", "torchio"], reads.HEADLINE_OPERATIONS]
    param_names = ["peer", "operation"]
    version = suite.version("access-versus-peers-1")
    repeats = 2

    def setup(self, cache, peer, operation):
        self.prepare(cache, peer, operation)
        self.peer = self.reader
        tiling = "axial" if operation == "slice_axial" else "isotropic"
        self.prepare(cache, f"radiobject-{tiling}", operation)

    def track_relative_cost(self, cache, peer, operation):
        """RadiObject seconds / peer seconds (1 / speedup)."""
        return relative_cost(lambda: self.op(self.reader), lambda: self.op(self.peer), self.repeats)

    track_relative_cost.unit = "ratio"
