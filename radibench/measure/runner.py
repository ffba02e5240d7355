"""The one fresh-process runner: the protocol for one framework in a new interpreter.

Frameworks, worker counts and recipes never share a process (imports, allocator state, threads):
`run_in_fresh_process` starts `python -m radibench.measure.runner` and reads the JSON it prints.
A framework that lacks the API at this commit comes back as {"unavailable": why}, anything else
that goes wrong as {"failed": why}; radibench.prepare.outcome turns those into n/a and failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys

from radibench.measure.process import (
    child_env,
    end_with_parent,
    pin_threads,
    quiet_foreign_notices,
)
from radibench.measure.protocol import (
    TIMED_BATCHES,
    WARMUP_BATCHES,
    run_protocol,
    run_recipe,
    run_utilisation,
)
from radibench.measure.voxels import reference_check

UNAVAILABLE_EXIT = 3  # the child's exit code for NotImplementedError
PROCESSES_ENV = "RADIBENCH_PROCESSES"
# Fresh processes per timing: with 5, the median's 99% interval spans the processes' range (asv
# extends it beyond the range by its Laplace model); the recipe comparison asks at least 5.
PROCESSES = 5


def processes() -> int:
    """Fresh processes per measured configuration (RADIBENCH_PROCESSES, default PROCESSES)."""
    value = os.environ.get(PROCESSES_ENV, str(PROCESSES))
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{PROCESSES_ENV}={value!r}: give a whole number of processes, 1 or more")
    return int(value)


def per_process(values: list) -> dict | float:
    """A timing as asv takes it from several fresh processes: its sample list, which asv
    summarises as a time_ benchmark's (median, 99% interval); one process's value alone."""
    return {"samples": values, "number": 1} if len(values) > 1 else values[0]


def run_in_fresh_process(
    framework: str,
    niftis,
    radiobject_uri=None,
    num_workers: int = 0,
    warmup: int = WARMUP_BATCHES,
    timed: int = TIMED_BATCHES,
    timeout: float = 1200,
    mapping=None,
    recipe: bool = False,
    threads: int | None = None,
    steps_ms=(),
    from_dicom: str | None = None,
) -> dict:
    """The protocol's JSON result, or {"unavailable": ...} / {"failed": ...}; never raises.
    `mapping`: RadiObject's ValueMapping as setup_cache detected it, so the child never detects.
    With `from_dicom` (a folder), `niftis` are the cohort's DICOM series and the child times
    making what the recipe reads from them there (Framework.from_dicom) instead."""
    command = [sys.executable, "-m", "radibench.measure.runner", framework, *map(str, niftis)]
    command += ["--workers", str(num_workers), "--warmup", str(warmup), "--timed", str(timed)]
    if radiobject_uri:
        command += ["--radiobject-uri", str(radiobject_uri)]
    if mapping is not None:
        command += ["--mapping", json.dumps(mapping.to_json())]
    if recipe:  # run_recipe: cache timed apart, peak memory, diversity, first-batch check
        command += ["--recipe"]
    if threads is not None:
        command += ["--threads", str(threads)]
    if steps_ms:  # run_utilisation: the model step emulated at each step time
        command += ["--steps-ms", ",".join(map(str, steps_ms))]
    if from_dicom:
        command += ["--from-dicom", str(from_dicom)]
    try:
        proc = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=child_env()
        )
    except subprocess.TimeoutExpired:
        return {"failed": f"{framework} with {num_workers} workers took over {timeout:.0f} s"}
    if proc.returncode == UNAVAILABLE_EXIT:
        return {"unavailable": proc.stderr.strip().splitlines()[-1]}
    if proc.returncode:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        return {"failed": f"protocol for {framework} failed (exit {proc.returncode}):\n{tail}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("framework")
    parser.add_argument("niftis", nargs="*")
    parser.add_argument("--radiobject-uri")
    parser.add_argument("--mapping", help="RadiObject's ValueMapping as JSON (to_json())")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--warmup", type=int, default=WARMUP_BATCHES)
    parser.add_argument("--timed", type=int, default=TIMED_BATCHES)
    parser.add_argument("--recipe", action="store_true", help="run_recipe, not run_protocol")
    parser.add_argument("--threads", type=int, help="threads per process in every library")
    parser.add_argument("--steps-ms", help="run_utilisation at these step times (ms, a,b,c)")
    parser.add_argument("--from-dicom", help="time Framework.from_dicom into this folder")
    args = parser.parse_args(argv)
    pin_threads()
    end_with_parent()  # the benchmark process that runs this may itself be killed
    quiet_foreign_notices()
    from radibench import frameworks

    if args.from_dicom:
        return _from_dicom(frameworks.recipe(args.framework), args.niftis, args.from_dicom)
    try:
        mapping = frameworks.ValueMapping.from_json(args.mapping) if args.mapping else None
        framework = frameworks.make(args.framework, args.niftis, args.radiobject_uri, mapping)
        framework.import_modules()
        spec = frameworks.LoaderSpec(num_workers=args.workers, threads=args.threads)
        if args.recipe or args.steps_ms:  # each framework's own start method, as users get it
            spec = dataclasses.replace(spec, start_method=None)
        if args.steps_ms:
            steps = [int(ms) for ms in args.steps_ms.split(",")]
            result = run_utilisation(framework, spec, steps, warmup=args.warmup)
        elif args.recipe:
            check = reference_check(args.niftis)
            result = run_recipe(framework, spec, len(args.niftis), check, args.warmup, args.timed)
        else:
            result = run_protocol(framework, spec, args.warmup, args.timed)
    except NotImplementedError as exc:
        print(f"unavailable: {exc}", file=sys.stderr)
        return UNAVAILABLE_EXIT
    print(json.dumps(result.to_json()))
    return 0


def _from_dicom(recipe, dicom_dirs, folder) -> int:
    """Time the recipe's preparation from DICOM in this fresh process, imports excluded."""
    import importlib
    import time

    from radibench.data.datasets import write_nifti

    for module in recipe.adapter.modules:
        importlib.import_module(module)
    series = [(d, f"subject-{j:03d}") for j, d in enumerate(dicom_dirs)]
    try:
        start = time.perf_counter()
        recipe.adapter.from_dicom(series, folder, recipe.reads, write_nifti)
        seconds = time.perf_counter() - start
    except NotImplementedError as exc:
        print(f"unavailable: {exc}", file=sys.stderr)
        return UNAVAILABLE_EXIT
    print(json.dumps({"framework": recipe.name, "subjects": len(series), "seconds": seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
