"""Framework adapters behind one interface (see base.Framework).

`make(name, paths)` builds the adapter a benchmark asks for, from the paths setup_cache produced
(and, for RadiObject, the value mapping it detected after ingest: frameworks.mapping).
"""

from __future__ import annotations

from dataclasses import dataclass

from radibench.frameworks.base import EmptyEpoch, Framework, LoaderSpec
from radibench.frameworks.mapping import MappingError, ValueMapping
from radibench.frameworks.monai import (
    Monai,
    MonaiCache,
    MonaiCacheThreads,
    MonaiPersistent,
    MonaiPlain,
)
from radibench.frameworks.radiobject import RadiObject, RadiObjectRandom
from radibench.frameworks.torchio import Torchio, TorchioQueue, TorchioQueuePlain

FRAMEWORKS = {"radiobject": "RadiObject", "monai": "MONAI", "torchio": "TorchIO"}  # display names
RADIOBJECT = "radiobject"  # the framework every comparison is about


@dataclass(frozen=True)
class Recipe:
    """One way of training from one framework: the registry prepare, benchmarks, report and
    tests read (nobody parses a recipe's name). `set` is "study" (RadiObject's original study,
    unchanged so its numbers stay reproducible) or "best" (the framework's fastest documented
    recipe). `reads` is the file a peer's recipe reads: the training `.nii.gz`, or its
    uncompressed `.nii` (made once per dataset, radibench.data.baselines)."""

    name: str
    framework: str
    set: str
    adapter: type[Framework]
    reads: str = ".nii.gz"

    @property
    def label(self) -> str:
        return self.adapter.label

    @property
    def framework_label(self) -> str:
        return FRAMEWORKS[self.framework]


RECIPES = (
    Recipe("radiobject", "radiobject", "study", RadiObject),
    Recipe("radiobject_random", "radiobject", "best", RadiObjectRandom),
    Recipe("monai", "monai", "study", Monai),
    Recipe("monai_cache", "monai", "best", MonaiCache),
    Recipe("monai_cache_threads", "monai", "best", MonaiCacheThreads),
    Recipe("monai_persistent", "monai", "best", MonaiPersistent),
    Recipe("monai_nii", "monai", "best", MonaiPlain, reads=".nii"),
    Recipe("torchio", "torchio", "study", Torchio),
    Recipe("torchio_queue", "torchio", "best", TorchioQueue),
    Recipe("torchio_queue_nii", "torchio", "best", TorchioQueuePlain, reads=".nii"),
)
REGISTRY = {r.name: r for r in RECIPES}
ADAPTERS: dict[str, type[Framework]] = {r.name: r.adapter for r in RECIPES}
STUDY = tuple(r.name for r in RECIPES if r.set == "study")
PEERS = tuple(f for f in FRAMEWORKS if f != RADIOBJECT)  # the study's peers
BEST = tuple(r.name for r in RECIPES if r.set == "best")
# What `make bench`'s answer compares: RadiObject's recipes against each peer's best. The peers'
# study recipes (a decode per patch: most of the comparison's time) are left to `make bench-all`.
ANSWER = tuple(r.name for r in RECIPES if r.framework == RADIOBJECT or r.set == "best")


def recipe(name: str) -> Recipe:
    """The registered recipe `name`; a clear error for a name the registry does not know."""
    if name not in REGISTRY:
        raise ValueError(f"unknown recipe {name!r}; choose from {sorted(REGISTRY)}")
    return REGISTRY[name]


__all__ = [
    "ADAPTERS",
    "BEST",
    "FRAMEWORKS",
    "PEERS",
    "RECIPES",
    "STUDY",
    "Recipe",
    "EmptyEpoch",
    "Framework",
    "LoaderSpec",
    "MonaiCache",
    "MappingError",
    "ValueMapping",
    "make",
    "recipe",
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
