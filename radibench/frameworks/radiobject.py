"""RadiObject, at whichever commit asv installed: the one place that knows its API eras.

Checked by running every upstream commit (see KNOWLEDGE in the team notes and README):

| era | commits    | ingest                                   | loader's first argument |
|-----|------------|------------------------------------------|-------------------------|
| 0   | 01         | not an importable package                | -                       |
| 1   | 02 .. 07   | from_dicoms(uri, dicom_dirs=[(dir, id)]) | RadiObject + modalities |
| 2   | 08 .. 47   | from_dicoms(uri, dicom_dirs=...)         | a VolumeCollection      |
| 3   | 48 .. HEAD | from_images(uri, images=, format_hint=)  | a VolumeCollection      |

Tiling: configure(tile=TileConfig(...)) in era 1, configure(write=WriteConfig(tile=...)) later.
Partial reads: Volume.to_numpy(), axial(z), coronal(y), sagittal(x) and slice(x=, y=, z=) exist
at every commit 02..HEAD; `vol[a:b, c:d, e:f]` only from 04, so ROIs use `slice`.
Values and slice order are not an era's but each series': DICOM ingest (checked at 0.1.1) keeps the
raw stored values (no rescale) and sorts slices by InstanceNumber, so relative to the NIfTI files
they are HU + 1024 with z reversed on the synthetic data and plain HU in the NIfTI's order on a
series with RescaleIntercept 0 numbered along +z. setup_cache detects the ValueMapping after ingest
(radibench.frameworks.mapping) and hands it to the adapter; nothing here assumes one.
Everything is feature-detected, never guessed from version numbers; a missing API raises
NotImplementedError, which asv shows as n/a rather than failed. A package or module that exists
but fails to import (a broken commit) is a failure, never n/a.
"""

from __future__ import annotations

import functools
import inspect

from radibench.frameworks.base import Framework, LoaderSpec
from radibench.frameworks.mapping import ValueMapping, detect, read_nifti

COLLECTION = "CT"


def _absent(exc: ImportError, module: str) -> bool:
    """Whether `module` does not exist at this commit (an API era), as opposed to existing and
    failing to import (a broken commit, or a missing dependency: a real failure)."""
    return isinstance(exc, ModuleNotFoundError) and exc.name == module


def api():
    """The installed radiobject module, or NotImplementedError if this commit has no package."""
    try:
        import radiobject
    except ImportError as exc:
        if _absent(exc, "radiobject"):
            raise NotImplementedError(f"no radiobject package at this commit: {exc}") from exc
        raise RuntimeError(f"radiobject fails to import at this commit: {exc!r}") from exc
    if not hasattr(radiobject, "RadiObject"):
        raise NotImplementedError("this commit installs no radiobject package (flat modules)")
    return radiobject


def configure_tiling(orientation: str) -> None:
    """Make later writes use `orientation` tiles ("axial" or "isotropic")."""
    api()
    from radiobject.ctx import SliceOrientation, TileConfig, configure

    tile = TileConfig(orientation=getattr(SliceOrientation, orientation.upper()))
    try:
        from radiobject.ctx import WriteConfig
    except ImportError:
        configure(tile=tile)  # era 1
    else:
        configure(write=WriteConfig(tile=tile))


def configure_s3(settings) -> None:
    """Point radiobject's global context at S3 `settings` (radibench.storage.s3.S3Settings).
    Spawned DataLoader workers do not inherit it: they read the TILEDB_* environment."""
    api()
    try:
        from radiobject.ctx import S3Config, configure

        configure(s3=S3Config(**settings.radiobject_s3config_kwargs()))
    except (ImportError, TypeError) as exc:
        raise NotImplementedError(f"radiobject has no S3 configuration here: {exc}") from exc


def _prepare_ingest(items, tiling: str | None):
    """The RadiObject class of this commit, with tiling set, and [(path, id)] as strings."""
    radiobject = api()
    if tiling:
        configure_tiling(tiling)
    return radiobject.RadiObject, [(str(path), sid) for path, sid in items]


