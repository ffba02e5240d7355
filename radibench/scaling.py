"""Training-loader scaling with DataLoader workers (issue 6), kept cheap enough for every commit.

The study's protocol (radibench.measure.run_protocol: a fresh loader, warm-up, timed batches,
one epoch; memory as RSS of the main process PLUS its workers) with num_workers 0, 1, 2 (spawn),
but 1 warm-up and TIMED batches instead of 3 and 20: MONAI decodes ~1 s per sample. Each run is
a fresh interpreter, so frameworks and worker counts never share imports or allocator state.
(radibench.measure.run_protocol_in_subprocess has no warmup/timed arguments, hence `run`.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from radibench import measure, suite
from radibench.frameworks import radiobject as radiobject_api

FRAMEWORKS = ["radiobject", "monai"]  # RadiObject plus one peer: bounded per-commit cost
WORKERS = [0, 1, 2]
WARMUP, TIMED = 1, 4


def prepare(cache_dir: Path | None = None) -> dict:
    """setup_cache: the training cohort ingested (isotropic), then every (framework, workers)."""
    data = suite.dataset()
    subjects = data.subjects
    uri = str(Path(cache_dir or Path.cwd()) / "radiobject-train")
    cache = {"niftis": [str(s.train_nifti) for s in subjects], "runs": {}, "problems": {}}
    for name in FRAMEWORKS:
        if not suite.selected(name):
            cache["problems"][name] = ("n/a", f"not in {suite.FRAMEWORKS_ENV}")
    if "radiobject" not in cache["problems"]:
        try:
            radiobject_api.ingest_dicoms(
                uri, [(s.train_dicom_dir, s.id) for s in subjects], "isotropic"
            )
        except NotImplementedError as exc:
            cache["problems"]["radiobject"] = ("n/a", str(exc))
        except Exception as exc:  # a real failure of this commit: shown as failed
            cache["problems"]["radiobject"] = ("failed", f"ingest failed: {exc!r}")
    for name in FRAMEWORKS:
        for workers in WORKERS:
            if name not in cache["problems"]:
                cache["runs"][f"{name}-{workers}"] = run(name, cache["niftis"], uri, workers)
    return cache


def result(cache: dict, framework: str, workers: int) -> dict:
    """One run's protocol result, or what asv should show (n/a, failed)."""
    suite.check(cache, framework)
    out = cache["runs"][f"{framework}-{workers}"]
    if "unavailable" in out:
        raise NotImplementedError(out["unavailable"])
    if "failed" in out:
        raise RuntimeError(out["failed"])
    return out


def run(name: str, niftis, uri: str, workers: int, timeout: int = 900) -> dict:
    """The shortened protocol (`python -m radibench.measure --warmup --timed`) in a fresh
    interpreter; {"failed": ...} or {"unavailable": ...} instead of raising."""
    command = [sys.executable, "-m", "radibench.measure", name, *niftis]
    command += ["--workers", str(workers), "--warmup", str(WARMUP), "--timed", str(TIMED)]
    command += ["--radiobject-uri", uri]
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, **measure.THREAD_ENV}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"failed": f"{name} with {workers} workers took over {timeout} s"}
    if proc.returncode == 3:
        return {"unavailable": proc.stderr.strip().splitlines()[-1]}
    if proc.returncode:
        return {"failed": "\n".join(proc.stderr.strip().splitlines()[-15:])}
    return json.loads(proc.stdout.strip().splitlines()[-1])
