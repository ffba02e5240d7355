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

    @property
    def multiprocessing_context(self) -> str | None:
        # fork deadlocks once a TileDB context exists; every framework gets spawn alike.
        return "spawn" if self.num_workers > 0 else None

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
    # How a voxel value relates to Hounsfield units: value = HU + hu_offset.
    hu_offset: ClassVar[int] = 0
    # Axes (x, y, z) whose order is reversed relative to the NIfTI files the peers read.
    flipped_axes: ClassVar[tuple[int, ...]] = ()
    # Modules a user's script imports before building a loader; cold start excludes them.
    modules: ClassVar[tuple[str, ...]] = ()

    def import_modules(self) -> None:
        import importlib

        for module in self.modules:
            importlib.import_module(module)

    def loader(self, spec: LoaderSpec):
        """A fresh iterable over training batches, built the way the framework's users do."""
        raise NotImplementedError(f"{self.label} is a file format, not a training loader")

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

    def batches(self, spec: LoaderSpec) -> Iterator:
        """Image batches from a fresh loader, across as many epochs as the caller wants."""
        if spec.num_workers > 0:
            # Loaders that take no context argument (RadiObject's, TorchIO's Queue) use the
            # default one: make it spawn too, so every framework starts workers alike.
            import torch.multiprocessing

            torch.multiprocessing.set_start_method("spawn", force=True)
        loader = self.loader(spec)
        while True:
            produced = 0
            for batch in loader:
                produced += 1
                yield self.images(batch)
            if not produced:
                raise EmptyEpoch(
                    f"{self.label}: an epoch produced no batch of {spec.batch_size} "
                    "(fewer subjects than the batch size, with drop_last)"
                )
