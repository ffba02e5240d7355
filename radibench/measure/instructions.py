"""Instructions executed per batch of a training loader, counted by valgrind's callgrind.

An instruction count is the same on every run of the same code on the same data (0.02% apart on
these machines), whatever else the machine does, so a CPU-only slowdown of a few percent shows
where a timing's noise hides it; hardware counters (perf) are not available in these VMs. Only
the counted batches are instrumented: the child starts with instrumentation off
(--instr-atstart=no), builds a seeded loader, takes its first and warm-up batches, then turns
counting on and off around the counted batches with callgrind_control; importing torch under
instrumentation alone would take minutes. What it cannot see: time spent in the kernel (page
faults, I/O waits), which bytes and tiles read (radibench.measure.counters) and the timings
cover. `python -m radibench.measure.instructions` is the child; `count` starts it.

With RADIBENCH_PROFILES set, the measurement also keeps what says where the instructions went
(radibench.measure.profiles; radibench.tools.where reads it for the gate's verdict): the
callgrind profile of the counted batches (per C function: the interpreter, numpy, TileDB,
libc) and the Python calls of as many further batches, counted by cProfile with
instrumentation off (per Python function with file:line: callgrind cannot see Python
functions, and RadiObject is pure Python). Call counts, not cProfile's timings: under valgrind
those mean nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from radibench.measure.process import child_env, pin_threads, quiet_foreign_notices
from radibench.measure.profiles import CALLGRIND, CALLS

COUNTED = 4  # batches counted (each instruction-counted batch costs seconds under valgrind)
REFS = re.compile(r"I\s+refs:\s+([\d,]+)")
TOTALS = re.compile(r"^totals:\s+(\d+)", re.MULTILINE)  # one callgrind output file's count
# The worker path's epochs: two, so the second starts on workers that persist (RadiObject's
# loader keeps its workers between epochs).
WORKER_PATH_EPOCHS = 2
# How long the parent waits for a worker to exit once the loader is done (torch waits 5 s, then
# kills it): a worker under callgrind ends slowly, and a killed one would be counted short.
WORKER_EXIT_SECONDS = 600


def tools() -> tuple[str, str]:
    """valgrind and callgrind_control, or NotImplementedError (asv: n/a) saying what to install."""
    valgrind, control = shutil.which("valgrind"), shutil.which("callgrind_control")
    if not (valgrind and control):
        raise NotImplementedError(
            "valgrind is not installed (apt-get install valgrind): no instruction counts here"
        )
    return valgrind, control


def _run_child(tmp: str, framework: str, niftis, radiobject_uri, options: list, timeout: float):
    """This module's main under callgrind, counting off until it turns it on, its profile(s)
    written into `tmp`."""
    valgrind, _ = tools()
    command = [valgrind, "--tool=callgrind", "--instr-atstart=no"]
    command += [f"--callgrind-out-file={tmp}/callgrind.%p", sys.executable]
    command += ["-m", "radibench.measure.instructions", framework, *map(str, niftis), *options]
    if radiobject_uri:
        command += ["--radiobject-uri", str(radiobject_uri)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=child_env())


def count(
    framework: str,
    niftis,
    radiobject_uri,
    warmup: int,
    batches: int = COUNTED,
    timeout: float = 1800,
    keep: Path | None = None,
) -> float:
    """Instructions per batch of a fresh seeded loader, after its first and `warmup` batches;
    with `keep`, the profiles that say where they went are kept in that folder (CALLGRIND,
    CALLS)."""
    with tempfile.TemporaryDirectory() as tmp:
        options = ["--warmup", str(warmup), "--batches", str(batches)]
        if keep:
            options += ["--calls", f"{tmp}/calls.json"]
        proc = _run_child(tmp, framework, niftis, radiobject_uri, options, timeout)
        found = REFS.search(proc.stderr)
        if proc.returncode or not found or "COUNTED" not in proc.stdout:
            tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
            raise RuntimeError(f"counting instructions failed (exit {proc.returncode}):\n{tail}")
        if keep:
            (profile,) = Path(tmp).glob("callgrind.*")  # one process: children are not traced
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(profile, keep / CALLGRIND.format(framework=framework))
            shutil.copyfile(f"{tmp}/calls.json", keep / CALLS.format(framework=framework))
    return int(found[1].replace(",", "")) / batches


def count_worker_path(
    framework: str,
    niftis,
    radiobject_uri,
    workers: int,
    epochs: int = WORKER_PATH_EPOCHS,
    timeout: float = 3600,
) -> dict:
    """Instructions of every process of a fresh seeded loader with `workers` spawned workers,
    from building it through `epochs` whole epochs to its workers' exit (see the module's
    docstring): {"instructions": the sum, "processes": how many were counted}."""
    with tempfile.TemporaryDirectory() as tmp:
        options = ["--workers", str(workers), "--epochs", str(epochs), "--spawn-under", tmp]
        proc = _run_child(tmp, framework, niftis, radiobject_uri, options, timeout)
        counts = [TOTALS.search(p.read_text()) for p in Path(tmp).glob("callgrind.*")]
        if proc.returncode or "COUNTED" not in proc.stdout or not all(counts):
            tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
            raise RuntimeError(f"counting the worker path failed (exit {proc.returncode}):\n{tail}")
        if len(counts) < 1 + workers:
            raise RuntimeError(f"{len(counts)} processes counted, expected 1 + {workers} workers")
        return {"instructions": sum(int(c[1]) for c in counts), "processes": len(counts)}


def spawn_under_callgrind(folder: str) -> None:
    """Start every process multiprocessing spawns from here on under callgrind, counted from its
    first instruction, its output beside this process's."""
    import multiprocessing
    import shlex

    valgrind, _ = tools()
    wrapper = Path(folder) / "python-under-callgrind"
    out = shlex.quote(f"--callgrind-out-file={folder}/callgrind.%p")
    wrapper.write_text(
        f"#!/bin/sh\nexec {shlex.quote(valgrind)} --tool=callgrind {out} "
        f'{shlex.quote(sys.executable)} "$@"\n'
    )
    wrapper.chmod(0o755)
    multiprocessing.get_context("spawn").set_executable(str(wrapper))