def ingest_dicoms(uri: str, dicom_dirs, tiling: str | None = None) -> None:
    """Ingest DICOM series [(folder, subject id)] into a new RadiObject with one CT collection."""
    cls, dirs = _prepare_ingest(dicom_dirs, tiling)
    if hasattr(cls, "from_dicoms"):
        radi = cls.from_dicoms(uri, dicom_dirs=dirs)
    elif hasattr(cls, "from_images"):
        radi = cls.from_images(uri, images={COLLECTION: dirs}, format_hint={COLLECTION: "dicom"})
    else:
        raise NotImplementedError("this commit has neither from_dicoms nor from_images")
    names = list(radi.collection_names)
    if names != [COLLECTION]:
        raise RuntimeError(
            f"expected one collection {COLLECTION!r}, RadiObject made {names}: "
            "series of different shapes are split; ingest the uniform training cohort"
        )


def ingest_niftis(uri: str, niftis, tiling: str | None = None) -> None:
    """Ingest NIfTI files [(path, subject id)] into a new RadiObject with one CT collection."""
    cls, files = _prepare_ingest(niftis, tiling)
    if hasattr(cls, "from_niftis"):
        params = inspect.signature(cls.from_niftis).parameters
        if "images" in params:
            cls.from_niftis(uri, images={COLLECTION: files})
        else:
            raise NotImplementedError("from_niftis(niftis=...) names collections by file suffix")
    elif hasattr(cls, "from_images"):
        cls.from_images(uri, images={COLLECTION: files})
    else:
        raise NotImplementedError("this commit has neither from_niftis nor from_images")


def open_collection(uri: str):
    radiobject = api()
    return radiobject.RadiObject(uri).collection(COLLECTION)


