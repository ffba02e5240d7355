"""The `radibench` command line: prepares what asv needs and reads what asv produced.

It never wraps asv: the benchmarks are run with asv's own commands (see README.md).
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import sys
from pathlib import Path

from radibench import __version__
from radibench.asv_plugins import html_check
from radibench.tools import bisect, gate, report, results_check, shards, source, status


def cmd_source(args) -> int:
    if args.config or args.newest or args.references or args.html_dir or args.results_dir:
        current = source.current()
        if args.config:
            print(current.config)
        if args.newest:
            print(current.newest())
        if args.references:
            print("\n".join(current.references()))
        if args.html_dir:
            print(source.HTML_DIRS[current.config])
        if args.results_dir:
            print(source.RESULTS_DIRS[current.config])
        return 0
    source.prepare(local=args.local, pypi=args.pypi, say=lambda m: print(f"radibench source: {m}"))
    return 0


def cmd_data(args) -> int:
    from radibench.data import datasets

    if args.list:
        found = datasets.list_datasets()
        for d in found:
            print(
                f"{d['name']}  {d['subjects']} subjects  {d['bytes'] / 1e6:,.0f} MB  "
                f"from {d['made_from']}"
            )
        print(f"radibench data: {len(found)} datasets in {datasets.data_root()}")
        return 0
    if args.remove:
        freed = datasets.remove_dataset(args.remove)
        print(f"radibench data: removed {args.remove} ({freed / 1e6:,.0f} MB)")
        return 0
    if args.dicom_dir:
        from radibench.frameworks.base import LoaderSpec

        spec = LoaderSpec()
        data = datasets.import_dicom_dir(
            args.dicom_dir,
            batch_size=spec.batch_size,
            patch=spec.patch_size,
            train_slices=args.train_slices,
            crop=args.crop,
        )
        print(f"radibench data: imported {len(data.subjects)} series into {data.root}")
        print(f"run the suite on it with: export RADIBENCH_DATASET={data.root}")
        return 0
    data = datasets.ensure_dataset(args.profile)
    print(f"radibench data: profile {args.profile!r} ready at {data.root}")
    x, y, z = data.train_shape
    print(f"training cohort: {len(data.subjects)} subjects, each {x}x{y}x{z} voxels")
    for s in data.subjects:
        print(f"  {s.id}: {'x'.join(map(str, s.shape))} voxels, spacing {s.spacing} mm")
    return 0


def machine_name() -> str:
    return os.environ.get("RADIBENCH_MACHINE") or socket.gethostname()


def machine_info() -> dict[str, str]:
    """What the study printed about its machine: CPU model, cores, memory, OS."""
    import psutil

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    cores = os.cpu_count() or 1
    return {
        "machine": machine_name(),
        "os": f"{platform.system()} {platform.release()}",
        "arch": platform.machine(),
        "cpu": f"{cpu} ({cores} cores)",
        "num_cpu": str(cores),
        "ram": f"{psutil.virtual_memory().total / 2**30:.0f}GB",
    }


def cmd_machine(args) -> int:
    info = machine_info()
    if args.name:
        print(info["machine"])
        return 0
    # `asv machine --yes` drops every value equal to its own default, the name included, and
    # then fails: write the same file through asv's own API instead.
    from asv.machine import Machine, MachineCollection

    MachineCollection.save(info["machine"], {**info, "version": Machine.api_version})
    print("radibench machine: " + ", ".join(f"{k}={v}" for k, v in info.items()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="radibench", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"radibench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("source", help="prepare the RadiObject history asv reads")
    p.add_argument("--from", dest="local", type=Path, help="a local clone or checkout to use")
    p.add_argument("--pypi", action="store_true", help="use the PyPI-release history")
    p.add_argument("--config", action="store_true", help="print the asv config to use")
    p.add_argument("--newest", action="store_true", help="print the newest commit's hash")
    p.add_argument(
        "--references",
        action="store_true",
        help="print the commits the whole suite runs at: the releases and the newest",
    )
    p.add_argument("--html-dir", action="store_true", help="print the dashboard folder")
    p.add_argument("--results-dir", action="store_true", help="print the results folder")
    p.set_defaults(func=cmd_source)

    p = sub.add_parser("data", help="generate (or import) the benchmark dataset")
    p.add_argument("--profile", default=os.environ.get("RADIBENCH_PROFILE", "default"))
    p.add_argument("--dicom-dir", type=Path, help="import your own DICOM folder instead")
    p.add_argument("--train-slices", type=int, help="slices per subject in the training cohort")
    p.add_argument(
        "--crop", action="store_true", help="cut series of mixed in-plane sizes to the smallest"
    )
    p.add_argument("--list", action="store_true", help="list the cached datasets and their sizes")
    p.add_argument("--remove", metavar="NAME", help="delete a cached dataset (see --list)")
    p.set_defaults(func=cmd_data)

    p = sub.add_parser("machine", help="record this machine's CPU, cores and RAM for asv")
    p.add_argument("--name", action="store_true", help="only print the machine name")
    p.set_defaults(func=cmd_machine)

    for name, tool, text in [
        ("report", report, "charts and tables from asv results"),
        ("check-results", results_check, "validate results/ before committing"),
        ("check-html", html_check, "check that html/ shows exactly results/ (else: make html)"),
        ("status", status, "commit x benchmark table: measured, n/a or failed"),
        ("gate", gate, "the pull-request verdict: each gated metric at its own factor"),
        ("shards", shards, "commits a machine lacks, split for parallel runners; merge them"),
        ("bisect", bisect, "the first commit at which an exact count steps"),
    ]:
        p = sub.add_parser(name, help=text, description=tool.DESCRIPTION)
        tool.add_arguments(p)
        p.set_defaults(func=tool.run)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from radibench.data.store import DatasetError

    try:
        return args.func(args)
    except (DatasetError, source.SourceError) as exc:
        print(f"radibench {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
