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
import subprocess
import sys

from radibench.measure.process import (
    child_env,
    end_with_parent,
    pin_threads,
    quiet_foreign_notices,
)
from radibench.measure.protocol import TIMED_BATCHES, WARMUP_BATCHES, run_protocol, run_recipe
from radibench.measure.voxels import reference_check

UNAVAILABLE_EXIT = 3  # the child's exit code for NotImplementedError


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
) -> dict:
    """The protocol's JSON result, or {"unavailable": ...} / {"failed": ...}; never raises.
    `mapping`: RadiObject's ValueMapping as setup_cache detected it, so the child never detects."""
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
    args = parser.parse_args(argv)
    pin_threads()
    end_with_parent()  # the benchmark process that runs this may itself be killed
    quiet_foreign_notices()
    from radibench import frameworks

    try:
        mapping = frameworks.ValueMapping.from_json(args.mapping) if args.mapping else None
        framework = frameworks.make(args.framework, args.niftis, args.radiobject_uri, mapping)
        framework.import_modules()
        spec = frameworks.LoaderSpec(num_workers=args.workers, threads=args.threads)
        if args.recipe:  # each framework's own worker start method, as its users get it
            spec = dataclasses.replace(spec, start_method=None)
            check = reference_check(args.niftis)
            result = run_recipe(framework, spec, len(args.niftis), check, args.warmup, args.timed)
        else:
            result = run_protocol(framework, spec, args.warmup, args.timed)
    except NotImplementedError as exc:
        print(f"unavailable: {exc}", file=sys.stderr)
        return UNAVAILABLE_EXIT
    print(json.dumps(result.to_json()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
