"""Framework adapters behind one interface (see base.Framework).

`make(name, paths)` builds the adapter a benchmark asks for, from the paths setup_cache produced
(and, for RadiObject, the value mapping it detected after ingest: frameworks.mapping).
"""

from __future__ import annotations

from radibench.frameworks.base import EmptyEpoch, Framework, LoaderSpec
from radibench.frameworks.mapping import MappingError, ValueMapping
from radibench.frameworks.monai import Monai, MonaiCache, MonaiPersistent
from radibench.frameworks.radiobject import RadiObject, RadiObjectRandom
from radibench.frameworks.torchio import Torchio, TorchioQueue

ADAPTERS: dict[str, type[Framework]] = {
    cls.name: cls
    for cls in (
        RadiObject,
        RadiObjectRandom,
        Monai,
        MonaiCache,
        MonaiPersistent,
        Torchio,
        TorchioQueue,
    )
}
# RadiObject's framework-comparison study, unchanged so its numbers stay reproducible.
STUDY = ("radiobject", "monai", "torchio")
PEERS = ("monai", "torchio")  # the study's peers
# Each framework's fastest documented training recipe, beside the study's (benchmarks/recipes.py).
BEST = ("radiobject_random", "monai_cache", "monai_persistent", "torchio_queue")

__all__ = [
    "ADAPTERS",
    "PEERS",
    "EmptyEpoch",
    "Framework",
    "LoaderSpec",
    "MappingError",
    "ValueMapping",
    "make",
]


def make(
    name: str, niftis=(), radiobject_uri: str | None = None, mapping: ValueMapping | None = None
) -> Framework:
    """The adapter `name`, reading the NIfTI files (peers) or the RadiObject at a URI, whose
    voxels relate to the NIfTI files by `mapping` (detected from niftis[0] when None)."""
    if name not in ADAPTERS:
        raise ValueError(f"unknown framework {name!r}; choose from {sorted(ADAPTERS)}")
    if issubclass(ADAPTERS[name], RadiObject):
        if radiobject_uri is None:
            raise ValueError("the RadiObject adapter needs the URI of an ingested RadiObject")
        return ADAPTERS[name](radiobject_uri, mapping, niftis)
    return ADAPTERS[name](niftis)