class RadiObject(Framework):
    """Random 64^3 patches read tile by tile, in the values and slice order the ingest kept
    (for DICOM: raw stored values, slices by InstanceNumber), mapped onto the NIfTI files by a
    ValueMapping detected from the data (radibench.frameworks.mapping)."""

    name = "radiobject"
    label = "RadiObject"
    modules = ("radiobject", "radiobject.ml")
    # Forked workers hang, though RadiObject's worker_init is written for them: the parent
    # already holds a TileDB context (tests/test_fork_workers.py: no batch in 90 s; spawned
    # workers give theirs within seconds).
    start_method = "spawn"

    def __init__(self, uri: str, mapping: ValueMapping | None = None, niftis=()):
        """`mapping`: how the stored voxels relate to the NIfTI files, as setup_cache detected it
        once after ingest; without one it is detected from volume 0 and niftis[0] when first
        needed (never inside a timed call: benchmarks always pass it)."""
        self.uri = uri
        self.niftis = [str(p) for p in niftis]
        self._mapping = mapping
        self._volumes: dict = {}

    @property
    def mapping(self) -> ValueMapping:
        if self._mapping is None:
            self._mapping = self.detect_mapping()
        return self._mapping

    def detect_mapping(self) -> ValueMapping:
        """Volume 0 (to_numpy) against the first NIfTI file (nibabel), voxel for voxel."""
        if not self.niftis:
            raise ValueError(
                "the RadiObject adapter has no value mapping and no NIfTI file to detect it from"
            )
        return detect(self.read_volume(0), read_nifti(self.niftis[0]))

    @property
    def hu_offset(self) -> float:  # type: ignore[override]  # per dataset, not per class
        return self.mapping.offset

    @property
    def hu_slope(self) -> float:  # type: ignore[override]
        return self.mapping.slope

    @property
    def flipped_axes(self) -> tuple[int, ...]:  # type: ignore[override]
        return self.mapping.flipped_axes

    @classmethod
    def from_dicom(cls, series, folder, reads: str, write_nifti) -> None:
        """RadiObject's own ingest of the DICOM series, tiled as the loaders read it."""
        from pathlib import Path

        ingest_dicoms(str(Path(folder) / "radiobject"), list(series), tiling="isotropic")

    def volume(self, i: int):
        """Volume i, opened once and kept, as a user holding `collection[i]` would."""
        if i not in self._volumes:
            self._volumes[i] = open_collection(self.uri)[i]
        return self._volumes[i]

    def shape(self, i: int) -> tuple[int, int, int]:
        return tuple(int(n) for n in self.volume(i).shape)

    def read_volume(self, i: int):
        return self.volume(i).to_numpy()

    def read_region(self, i: int, region):
        x, y, z = region
        return self.volume(i).slice(x=x, y=y, z=z)

    def read_slice(self, i: int, axis: int, index: int):
        """RadiObject's own slice calls (axial/coronal/sagittal), at the mirrored index along a
        reversed axis."""
        if axis in self.flipped_axes:
            index = self.shape(i)[axis] - 1 - index
        vol = self.volume(i)
        return (vol.sagittal, vol.coronal, vol.axial)[axis](index)

    def import_modules(self) -> None:
        api()
        try:
            import radiobject.ml  # noqa: F401
        except ImportError as exc:
            if _absent(exc, "radiobject.ml"):
                raise NotImplementedError(f"no radiobject.ml at this commit: {exc}") from exc
            raise RuntimeError(f"radiobject.ml fails to import at this commit: {exc!r}") from exc

    def loader(self, spec: LoaderSpec):
        radiobject = api()
        try:
            from radiobject.ml import create_training_dataloader
        except ImportError as exc:
            raise NotImplementedError(f"radiobject.ml has no training loader: {exc}") from exc
        params = inspect.signature(create_training_dataloader).parameters
        kwargs = dict(
            batch_size=spec.batch_size, patch_size=spec.patch_size, num_workers=spec.num_workers
        )
        if "pin_memory" in params:
            kwargs["pin_memory"] = False  # CPU only, as for the other frameworks
        first = next(iter(params))
        if first in ("collections", "collection"):
            return within_budget(
                create_training_dataloader(open_collection(self.uri), **kwargs), spec
            )
        if "modalities" in params:  # era 1: the RadiObject and collection names
            radi = radiobject.RadiObject(self.uri)
            loader = create_training_dataloader(radi, modalities=[COLLECTION], **kwargs)
            return within_budget(loader, spec)
        raise NotImplementedError(f"unknown create_training_dataloader signature: {list(params)}")

    def shipped_workers(self) -> int:
        """The workers create_training_dataloader starts when a user does not say (4 at HEAD)."""
        api()
        try:
            from radiobject.ml import create_training_dataloader
        except ImportError as exc:
            raise NotImplementedError(f"radiobject.ml has no training loader: {exc}") from exc
        default = inspect.signature(create_training_dataloader).parameters["num_workers"].default
        if not isinstance(default, int):
            raise NotImplementedError("create_training_dataloader has no default worker count")
        return default

    def images(self, batch):
        return batch["image"]

    def locate(self, batch):
        """RadiObject's patch datasets return each patch's volume index and start (every era)."""
        starts = batch["patch_start"]  # collated: one tensor per axis
        return [
            (int(i), tuple(int(axis[k]) for axis in starts)) for k, i in enumerate(batch["idx"])
        ]


def configure_read_threads(threads: int) -> int:
    """Limit TileDB's compute and I/O thread pools (radiobject's read context defaults to 4;
    OMP_NUM_THREADS does not reach TileDB) so every framework reads within one thread budget.
    Returns the concurrency the read context now reports, read back, not assumed."""
    import importlib

    api()
    ctx = importlib.import_module("radiobject.ctx")  # `radiobject.ctx` is a function at 02-15
    config_class = getattr(ctx, "ReadConfig", None) or getattr(ctx, "IOConfig", None)
    if config_class is None:
        raise NotImplementedError("radiobject.ctx has neither ReadConfig nor IOConfig here")
    fields = {"concurrency", "max_workers"} & set(config_class.model_fields)
    settings = config_class(**dict.fromkeys(fields, threads))
    ctx.configure(**{"read" if config_class.__name__ == "ReadConfig" else "io": settings})
    get_ctx = getattr(ctx, "get_tiledb_ctx", None) or ctx.ctx
    return int(get_ctx().config()["sm.compute_concurrency_level"])


