"""`radibench check-results`: refuses result sets that must not be committed.

Checked: every JSON file parses; every result file has asv's required fields and a full commit
hash; no result comes from an `existing` environment (not a pinned, reproducible build) or from
`asv run --quick` (a single unrepeated sample: asv 0.6 saves those and they overwrite real ones);
no half-written file of an interrupted run (radibench/asv_plugins/atomic_results.py) is left; one
machine's results all come from one dataset (the end of every benchmark version names it); the
versions installed beside a results file (`<name>.installed.txt`, radibench/asv_plugins/
installed_versions.py) are the pins that file claims; no credential appears anywhere (AWS key
ids, and the values of the AWS variables of this process).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from radibench.suite import DATASET_ID
from radibench.tools import asv_results

REQUIRED = ("commit_hash", "env_name", "params", "results", "result_columns")
# An access key id, and a secret key written after its name (a 40-character value): the name
# alone is how the docs tell a user which variable to set, not a leak.
SECRET_PATTERNS = [
    re.compile(rb"AKIA[0-9A-Z]{16}"),
    re.compile(rb"(?i)aws_secret_access_key[\"']?\s*[=:]\s*[\"']?[A-Za-z0-9/+]{30,}"),
]
SECRET_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
INSTALLED_SUFFIX = ".installed.txt"  # radibench/asv_plugins/installed_versions.py writes them


def secrets_in_environment() -> list[bytes]:
    values = [os.environ.get(name, "") for name in SECRET_VARIABLES]
    return [v.encode() for v in values if len(v) >= 8]


def find_secrets(folder: Path) -> list[str]:
    """Files under `folder` that contain something that looks like a credential."""
    literal = secrets_in_environment()
    found = []
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        data = path.read_bytes()
        if any(p.search(data) for p in SECRET_PATTERNS) or any(s in data for s in literal):
            found.append(f"{path}: contains what looks like a credential")
    return found


def check_results(folder: Path) -> list[str]:
    """Every problem found in an asv results folder, as readable sentences."""
    folder = Path(folder)
    problems = []
    benchmarks = {}
    benchmarks_json = folder / "benchmarks.json"
    for path in sorted(folder.rglob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: not valid JSON ({exc})")
            continue
        if path == benchmarks_json:
            benchmarks = {k: v for k, v in data.items() if isinstance(v, dict)}
        if path.name in ("benchmarks.json", "machine.json"):
            continue
        problems += _check_result_file(path, data)
    problems += _check_datasets(folder)
    problems += _check_installed(folder)
    if benchmarks:
        for path in sorted(folder.rglob("*.json")):
            if path.name not in ("benchmarks.json", "machine.json"):
                problems += _check_quick(path, benchmarks)
    for path in sorted(folder.rglob(".*.partial")):
        problems.append(
            f"{path}: a half-written file left by an interrupted asv run (the results it would "
            "have replaced are intact); delete it"
        )
    problems += find_secrets(folder)
    return problems


def _check_result_file(path: Path, data) -> list[str]:
    if not isinstance(data, dict):
        return [f"{path}: not an asv result file"]
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        return [f"{path}: not an asv result file (missing {', '.join(missing)})"]
    problems = []
    if not re.fullmatch(r"[0-9a-f]{40}", str(data["commit_hash"])):
        problems.append(f"{path}: commit_hash {data['commit_hash']!r} is not a full hash")
    if str(data["env_name"]).startswith("existing"):
        problems.append(
            f"{path}: measured in an existing environment ({data['env_name']}), not a pinned "
            "asv-built one; rerun without -E existing / --python=same"
        )
    return problems


def _check_datasets(folder: Path) -> list[str]:
    """Each machine folder's results measured one dataset: a series that mixes data says
    nothing. Results of an imported folder whose identity was not recorded are refused too."""
    problems = []
    for machine in sorted(p for p in folder.iterdir() if p.is_dir()):
        seen: dict[str, set[str]] = {}
        for path in sorted(machine.glob("*.json")):
            try:
                data = json.loads(path.read_text())
                at = data["result_columns"].index("version")
                rows = data["results"].values()
            except (ValueError, KeyError, TypeError, json.JSONDecodeError):
                continue  # reported above as malformed, or not a results file
            for row in rows:
                match = DATASET_ID.search(str(row[at])) if len(row) > at else None
                if match:
                    seen.setdefault(match["id"], set()).add(path.name)
        if len(seen) > 1:
            counts = ", ".join(f"{d} ({len(files)} files)" for d, files in sorted(seen.items()))
            problems.append(
                f"{machine}: results from different datasets ({counts}); keep one dataset per "
                "machine folder (RADIBENCH_MACHINE names another)"
            )
        for unidentified in ("custom", "custom-unreadable"):
            for name in sorted(seen.get(unidentified, ())):
                problems.append(
                    f"{machine / name}: measured on an imported dataset whose identity was not "
                    "recorded (version ends in -custom); re-run with this radibench"
                )
    return problems


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


def _check_installed(folder: Path) -> list[str]:
    """What pip listed after installing a commit must hold the pins its results claim (the
    install command's constraints make anything else fail). Results without a list (older
    runs, `--parallel` builds) are not refused."""
    problems = []
    for listing in sorted(folder.rglob("*" + INSTALLED_SUFFIX)):
        results_file = listing.with_name(listing.name.removesuffix(INSTALLED_SUFFIX) + ".json")
        try:
            claimed = json.loads(results_file.read_text())["requirements"]
        except (OSError, ValueError, KeyError, TypeError):
            problems.append(f"{listing}: no readable results file {results_file.name} beside it")
            continue
        installed = {}
        for line in listing.read_text(errors="replace").splitlines():
            name, sep, version = line.strip().partition("==")
            if sep and not name.startswith("#"):
                installed[_normalise(name)] = version.strip()
        for name, pin in sorted((claimed or {}).items()):
            if not pin:
                continue  # an unpinned matrix entry claims no version
            name = name.removeprefix("pip+")
            have = installed.get(_normalise(name))
            if have is None:
                problems.append(f"{listing}: {name} is not installed, the results claim {pin}")
            elif have.partition("+")[0] != pin:  # 2.13.0+cpu is the pin 2.13.0
                problems.append(
                    f"{listing}: {name} {have} was installed, the results claim {pin}: these "
                    "numbers were not measured on the stack they name"
                )
    return problems


def _check_quick(path: Path, benchmarks: dict) -> list[str]:
    """`--quick` runs each time benchmark once; this suite never configures a single sample."""
    try:
        run = asv_results.read_file(path, benchmarks)
    except (KeyError, ValueError, TypeError):
        return []  # not a results file: reported by _check_result_file
    timed = [
        value.samples
        for bench in run.benchmarks.values()
        if bench.type == "time"
        for value in bench.values.values()
        if value.samples
    ]
    if timed and max(timed) <= 1:
        return [f"{path}: every time benchmark has one sample: an `asv run --quick` result"]
    return []


DESCRIPTION = __doc__


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folders", nargs="*", type=Path, default=[Path("results")])


def run(args: argparse.Namespace) -> int:
    """Print every problem; exit 1 if there is any."""
    problems = []
    for folder in args.folders:
        if not folder.is_dir():
            problems.append(f"{folder}: no such folder")
            continue
        problems += check_results(folder)
    for problem in problems:
        print(f"radibench check-results: {problem}", file=sys.stderr)
    if not problems:
        print(f"radibench check-results: {', '.join(map(str, args.folders))}: OK")
    return 1 if problems else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="radibench check-results", description=DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
