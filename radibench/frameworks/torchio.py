"""TorchIO reading NIfTI, two ways.

`torchio`: SubjectsDataset with CropOrPad, as the study did. CropOrPad crops the CENTRE, so every
patch of a subject is the same 64^3 block: a loader benchmark, not a training recipe.
`torchio_queue`: the patch pipeline TorchIO users train with, Queue + UniformSampler (random
patches); each loaded volume yields `samples_per_volume` patches, as TorchIO's docs advise.
"""

from __future__ import annotations

from radibench.frameworks.base import Framework, LoaderSpec


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
    """Random 64^3 patches (UniformSampler), 4 per decoded .nii.gz volume, HU."""

    name = "torchio_queue"
    label = "TorchIO Queue"
    samples_per_volume = 4

    def loader(self, spec: LoaderSpec):
        import torch
        import torchio as tio

        queue = tio.Queue(
            self.subjects_dataset(),
            max_length=4 * self.samples_per_volume,
            samples_per_volume=self.samples_per_volume,
            sampler=tio.UniformSampler(spec.patch_size),
            num_workers=spec.num_workers,
            shuffle_subjects=True,
            shuffle_patches=True,
        )
        # The queue loads volumes in its own workers; the outer loader must use none.
        return torch.utils.data.DataLoader(queue, batch_size=spec.batch_size, num_workers=0)
