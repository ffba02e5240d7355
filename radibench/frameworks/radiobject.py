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
Everything is feature-detected, never guessed from version numbers; a missing API raises
NotImplementedError, which asv shows as n/a rather than failed. A package or module that exists
but fails to import (a broken commit) is a failure, never n/a.
"""

from __future__ import annotations

import inspect

from radibench.frameworks.base import Framework, LoaderSpec

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
    """Random 64^3 patches read tile by tile, stored values (HU + 1024), z reversed."""

    name = "radiobject"
    label = "RadiObject"
    modules = ("radiobject", "radiobject.ml")
    # DICOM ingest keeps the stored values (no rescale slope/intercept): HU + 1024 here.
    hu_offset = 1024
    # from_dicoms orders slices the other way round from SimpleITK's NIfTI (checked at 0.1.1).
    flipped_axes = (2,)

    def __init__(self, uri: str):
        self.uri = uri
        self._volumes: dict = {}

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
        """RadiObject's own slice calls (axial/coronal/sagittal), at the mirrored z."""
        if axis == 2:
            index = self.shape(i)[2] - 1 - index
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
            return create_training_dataloader(open_collection(self.uri), **kwargs)
        if "modalities" in params:  # era 1: the RadiObject and collection names
            radi = radiobject.RadiObject(self.uri)
            return create_training_dataloader(radi, modalities=[COLLECTION], **kwargs)
        raise NotImplementedError(f"unknown create_training_dataloader signature: {list(params)}")

    def images(self, batch):
        return batch["image"]
