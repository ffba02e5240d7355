"""MONAI reading NIfTI, as the study did: LoadImaged, EnsureChannelFirstd, RandSpatialCropd."""

from __future__ import annotations

from radibench.frameworks.base import Framework, LoaderSpec


class Monai(Framework):
    """Random 64^3 crops of the whole decoded .nii.gz volume, float32 HU."""

    name = "monai"
    label = "MONAI"
    modules = ("monai.data", "monai.transforms")

    def __init__(self, niftis):
        self.niftis = [str(p) for p in niftis]
        self._load = None

    def read_volume(self, i: int):
        """LoadImage on the .nii.gz (float32 HU). MONAI has no partial read: every slice or ROI
        decodes the whole compressed volume first and is then cut (Framework.read_region)."""
        if self._load is None:
            from monai.transforms import LoadImage

            self._load = LoadImage(image_only=True)
        return self._load(self.niftis[i]).numpy()

    def loader(self, spec: LoaderSpec):
        from monai.data import DataLoader, Dataset
        from monai.transforms import Compose, EnsureChannelFirstd, LoadImaged, RandSpatialCropd

        transform = Compose(
            [
                LoadImaged(keys=["image"]),
                EnsureChannelFirstd(keys=["image"]),
                RandSpatialCropd(keys=["image"], roi_size=spec.patch_size, random_size=False),
            ]
        )
        dataset = Dataset(data=[{"image": p} for p in self.niftis], transform=transform)
        return DataLoader(
            dataset,
            **spec.training_loader_kwargs(),
        )

    def images(self, batch):
        return batch["image"]
