"""The one interface every framework adapter implements, and the loader settings they share.

An adapter turns "give me a training loader over these subjects" into the framework's own idiom,
as its users would write it, and says how its output differs from the others (dtype, values,
orientation) so that benchmarks and tests can state it rather than hide it.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Iterator
from typing import ClassVar


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
    # What the adapter's patches are, in one sentence, for docstrings and the report.
    patches: ClassVar[str]
    # Modules a user's script imports before building a loader; cold start excludes them.
    modules: ClassVar[tuple[str, ...]] = ()

    def import_modules(self) -> None:
        import importlib

        for module in self.modules:
            importlib.import_module(module)

    @abc.abstractmethod
    def loader(self, spec: LoaderSpec):
        """A fresh iterable over training batches, built the way the framework's users do."""

    @abc.abstractmethod
    def images(self, batch):
        """The image tensor of a batch, shaped (batch, 1, *patch_size)."""

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
