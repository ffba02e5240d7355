"""setup_cache of the recipe comparison (benchmarks/recipes.py): every framework configured as
its own maintainers would to train fast, at one thread budget, on the same voxels.

Per commit: the cohort's NIfTI files and this commit's RadiObject ingest of the same series,
the value mapping detected from them, then run_recipe per (recipe, workers, cohort size) in
several fresh interpreters, interleaved (A B C A B C): the process is the unit of a timing here,
since one process differs from the next by up to 20% for identical code on these machines, while
the batches inside one process are correlated. Each timing then reaches asv as one sample per
process, so asv stores their median with its 99% confidence interval, as it does for time_
benchmarks, and the dashboard, `asv compare` and the report carry that interval.

Larger cohorts repeat the dataset's subjects (generating 100 CT series would dominate the run)
but every subject is a separate file, copied, and a separate array: no framework reads another
subject's bytes from the page cache.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

from radibench import suite
from radibench.data import baselines
from radibench.frameworks import ADAPTERS, MonaiCache, RadiObject
from radibench.frameworks import recipe as registered
from radibench.measure import pagecache
from radibench.measure.runner import per_process, processes, run_in_fresh_process
from radibench.prepare import outcome
from radibench.prepare.ingest import detect_mapping, ingest_cohort

THREADS = 1  # threads per process in every library, TileDB included: the equal budget
MEMORY_BUDGET_ENV = "RADIBENCH_MEMORY_BUDGET_GB"
MEMORY_BUDGET_GB = 8.0  # what an in-memory cache may hold (a training node's share of RAM)
# What varies with the host and is summarised over processes; the rest are counts.
TIMED = (
    "seconds_per_sample",
    "epoch_seconds_per_sample",
    "cold_start",
    "cache_build",
    "slowest_batch",
    "peak_memory",
    "peak_memory_hwm",
)


def family(recipe: str) -> str:
    """The framework a recipe belongs to (RADIBENCH_FRAMEWORKS selects frameworks)."""
    return registered(recipe).framework


def memory_budget() -> float:
    return float(os.environ.get(MEMORY_BUDGET_ENV, MEMORY_BUDGET_GB))


def key(recipe: str, workers: int, subjects: int) -> str:
    return f"{recipe}-{workers}-{subjects}"


def prepare(
    recipes, workers=(0,), cohorts=(None,), cache_dir=None, rounds=None, steps_ms=(), cold=False
) -> dict:
    """run_recipe results per (recipe, workers, cohort size), `rounds` fresh processes each
    (default: processes()), interleaved round by round; None as a size is the dataset's own
    cohort. With `steps_ms`, run_utilisation's instead (the model step emulated at each step
    time). With `cold`, every file a run reads (its NIfTI files or RadiObject's arrays) is
    evicted from the page cache before its process starts, and checked gone (pagecache). What a
    commit cannot do is recorded per key, never raised; a key whose run fails is not run again
    in later rounds."""
    rounds = processes() if rounds is None else rounds
    data = suite.dataset()
    root = Path(cache_dir or Path.cwd())
    cache = _empty_cache(data, recipes)
    cache["mappings"] = {}
    problems = cache["problems"]
    for size in cohorts:
        subjects = size or len(data.subjects)
        niftis, uri, mapping = _cohort(problems, root, data, subjects, recipes)
        reads = {".nii.gz": niftis}
        if any(registered(r).reads == ".nii" for r in recipes):
            reads[".nii"] = uncompressed(root, data, subjects)
        if mapping is not None:
            cache["mappings"][subjects] = mapping.to_json()
        for _ in range(rounds):
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
                    files = reads[registered(recipe).reads]
                    if cold:
                        try:
                            pagecache.evict(
                                [uri] if issubclass(ADAPTERS[recipe], RadiObject) else files
                            )
                        except (OSError, pagecache.EvictionError) as exc:
                            problems[k] = (outcome.FAILED, f"{k}: no cold run: {exc}")
                            continue
                    run = run_in_fresh_process(
                        recipe,
                        files,
                        uri,
                        n,
                        mapping=mapping,
                        recipe=True,
                        threads=THREADS,
                        steps_ms=steps_ms,
                    )
                    cache["runs"].setdefault(k, []).append(run)
                    outcome.record(problems, k, run)
        if uri is not None:
            shutil.rmtree(uri, ignore_errors=True)
    return cache


def _empty_cache(data, recipes) -> dict:
    """A setup_cache's cache before its first run: the dataset, and n/a for every recipe not
    selected (RADIBENCH_FRAMEWORKS, RADIBENCH_RECIPES)."""
    cache = {"dataset": data.name, "subjects": len(data.subjects), "problems": {}, "runs": {}}
    outcome.deselect(cache["problems"], recipes, family)
    outcome.deselect(cache["problems"], recipes, env=suite.RECIPES_ENV)
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


def uncompressed(root: Path, data, subjects: int) -> list[str]:
    """The cohort's uncompressed .nii files, for the recipes that read them: the dataset's
    baselines (inflated once per dataset), or copies of them for a larger cohort."""
    base = [files.nii for files in baselines.ensure(data)]
    if subjects <= len(base):
        return [str(p) for p in base[:subjects]]
    folder = root / f"cohort-{subjects}"
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for j in range(subjects):
        target = folder / f"subject-{j:03d}.nii"
        if not target.exists():
            shutil.copyfile(base[j % len(base)], target)  # a copy: its own file, its own pages
        out.append(str(target))
    return out


def _fits(problems, k: str, recipe: str, data, subjects: int) -> bool:
    """An in-memory cache that would exceed the memory budget is n/a, saying by how much: the
    point where a cache stops fitting is the finding, not a crash of the machine."""
    if not issubclass(ADAPTERS[recipe], MonaiCache):
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


def _measured_runs(cache: dict, recipe: str, workers: int, subjects: int | None = None) -> list:
    """Every process's run of one key, or NotImplementedError / the failure asv should show."""
    k = key(recipe, workers, subjects or cache["subjects"])
    outcome.check(cache, recipe)
    outcome.check(cache, k)
    if k not in cache["runs"]:
        raise NotImplementedError(f"{k} was not run")
    return [outcome.measured(run) for run in cache["runs"][k]]


def result(cache: dict, recipe: str, workers: int = 0, subjects: int | None = None) -> dict:
    """One recipe's numbers over its processes (on the dataset's own cohort unless `subjects`
    says), or what asv should show (n/a, failed). A timing from several processes is asv's
    sample list ({"samples": [one per process], "number": 1}), which asv summarises as it does
    a time_ benchmark's; a count is the worst process's (most mismatches, fewest patches)."""
    runs = _measured_runs(cache, recipe, workers, subjects)
    combined = dict(runs[0])
    for name in TIMED:
        combined[name] = per_process([run[name] for run in runs])
    combined["processes"] = len(runs)
    combined["hwm_unread"] = sum(run["hwm_unread"] for run in runs)
    mismatches = [
        r["first_batch_mismatches"] for r in runs if r["first_batch_mismatches"] is not None
    ]
    distinct = [r["distinct_patches"] for r in runs if r["distinct_patches"] is not None]
    combined["first_batch_mismatches"] = max(mismatches) if mismatches else None
    combined["distinct_patches"] = min(distinct) if distinct else None
    return combined


def preparation_kind(recipe: str) -> str:
    """What a recipe needs made from DICOM: RadiObject's ingest, or NIfTI files (.nii.gz or
    .nii) that several recipes share."""
    r = registered(recipe)
    return "ingest" if issubclass(r.adapter, RadiObject) else r.reads


def prepare_from_dicom(recipes, cache_dir=None, rounds=None) -> dict:
    """The seconds from the cohort's DICOM series to what each recipe reads (Framework.from_dicom:
    RadiObject's ingest, SimpleITK's conversion to .nii.gz or .nii), once per kind of
    preparation in each of `rounds` fresh processes (default: processes()), interleaved."""
    rounds = processes() if rounds is None else rounds
    data = suite.dataset()
    root = Path(cache_dir or Path.cwd())
    cache = _empty_cache(data, recipes)
    problems = cache["problems"]
    kinds = {}  # kind -> the first selected recipe needing it (who makes it)
    for recipe in recipes:
        if recipe not in problems:
            kinds.setdefault(preparation_kind(recipe), recipe)
    dicom_dirs = [str(s.train_dicom_dir) for s in data.subjects]
    for round_ in range(rounds):
        for kind, recipe in kinds.items():
            if kind in problems:
                continue
            folder = root / f"from-dicom-{round_}-{kind.strip('.')}"
            folder.mkdir(parents=True, exist_ok=True)
            run = run_in_fresh_process(recipe, dicom_dirs, from_dicom=folder)
            shutil.rmtree(folder, ignore_errors=True)
            cache["runs"].setdefault(kind, []).append(run)
            outcome.record(problems, kind, run)
    return cache


def preparation(cache: dict, recipe: str) -> dict | float:
    """Seconds from DICOM to what `recipe` reads, one sample per process; or what asv shows."""
    kind = preparation_kind(recipe)
    outcome.check(cache, recipe)
    outcome.check(cache, kind)
    return per_process([outcome.measured(run)["seconds"] for run in cache["runs"][kind]])


def accelerator_wait(cache: dict, recipe: str, workers: int, step_ms: int) -> dict | float:
    """1 - accelerator utilisation at `step_ms` (the share of the wall time the emulated
    accelerator waits for data, lower is better as asv draws it), one sample per process; or
    what asv should show."""
    runs = _measured_runs(cache, recipe, workers)
    if step_ms not in runs[0]["steps_ms"]:
        raise NotImplementedError(f"{recipe} with {workers} workers: no run at a {step_ms} ms step")
    return per_process([1 - run["utilisation"][run["steps_ms"].index(step_ms)] for run in runs])