def _worker_threads(threads: int, then, worker_id: int) -> None:
    """A spawned worker starts with radiobject's default context: apply the budget there too."""
    configure_read_threads(threads)
    if then is not None:
        then(worker_id)


def within_budget(loader, spec: LoaderSpec):
    """`loader` with the thread budget applied here and in every worker it spawns."""
    if spec.threads is not None:
        configure_read_threads(spec.threads)
        if spec.num_workers > 0:
            loader.worker_init_fn = functools.partial(
                _worker_threads, spec.threads, loader.worker_init_fn
            )
    return loader


class RandomPatches:
    """A torch Dataset of fresh random 64^3 patches through RadiObject's public Volume API
    (`collection[i]`, `Volume.slice`, present at every commit): positions drawn from torch's
    generator, so every epoch and every worker sees new crops; volumes opened once per process.
    Each patch leaves as float32 HU in the NIfTI's order (`mapping.to_hu`), like the peers'
    patches, with its start in that order."""

    def __init__(self, uri: str, count: int, shape, spec: LoaderSpec, mapping: ValueMapping):
        self.uri, self.count, self.shape = uri, count, tuple(shape)
        self.patch, self.per_volume = spec.patch_size, spec.samples_per_volume
        self.mapping = mapping
        self._volumes: dict = {}

    def __len__(self) -> int:
        return self.count * self.per_volume

    def __getstate__(self):
        return {**self.__dict__, "_volumes": {}}  # a TileDB array cannot be pickled

    def __getitem__(self, item: int) -> dict:
        import torch

        i = item // self.per_volume
        if i not in self._volumes:
            self._volumes[i] = open_collection(self.uri)[i]
        start = [
            int(torch.randint(0, n - p + 1, ()))
            for n, p in zip(self.shape, self.patch, strict=True)
        ]
        x, y, z = (slice(s, s + p) for s, p in zip(start, self.patch, strict=True))
        patch = self.mapping.to_hu(self._volumes[i].slice(x=x, y=y, z=z))
        for a in self.mapping.flipped_axes:  # the start of the same box in the NIfTI's order
            start[a] = self.shape[a] - start[a] - self.patch[a]
        return {"image": torch.from_numpy(patch[None]), "idx": i, "patch_start": tuple(start)}


class RadiObjectRandom(RadiObject):
    """Fresh random 64^3 patches every epoch (4 per subject), read tile by tile through
    RadiObject's public Volume API in a plain torch Dataset: what a user writes while the
    shipped loader repeats one patch per subject. Its patches are float32 HU in the NIfTI's
    order, as the peers' are: the mapping is applied in the loader, inside the timed batches."""

    name = "radiobject_random"
    label = "RadiObject random"
    modules = ("radiobject", "torch.utils.data")
    hu_offset = 0  # type: ignore[assignment]  # its output is HU in the NIfTI's order
    hu_slope = 1  # type: ignore[assignment]
    flipped_axes = ()  # type: ignore[assignment]

    def import_modules(self) -> None:
        api()
        super(RadiObject, self).import_modules()

    def loader(self, spec: LoaderSpec):
        import torch

        collection = open_collection(self.uri)
        dataset = RandomPatches(self.uri, len(collection), self.shape(0), spec, self.mapping)
        loader = torch.utils.data.DataLoader(dataset, **spec.training_loader_kwargs())
        return within_budget(loader, spec)
