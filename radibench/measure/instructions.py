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
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

from radibench.measure.process import child_env, pin_threads, quiet_foreign_notices

COUNTED = 4  # batches counted (each instruction-counted batch costs seconds under valgrind)
REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def tools() -> tuple[str, str]:
    """valgrind and callgrind_control, or NotImplementedError (asv: n/a) saying what to install."""
    valgrind, control = shutil.which("valgrind"), shutil.which("callgrind_control")
    if not (valgrind and control):
        raise NotImplementedError(
            "valgrind is not installed (apt-get install valgrind): no instruction counts here"
        )
    return valgrind, control


def count(
    framework: str,
    niftis,
    radiobject_uri,
    warmup: int,
    batches: int = COUNTED,
    timeout: float = 1800,
) -> float:
    """Instructions per batch of a fresh seeded loader, after its first and `warmup` batches."""
    valgrind, _ = tools()
    with tempfile.TemporaryDirectory() as tmp:
        command = [valgrind, "--tool=callgrind", "--instr-atstart=no"]
        command += [f"--callgrind-out-file={tmp}/callgrind.%p", sys.executable]
        command += ["-m", "radibench.measure.instructions", framework, *map(str, niftis)]
        command += ["--warmup", str(warmup), "--batches", str(batches)]
        if radiobject_uri:
            command += ["--radiobject-uri", str(radiobject_uri)]
        proc = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=child_env()
        )
    found = REFS.search(proc.stderr)
    if proc.returncode or not found or "COUNTED" not in proc.stdout:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"counting instructions failed (exit {proc.returncode}):\n{tail}")
    return int(found[1].replace(",", "")) / batches


def _instrument(control: str, on: bool) -> None:
    """Turn callgrind's instrumentation of this process on or off (it waits for the answer)."""
    flag = "on" if on else "off"
    subprocess.run([control, "-i", flag, str(os.getpid())], check=True, capture_output=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("framework")
    parser.add_argument("niftis", nargs="*")
    parser.add_argument("--radiobject-uri")
    parser.add_argument("--warmup", type=int, required=True)
    parser.add_argument("--batches", type=int, default=COUNTED)
    args = parser.parse_args(argv)
    pin_threads()
    quiet_foreign_notices()
    from radibench import frameworks
    from radibench.measure.counters import seed_everything

    _, control = tools()
    framework = frameworks.make(args.framework, args.niftis, args.radiobject_uri)
    framework.import_modules()
    seed_everything()
    stream = framework.batches(frameworks.LoaderSpec())
    for _ in range(1 + args.warmup):
        next(stream)
    _instrument(control, True)
    for _ in range(args.batches):
        next(stream)
    _instrument(control, False)
    print("COUNTED", args.batches, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
