"""The one interface every framework adapter implements, and the loader settings they share.

An adapter turns "give me a training loader over these subjects" or "read this slice / ROI of
volume i" into the framework's own idiom, as its users would write it, and says how its output
differs from the others (dtype, values, orientation) so that benchmarks and tests can state it
rather than hide it.

Access positions are given in the frame of the NIfTI files (x, y, z); an adapter whose storage
reverses an axis (`flipped_axes`) reads the same voxels at the mirrored position and returns
them in its own order, so the benchmark times the reader's own call and nothing else.
"""

from __future__ import annotations

import abc
import dataclasses
import functools
from collections.abc import Iterator
from typing import ClassVar

Region = tuple[slice, slice, slice]
WHOLE: Region = (slice(None), slice(None), slice(None))


@dataclasses.dataclass(frozen=True)
class LoaderSpec:
    """The study's training-loader settings, identical for every framework."""

    batch_size: int = 4
    patch_size: tuple[int, int, int] = (64, 64, 64)
    num_workers: int = 0
    # Patches a best-practice recipe draws from each loaded volume per epoch (MONAI's
    # num_samples, TorchIO's samples_per_volume); the study's recipes draw one per item.
    samples_per_volume: int = 4
    # Threads each process may use inside its libraries (TileDB included); None keeps each
    # library's own default, as the study did.
    threads: int | None = None
    # How DataLoader workers start: the study started every framework's with spawn; None lets
    # each framework use what its users get (Framework.start_method).
    start_method: str | None = "spawn"

    @property
    def multiprocessing_context(self) -> str | None:
        return self.start_method if self.num_workers > 0 else None

    def training_loader_kwargs(self) -> dict:
        """torch DataLoader settings of a training loader, as RadiObject's own hard-codes them."""
        return dict(
            batch_size=self.batch_size,
            shuffle=True,
            drop_last=True,
            num_workers=self.num_workers,
            multiprocessing_context=self.multiprocessing_context,
            persistent_workers=self.num_workers > 0,
        )


class EmptyEpoch(RuntimeError):
    """A loader finished an epoch without a batch (fewer subjects than the batch, drop_last)."""


