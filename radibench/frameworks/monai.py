"""MONAI reading NIfTI: the study's recipe and the two MONAI's fast-training guide advertises.

`monai`: the study's plain Dataset (LoadImaged, EnsureChannelFirstd, RandSpatialCropd), which
decodes a whole .nii.gz volume for every 64^3 patch.
`monai_cache`: CacheDataset holds the deterministic transforms' output (whole float32 volumes)
in memory; RandSpatialCropSamplesd draws several patches per cached volume.
`monai_cache_threads`: the same cache fed by ThreadDataLoader, as MONAI's fast-training guide pairs
them (no worker processes: one thread prefetches the next batch, nothing is pickled).
`monai_persistent`: PersistentDataset keeps that output on local disk (torch files) instead.
`monai_nii`: the plain Dataset with several patches per load, reading the uncompressed `.nii`
(nibabel maps it; no gzip to inflate), the first thing a MONAI user would try without a cache.
"""

from __future__ import annotations

import shutil
import tempfile

from radibench.frameworks.base import Framework, LoaderSpec, start_from_affine


class Monai(Framework):
    """Random 64^3 crops of the whole decoded .nii.gz volume, float32 HU (the study)."""

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

    def deterministic(self):
        from monai.transforms import EnsureChannelFirstd, LoadImaged

        return [LoadImaged(keys=["image"]), EnsureChannelFirstd(keys=["image"])]

    def dataset(self, spec: LoaderSpec):
        from monai.data import Dataset
        from monai.transforms import Compose, RandSpatialCropd

        crop = RandSpatialCropd(keys=["image"], roi_size=spec.patch_size, random_size=False)
        return Dataset(data=self.items(), transform=Compose([*self.deterministic(), crop]))

    def items(self) -> list[dict]:
        """Data dicts with the subject's index beside the file, as MONAI users keep ids."""
        return [{"image": p, "subject": i} for i, p in enumerate(self.niftis)]

    def loader(self, spec: LoaderSpec):
        from monai.data import DataLoader

        return DataLoader(self.dataset(spec), **spec.training_loader_kwargs())

    def images(self, batch):
        return batch["image"]

    def locate(self, batch):
        """From each patch's subject and affine: MONAI moves the affine with every crop (a
        PersistentDataset keeps the affine but drops the file name, hence the subject key)."""
        affines = batch["image"].affine
        return [
            (int(i), start_from_affine(self.niftis[int(i)], affines[k]))
            for k, i in enumerate(batch["subject"])
        ]


class _MonaiSamples(Monai):
    """Several patches per volume (RandSpatialCropSamplesd), a batch of `batch_size` patches."""

    def samples(self, spec: LoaderSpec):
        from monai.transforms import RandSpatialCropSamplesd

        return RandSpatialCropSamplesd(
            keys=["image"],
            roi_size=spec.patch_size,
            num_samples=spec.samples_per_volume,
            random_size=False,
        )

    def loader(self, spec: LoaderSpec):
        from monai.data import DataLoader

        return DataLoader(self._dataset, **self.loader_kwargs(spec))

    @staticmethod
    def loader_kwargs(spec: LoaderSpec) -> dict:
        """The training loader's settings with a batch of volumes, each giving several patches."""
        if spec.batch_size % spec.samples_per_volume:
            raise ValueError("batch_size must be a multiple of samples_per_volume")
        kwargs = spec.training_loader_kwargs()
        kwargs["batch_size"] = spec.batch_size // spec.samples_per_volume  # volumes per batch
        return kwargs


class MonaiPlain(_MonaiSamples):
    """The plain Dataset on the uncompressed .nii: every load decodes (maps and converts) the
    whole volume, 4 random 64^3 patches per load, float32 HU; no cache to build."""

    name = "monai_nii"
    label = "MONAI Dataset (.nii)"

    def prepare(self, spec: LoaderSpec) -> None:
        from monai.data import Dataset
        from monai.transforms import Compose

        self._dataset = Dataset(
            data=self.items(), transform=Compose([*self.deterministic(), self.samples(spec)])
        )


class MonaiCache(_MonaiSamples):
    """CacheDataset (cache_rate 1, copy_cache=False as its docstring advises when the random
    transforms do not modify the cache), 4 random 64^3 patches per cached volume, float32 HU."""

    name = "monai_cache"
    label = "MONAI CacheDataset"

    def prepare(self, spec: LoaderSpec) -> None:
        from monai.data import CacheDataset
        from monai.transforms import Compose

        self._dataset = CacheDataset(
            data=self.items(),
            transform=Compose([*self.deterministic(), self.samples(spec)]),
            cache_rate=1.0,
            num_workers=spec.threads or 1,  # its caching threads, within the thread budget
            copy_cache=False,
            progress=False,
        )


class MonaiCacheThreads(MonaiCache):
    """CacheDataset as monai_cache, fed by ThreadDataLoader with num_workers=0 as MONAI's
    fast-training guide sets it up: a thread builds the next batch while the training step
    runs. Worker processes are not the guide's recipe (n/a there)."""

    name = "monai_cache_threads"
    label = "MONAI CacheDataset + ThreadDataLoader"

    def prepare(self, spec: LoaderSpec) -> None:
        if spec.num_workers:
            raise NotImplementedError(
                "MONAI's guide runs ThreadDataLoader with num_workers=0 (its thread prefetches)"
            )
        super().prepare(spec)

    def loader(self, spec: LoaderSpec):
        from monai.data import ThreadDataLoader

        return ThreadDataLoader(self._dataset, **self.loader_kwargs(spec))


class MonaiPersistent(_MonaiSamples):
    """PersistentDataset (the deterministic transforms' output as torch files on local disk),
    4 random 64^3 patches per loaded volume, float32 HU."""

    name = "monai_persistent"
    label = "MONAI PersistentDataset"

    def prepare(self, spec: LoaderSpec) -> None:
        from monai.data import PersistentDataset
        from monai.transforms import Compose

        # Local disk, in the working folder (asv's temporary folder for this benchmark).
        self._cache_dir = tempfile.mkdtemp(prefix="monai-persistent-", dir=".")
        self._dataset = PersistentDataset(
            data=self.items(),
            transform=Compose([*self.deterministic(), self.samples(spec)]),
            cache_dir=self._cache_dir,
        )
        for i in range(len(self._dataset)):  # write the cache now, as a first epoch would
            self._dataset[i]

    def locate(self, batch):
        """PersistentDataset stores no metadata by default (track_meta=False): the cached
        volumes come back with an identity affine, so each crop's translation is its start."""
        affines = batch["image"].affine
        return [
            (int(i), tuple(int(v) for v in affines[k][:3, 3].round()))
            for k, i in enumerate(batch["subject"])
        ]

    def close(self) -> None:
        if getattr(self, "_cache_dir", None):
            shutil.rmtree(self._cache_dir, ignore_errors=True)
