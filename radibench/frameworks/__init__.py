"""Framework adapters behind one interface (see base.Framework).

`make(name, paths)` builds the adapter a benchmark asks for, from the paths setup_cache produced.
"""

from __future__ import annotations

from radibench.frameworks.base import EmptyEpoch, Framework, LoaderSpec
from radibench.frameworks.monai import Monai
from radibench.frameworks.radiobject import RadiObject
from radibench.frameworks.torchio import Torchio, TorchioQueue

ADAPTERS: dict[str, type[Framework]] = {
    cls.name: cls for cls in (RadiObject, Monai, Torchio, TorchioQueue)
}
PEERS = ("monai", "torchio", "torchio_queue")

__all__ = ["ADAPTERS", "PEERS", "EmptyEpoch", "Framework", "LoaderSpec", "make"]


def make(name: str, niftis=(), radiobject_uri: str | None = None) -> Framework:
    """The adapter `name`, reading the NIfTI files (peers) or the RadiObject at a URI."""
    if name not in ADAPTERS:
        raise ValueError(f"unknown framework {name!r}; choose from {sorted(ADAPTERS)}")
    if name == RadiObject.name:
        if radiobject_uri is None:
            raise ValueError("the RadiObject adapter needs the URI of an ingested RadiObject")
        return RadiObject(radiobject_uri)
    return ADAPTERS[name](niftis)
