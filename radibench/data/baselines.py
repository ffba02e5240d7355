"""The baseline formats of a dataset's volumes, made once and cached beside the dataset.

They do not depend on the RadiObject commit, so no benchmark makes them per commit:

    <data root>/<dataset name>.baselines/<subject>/
        manifest.json            sha256 and size of every file (verified on use)
        volume.nii               the training .nii.gz, inflated byte for byte (same header)
        volume.npy               the int16 HU voxels (x, y, z), for numpy's memmap
        axial.zarr/              zarr 3, zstd (its default), chunks (X, Y, 1)
        isotropic.zarr/          zarr 3, zstd, chunks 64^3

Each subject is written into a temporary folder and renamed into place, under the dataset's lock,
so a half-written folder is never used; a damaged one is rebuilt.
"""

from __future__ import annotations

import dataclasses
import gzip
import shutil
from pathlib import Path

from radibench.data import store
from radibench.data.datasets import Dataset

FORMAT_VERSION = 1
ZARR_CHUNKS = {"axial": None, "isotropic": (64, 64, 64)}  # None: one slice, (X, Y, 1)


@dataclasses.dataclass(frozen=True)
class BaselineFiles:
    """Paths of one subject's baseline formats."""

    root: Path

    @property
    def nii(self) -> Path:
        return self.root / "volume.nii"

    @property
    def npy(self) -> Path:
        return self.root / "volume.npy"

    def zarr(self, chunks: str) -> Path:
        return self.root / f"{chunks}.zarr"


def folder(dataset: Dataset) -> Path:
    return dataset.root.parent / f"{dataset.name}.baselines" / f"v{FORMAT_VERSION}"


def ensure(dataset: Dataset, subjects=None) -> list[BaselineFiles]:
    """The baseline files of `subjects` (default: all) of the training cohort, made if missing."""
    subjects = dataset.subjects if subjects is None else subjects
    root = folder(dataset)
    out = []
    for subject in subjects:
        target = root / subject.id
        with store.locked(root, subject.id):
            try:
                store.read_manifest(target, verify=True)
            except store.DatasetError:
                shutil.rmtree(target, ignore_errors=True)
                _build(target, subject.train_nifti)
        out.append(BaselineFiles(target))
    return out


def _build(target: Path, nifti_gz: Path) -> None:
    import nibabel
    import numpy as np
    import zarr

    def fill(partial: Path) -> dict:
        files = BaselineFiles(partial)
        with gzip.open(nifti_gz, "rb") as src, open(files.nii, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        voxels = np.asanyarray(nibabel.load(files.nii).dataobj)
        np.save(files.npy, voxels)
        for name, chunks in ZARR_CHUNKS.items():
            chunks = chunks or (*voxels.shape[:2], 1)
            array = zarr.create_array(
                store=str(files.zarr(name)), shape=voxels.shape, chunks=chunks, dtype=voxels.dtype
            )
            array[...] = voxels
        return {"source": nifti_gz.name, "shape": list(voxels.shape)}

    store.build(target, fill)
