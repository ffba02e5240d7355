"""Baselines: what a user could read the same voxels from instead, down to the fastest read.

- nibabel on .nii.gz (the files MONAI and TorchIO read) and on uncompressed .nii: nibabel's
  ArrayProxy reads only the bytes a slice needs from .nii; from .nii.gz it must inflate the stream
  up to the last byte it needs.
- zarr 3 stores of the same voxels, zstd-compressed (zarr's default), with axial chunks
  (X, Y, 1) or isotropic 64^3 chunks: the chunked-array design RadiObject's tables compare with.
- memmap: the raw int16 voxels of a .npy, memory-mapped and copied out. No decoding, no
  metadata, only the page cache or the disk: the practical limit of this machine.

Every baseline holds the NIfTI orientation and HU (int16). The files are made once per dataset by
radibench.baseline_files, never per commit. Handles (an opened image, array or map) are kept per
volume, as a user would keep them; each read then touches the data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from radibench.frameworks.base import WHOLE, Framework


class _FileReader(Framework):
    """A reader of one file or store per volume, whose handle supports numpy slicing."""

    def __init__(self, paths):
        self.paths = [Path(p) for p in paths]
        self._handles: dict = {}

    def open(self, path: Path):
        """A handle on one volume's file that numpy-style indexing reads from."""
        raise NotImplementedError

    def handle(self, i: int):
        if i not in self._handles:
            self._handles[i] = self.open(self.paths[i])
        return self._handles[i]

    def shape(self, i: int) -> tuple[int, int, int]:
        return tuple(int(n) for n in self.handle(i).shape)

    def read_volume(self, i: int):
        return self.read_region(i, WHOLE)

    def read_region(self, i: int, region):
        return np.asarray(self.handle(i)[region])


def _nibabel(path: Path):
    """nibabel's lazy ArrayProxy (`img.dataobj[...]`): no scaling applied, int16 HU. mmap=False:
    with a memory map, reading a whole .nii returns an unread view and times nothing."""
    import nibabel

    return nibabel.load(path, mmap=False).dataobj


def _zarr(path: Path):
    import zarr

    return zarr.open_array(path, mode="r")


def _baseline(cls_name: str, name: str, label: str, opener, module: str) -> type[_FileReader]:
    attrs = {"name": name, "label": label, "modules": (module,), "open": staticmethod(opener)}
    return type(cls_name, (_FileReader,), {"__module__": __name__, **attrs})


NibabelNii = _baseline("NibabelNii", "nibabel-nii", "nibabel .nii", _nibabel, "nibabel")
NibabelNiiGz = _baseline("NibabelNiiGz", "nibabel-niigz", "nibabel .nii.gz", _nibabel, "nibabel")
ZarrAxial = _baseline("ZarrAxial", "zarr-axial", "zarr axial chunks", _zarr, "zarr")
ZarrIsotropic = _baseline("ZarrIsotropic", "zarr-isotropic", "zarr 64^3 chunks", _zarr, "zarr")


class Memmap(_FileReader):
    """np.load(mmap_mode="r") and a copy of the region: the copy is what makes it read."""

    name = "memmap"
    label = "numpy memmap"

    def open(self, path: Path):
        return np.load(path, mmap_mode="r")

    def read_region(self, i: int, region):
        return np.array(self.handle(i)[region])


BASELINES = (NibabelNii, NibabelNiiGz, ZarrAxial, ZarrIsotropic, Memmap)
