"""TorchIO reading NIfTI, two ways.

`torchio`: SubjectsDataset with CropOrPad, as the study did. CropOrPad crops the CENTRE, so every
patch of a subject is the same 64^3 block: a loader benchmark, not a training recipe.
`torchio_queue`: the patch pipeline TorchIO users train with, Queue + UniformSampler (random
patches), configured as the Queue's docstring advises (max_length 300, several patches per
loaded volume, the queue's own workers loading volumes, the outer loader with none).
`torchio_queue_nii`: the same Queue reading the uncompressed `.nii` (no gzip to inflate).
"""

from __future__ import annotations

from radibench.frameworks.base import Framework, LoaderSpec, start_from_affine


class _TorchioBase(Framework):
    modules = ("torch.utils.data", "torchio")

    def __init__(self, niftis):
        self.niftis = [str(p) for p in niftis]

    def read_volume(self, i: int):
        """ScalarImage(path).data (int16 HU). TorchIO has no partial read: every slice or ROI
        loads and decodes the whole compressed volume first and is then cut."""
        import torchio as tio

        return tio.ScalarImage(self.niftis[i]).data.numpy()[0]

    def subjects_dataset(self, transform=None):
        import torchio as tio

        subjects = [tio.Subject(ct=tio.ScalarImage(p)) for p in self.niftis]
        return tio.SubjectsDataset(subjects, transform=transform)

    def images(self, batch):
        import torchio as tio

        return batch["ct"][tio.DATA]

    def locate(self, batch):
        """From each patch's file name and affine: TorchIO moves the affine with every crop."""
        paths, affines = batch["ct"]["path"], batch["ct"]["affine"]
        return [
            (self.niftis.index(str(path)), start_from_affine(str(path), affines[k]))
            for k, path in enumerate(paths)
        ]


class Torchio(_TorchioBase):
    """The central 64^3 block (CropOrPad) of the whole decoded .nii.gz volume, HU."""

    name = "torchio"
    label = "TorchIO"

    def loader(self, spec: LoaderSpec):
        import torch
        import torchio as tio

        return torch.utils.data.DataLoader(
            self.subjects_dataset(tio.CropOrPad(spec.patch_size)),
            **spec.training_loader_kwargs(),
        )


class TorchioQueue(_TorchioBase):
    """Queue + UniformSampler as its docstring advises: max_length 300, 4 random 64^3 patches
    per decoded .nii.gz volume, volumes loaded by the queue's own workers; the file's int16 HU
    cast to float32 per batch, as a training step takes it (the peers' and RadiObject's best
    recipes hand over float32 HU)."""

    name = "torchio_queue"
    label = "TorchIO Queue"
    max_length = 300

    def images(self, batch):
        return super().images(batch).float()

    def loader(self, spec: LoaderSpec):
        import torch
        import torchio as tio

        queue = tio.Queue(
            self.subjects_dataset(),
            max_length=self.max_length,
            samples_per_volume=spec.samples_per_volume,
            sampler=tio.UniformSampler(spec.patch_size),
            num_workers=spec.num_workers,
            shuffle_subjects=True,
            shuffle_patches=True,
        )
        # The queue loads volumes in its own workers; the outer loader must use none.
        return torch.utils.data.DataLoader(queue, batch_size=spec.batch_size, num_workers=0)


class TorchioQueuePlain(TorchioQueue):
    """TorchioQueue on the uncompressed .nii: the same queue, no gzip to inflate."""

    name = "torchio_queue_nii"
    label = "TorchIO Queue (.nii)"