def worker_path(framework, control: str, spec, epochs: int, folder: str) -> int:
    """Build a loader, take `epochs` whole epochs and let its workers exit, counted; the batches
    taken."""
    import gc

    from torch.utils.data import _utils

    spawn_under_callgrind(folder)
    _utils.MP_STATUS_CHECK_INTERVAL = WORKER_EXIT_SECONDS  # the join's timeout at shutdown
    instrument(control, True)
    loader = framework.fresh_loader(spec)
    taken = sum(1 for _ in range(epochs) for _ in loader)
    workers = list(getattr(loader._iterator, "_workers", ()))  # persistent workers, if any
    del loader
    gc.collect()
    instrument(control, False)
    killed = [w.exitcode for w in workers if w.exitcode != 0]
    if killed:
        raise RuntimeError(f"workers did not exit cleanly (exit codes {killed}): counted short")
    return taken


def python_calls(stream, batches: int) -> dict:
    """Calls of each Python function (and of each C function called from Python) over the next
    `batches` of `stream`, with their callers, counted by cProfile: exact for a seeded
    in-process loader, whatever the machine does."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(batches):
        next(stream)
    profiler.disable()

    def where(key):
        file, line, name = key
        return {"file": file, "line": line, "function": name}

    functions = [
        {
            **where(key),
            "calls": calls,
            "callers": [{**where(k), "calls": c[1]} for k, c in callers.items()],
        }
        for key, (_, calls, _, _, callers) in pstats.Stats(profiler).stats.items()
    ]
    return {"batches": batches, "functions": functions}


def instrument(control: str, on: bool) -> None:
    """Turn callgrind's instrumentation of this process on or off (it waits for the answer)."""
    flag = "on" if on else "off"
    subprocess.run([control, "-i", flag, str(os.getpid())], check=True, capture_output=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("framework")
    parser.add_argument("niftis", nargs="*")
    parser.add_argument("--radiobject-uri")
    parser.add_argument("--warmup", type=int, default=0)
    parser.add_argument("--batches", type=int, default=COUNTED)
    parser.add_argument("--calls", type=Path, help="write python_calls of as many batches here")
    parser.add_argument("--workers", type=int, default=0, help="count the worker path instead")
    parser.add_argument("--epochs", type=int, default=WORKER_PATH_EPOCHS)
    parser.add_argument("--spawn-under", help="the worker path's callgrind output folder")
    args = parser.parse_args(argv)
    pin_threads()
    quiet_foreign_notices()
    from radibench import frameworks
    from radibench.measure.counters import seed_everything

    _, control = tools()
    framework = frameworks.make(args.framework, args.niftis, args.radiobject_uri)
    framework.import_modules()
    seed_everything()
    if args.workers:
        spec = frameworks.LoaderSpec(num_workers=args.workers)
        taken = worker_path(framework, control, spec, args.epochs, args.spawn_under)
        print("COUNTED", taken, flush=True)
        return 0
    stream = framework.batches(frameworks.LoaderSpec())
    for _ in range(1 + args.warmup):
        next(stream)
    instrument(control, True)
    for _ in range(args.batches):
        next(stream)
    instrument(control, False)
    if args.calls:
        args.calls.write_text(json.dumps(python_calls(stream, args.batches)))
    print("COUNTED", args.batches, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
