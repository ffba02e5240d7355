"""Ingest time and bytes on disk (issue 6), per format and tiling, on every commit.

The cohort of benchmarks/access.py (the first training-cohort volumes; see
radibench/prepare/partial_reads.py),
ingested once per commit in the setup_cache this module shares with access.py: from DICOM with
axial tiles, from DICOM with isotropic 64^3 tiles, and from NIfTI with isotropic tiles. The
baseline formats (.nii.gz, .nii, .npy, zarr) are made once per dataset, so their sizes only
change with the data; they are tracked beside RadiObject's for the comparison.
"""

from benchmarks.access import PartialReadsSetup
from radibench import suite
from radibench.prepare import outcome
from radibench.prepare import partial_reads as cohort

INGESTS = [key for key, _, _ in cohort.INGESTS]


class Ingest(PartialReadsSetup):
    """Seconds per volume for RadiObject.from_dicoms / from_niftis (from_images from commit 48)
    to ingest the cohort, timed once in setup_cache: includes reading and decoding the input."""

    params = [INGESTS]
    param_names = ["ingest"]
    version = suite.version("ingest-seconds-1")

    def setup(self, cache, ingest):
        outcome.check(cache, ingest)

    def track_seconds_per_volume(self, cache, ingest):
        """Seconds of ingest per volume (one run, setup_cache)."""
        return cache["ingest_seconds"][ingest] / len(cache["subjects"])

    track_seconds_per_volume.unit = "seconds"


class DiskSpace(PartialReadsSetup):
    """Bytes on disk per volume (sum of file sizes) for each format holding the same voxels:
    DICOM (uint16, 12 bits stored), .nii.gz, .nii, .npy (int16), zarr (zstd) with axial or
    64^3 chunks, and this commit's RadiObject per ingest and tiling."""

    params = [cohort.FORMATS + INGESTS]
    param_names = ["format"]
    version = suite.version("disk-bytes-1")

    def setup(self, cache, fmt):
        if fmt in INGESTS:  # n/a where this commit lacks that ingest, not failed
            outcome.check(cache, fmt)

    def track_bytes_per_volume(self, cache, fmt):
        """Mean bytes on disk per volume."""
        return cohort.footprint(cache, fmt)

    track_bytes_per_volume.unit = "bytes"
