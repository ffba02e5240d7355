"""setup_cache of the recipe comparison (benchmarks/recipes.py): every framework configured as
its own maintainers would to train fast, at one thread budget, on the same voxels.

Per commit: the cohort's NIfTI files and this commit's RadiObject ingest of the same series,
the value mapping detected from them, then one run_recipe per (recipe, workers, cohort size) in
a fresh interpreter. Larger cohorts repeat the dataset's subjects (generating 100 CT series
would dominate the run) but every subject is a separate file, copied, and a separate array: no
framework reads another subject's bytes from the page cache.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

from radibench import suite
from radibench.frameworks import ADAPTERS, RadiObject
from radibench.measure.runner import run_in_fresh_process
from radibench.prepare import outcome
from radibench.prepare.ingest import detect_mapping, ingest_cohort

THREADS = 1  # threads per process in every library, TileDB included: the equal budget
MEMORY_BUDGET_ENV = "RADIBENCH_MEMORY_BUDGET_GB"
MEMORY_BUDGET_GB = 8.0  # what an in-memory cache may hold (a training node's share of RAM)


def family(recipe: str) -> str:
    """The framework a recipe belongs to (RADIBENCH_FRAMEWORKS selects families)."""
    return recipe.split("_")[0]


def memory_budget() -> float:
    return float(os.environ.get(MEMORY_BUDGET_ENV, MEMORY_BUDGET_GB))


def key(recipe: str, workers: int, subjects: int) -> str:
    return f"{recipe}-{workers}-{subjects}"


def prepare(recipes, workers=(0,), cohorts=(None,), cache_dir=None) -> dict:
    """One run_recipe result per (recipe, workers, cohort size); None as a size is the dataset's
    own cohort. What a commit cannot do is recorded per key, never raised."""
    data = suite.dataset()
    root = Path(cache_dir or Path.cwd())
    cache = {"dataset": data.name, "subjects": len(data.subjects), "problems": {}, "runs": {}}
    cache["mappings"] = {}
    problems = cache["problems"]
    outcome.deselect(problems, recipes, family)
    for size in cohorts:
        subjects = size or len(data.subjects)
        niftis, uri, mapping = _cohort(problems, root, data, subjects, recipes)
        if mapping is not None:
            cache["mappings"][subjects] = mapping.to_json()
        for recipe in recipes:
            for n in workers:
                k = key(recipe, n, subjects)
                if recipe in problems or k in problems:
                    continue
                if issubclass(ADAPTERS[recipe], RadiObject) and uri is None:
                    problems[k] = problems[f"ingest-{subjects}"]
                    continue
                if not _fits(problems, k, recipe, data, subjects):
                    continue
                cache["runs"][k] = run_in_fresh_process(
                    recipe, niftis, uri, n, mapping=mapping, recipe=True, threads=THREADS
                )
        if uri is not None:
            shutil.rmtree(uri, ignore_errors=True)
    return cache


def _cohort(problems, root: Path, data, subjects: int, recipes):
    """The cohort's NIfTI files (the dataset's own, or copies for a larger cohort) and, if a
    RadiObject recipe is selected, this commit's ingest of the same DICOM series."""
    base = data.subjects
    picked = [base[j % len(base)] for j in range(subjects)]
    if subjects <= len(base):
        niftis = [str(s.train_nifti) for s in picked]
    else:
        folder = root / f"cohort-{subjects}"
        folder.mkdir(parents=True, exist_ok=True)
        niftis = []
        for j, s in enumerate(picked):
            target = folder / f"subject-{j:03d}.nii.gz"
            if not target.exists():
                shutil.copyfile(s.train_nifti, target)  # a copy: its own file, its own pages
            niftis.append(str(target))
    if not any(issubclass(ADAPTERS[r], RadiObject) and r not in problems for r in recipes):
        return niftis, None, None
    ingest_key, uri = f"ingest-{subjects}", str(root / f"radiobject-{subjects}")
    cohort = [dataclasses.replace(s, id=f"subject-{j:03d}") for j, s in enumerate(picked)]
    if ingest_cohort(problems, ingest_key, uri, cohort) is None:
        return niftis, None, None
    mapping = detect_mapping(problems, ingest_key, uri, niftis[0])
    return niftis, (uri if mapping else None), mapping


def _fits(problems, k: str, recipe: str, data, subjects: int) -> bool:
    """An in-memory cache that would exceed the memory budget is n/a, saying by how much: the
    point where a cache stops fitting is the finding, not a crash of the machine."""
    if recipe != "monai_cache":
        return True
    x, y, z = data.train_shape
    need = subjects * x * y * z * 4 / 1e9  # float32 volumes, as LoadImaged gives them
    if need <= memory_budget():
        return True
    problems[k] = (
        outcome.NA,
        f"{recipe}: a cache of {subjects} volumes needs {need:.1f} GB, over the memory budget "
        f"of {memory_budget():.1f} GB ({MEMORY_BUDGET_ENV})",
    )
    return False


def result(cache: dict, recipe: str, workers: int = 0, subjects: int | None = None) -> dict:
    """One run's numbers (on the dataset's own cohort unless `subjects` says), or what asv
    should show (n/a, failed)."""
    k = key(recipe, workers, subjects or cache["subjects"])
    outcome.check(cache, recipe)
    outcome.check(cache, k)
    if k not in cache["runs"]:
        raise NotImplementedError(f"{k} was not run")
    return outcome.measured(cache["runs"][k])