class Framework(abc.ABC):
    """A data-loading framework under test."""

    name: ClassVar[str]
    label: ClassVar[str]
    # How a voxel value relates to the NIfTI's HU: HU = hu_slope x (value - hu_offset). The peers
    # read the NIfTI itself (0, 1 and no flip); RadiObject's come per dataset from a detected
    # ValueMapping.
    hu_offset: float = 0
    hu_slope: float = 1
    # Axes (x, y, z) whose order is reversed relative to the NIfTI files the peers read.
    flipped_axes: tuple[int, ...] = ()
    # Modules a user's script imports before building a loader; cold start excludes them.
    modules: ClassVar[tuple[str, ...]] = ()
    # How its users' DataLoader workers start: Linux's default, fork, unless it cannot work.
    start_method: ClassVar[str] = "fork"

    @classmethod
    def from_dicom(cls, series, folder, reads: str, write_nifti) -> None:
        """Make what the recipe reads from the cohort's DICOM series [(folder, subject id)]
        into `folder`, as its users would before training: for a NIfTI reader, the conversion
        `write_nifti(slice files, target)` (the study's: radibench.data.datasets) to `reads`."""
        from pathlib import Path

        for dicom_dir, subject in series:
            write_nifti(sorted(Path(dicom_dir).iterdir()), Path(folder) / f"{subject}{reads}")

    def import_modules(self) -> None:
        import importlib

        for module in self.modules:
            importlib.import_module(module)

    def prepare(self, spec: LoaderSpec) -> None:
        """Build what the recipe caches before training (a cache in memory or on disk). Timed
        as its own number, never hidden before the clock nor folded into cold start."""
        return None

    def loader(self, spec: LoaderSpec):
        """A fresh iterable over training batches, built the way the framework's users do."""
        raise NotImplementedError(f"{self.label} is a file format, not a training loader")

    def close(self) -> None:
        """Remove what `prepare` wrote to disk."""
        return None

    def locate(self, batch) -> list[tuple[int, tuple[int, int, int]]]:
        """Where each patch of a batch came from: (volume index, start voxel in this adapter's
        own frame), read from what the framework reports with the batch."""
        raise NotImplementedError(f"{self.label} does not report where its patches come from")

    def images(self, batch):
        """The image tensor of a batch, shaped (batch, 1, *patch_size)."""
        raise NotImplementedError(f"{self.label} is a file format, not a training loader")

    # Partial reads. Only read_volume is required; a reader that can read part of a volume
    # without decoding all of it overrides read_region (and read_slice if it has a slice call).

    def read_volume(self, i: int):
        """Volume i as a numpy array in the adapter's own frame and values."""
        raise NotImplementedError(f"{self.label} has no volume reader here")

    def read_region(self, i: int, region: Region):
        """The box `region` of volume i, given in the adapter's own frame. By default the whole
        volume is decoded and then cut: what a reader without partial reads must do."""
        return self.read_volume(i)[region]

    def shape(self, i: int) -> tuple[int, int, int]:
        """Volume i's shape; needed only to mirror positions along `flipped_axes`."""
        raise NotImplementedError(f"{self.label} does not report shapes")

    def native(self, i: int, region: Region) -> Region:
        """`region` (NIfTI frame) moved to this adapter's frame; a whole axis stays whole."""
        if not any(region[a] != slice(None) for a in self.flipped_axes):
            return region
        shape = self.shape(i)
        return tuple(
            slice(shape[a] - r.stop, shape[a] - r.start)
            if a in self.flipped_axes and r != slice(None)
            else r
            for a, r in enumerate(region)
        )

    def read_slice(self, i: int, axis: int, index: int):
        """The 2D slice `index` along `axis` (0 sagittal, 1 coronal, 2 axial) of volume i."""
        region = tuple(slice(index, index + 1) if a == axis else slice(None) for a in range(3))
        return self.read_region(i, self.native(i, region)).take(0, axis)

    def read_roi(self, i: int, start, size):
        """The box of `size` voxels from `start` (NIfTI frame) of volume i."""
        region = tuple(slice(s, s + n) for s, n in zip(start, size, strict=True))
        return self.read_region(i, self.native(i, region))

    def fresh_loader(self, spec: LoaderSpec):
        """A fresh loader, its workers to be started the way `spec` says (default: this
        framework's own start method)."""
        spec = dataclasses.replace(spec, start_method=spec.start_method or self.start_method)
        if spec.num_workers > 0:
            # Loaders that take no context argument (RadiObject's, TorchIO's Queue) use the
            # default one: make it the chosen one too.
            import torch.multiprocessing

            torch.multiprocessing.set_start_method(spec.start_method, force=True)
        return self.loader(spec)

    def batches(self, spec: LoaderSpec, raw: bool = False) -> Iterator:
        """Image batches from a fresh loader, across as many epochs as the caller wants; with
        `raw`, the loader's whole batches (what `locate` reads)."""
        loader = self.fresh_loader(spec)
        while True:
            produced = 0
            for batch in loader:
                produced += 1
                yield batch if raw else self.images(batch)
            if not produced:
                raise EmptyEpoch(
                    f"{self.label}: an epoch produced no batch of {spec.batch_size} "
                    "(fewer subjects than the batch size, with drop_last)"
                )


def start_from_affine(path: str, affine) -> tuple[int, int, int]:
    """The start voxel of a patch in the NIfTI file `path`, from the patch's affine: MONAI and
    TorchIO move the affine with every crop, so file affine^-1 @ patch origin is the start."""
    import numpy as np

    origin = np.asarray(affine, dtype=float) @ np.array([0.0, 0.0, 0.0, 1.0])
    start = np.linalg.solve(_file_affine(path), origin)[:3]
    return tuple(int(v) for v in np.rint(start))


@functools.lru_cache(maxsize=1024)
def _file_affine(path: str):
    import nibabel

    return nibabel.load(path).affine
