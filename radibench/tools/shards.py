"""`radibench shards`: the RadiObject commits one machine has no results for, split into HASHFILEs
for parallel runners, and the merge of what those runners measured.

Plan (the default): asv's own history (``asv run ALL``: the first-parent commits of every branch
the asv config follows, read by asv's git plugin), minus every commit that already has a results
file in ``<results_dir>/<machine>/`` (its ``commit_hash``), is what ``asv run ALL --skip-existing
--machine MACHINE`` would measure. (asv's ``NEW`` is no guide for a new machine: it stops at the
first commit that ANY machine has results for.) The commits are put in coverage order (newest,
oldest, then the middle of the widest gap left, again and again: any prefix spreads over the whole
history) and dealt round-robin into shards: sizes differ by at most one, and the shards' first
commits are together the newest, the oldest and the middle ones, so whatever finishes first
spreads over the whole history (a shard cut short leaves gaps, not a missing era).
``shard-<i>.txt`` files (one hash per line, for ``asv run HASHFILE:...``) go to ``--out``; stdout
gets one line of JSON, a GitHub Actions matrix
``{"include": [{"shard": 1, "count": 7, "commits": "<hash> <hash> ..."}, ...]}``; stderr the plan.

Merge (``--merge SHARD_DIR ...``, each a results folder as one runner left it:
``benchmarks.json`` and ``<machine>/``): every file must parse, every shard must name the same
suite (identical benchmarks.json) and the machine, each result file must be measured as that
machine. Files the plugins keep beside a results file (``<stem>.installed.txt``) travel with it.
A results file already in the target is never replaced (it names the same commit and
environment); two shards that disagree about one file are refused; a killed run's ``.partial``
file is left out. A shard with no new results file (one that failed before asv wrote any: it
uploads the checkout's own files) is passed over, its older benchmarks.json and machine.json
with it. The merged folder is assembled in a staging copy and must pass ``radibench
check-results`` before anything in the target changes; then each file is moved in atomically
(result files, then machine.json, then benchmarks.json), so the target is never half-merged nor
holds a half-written file. machine.json: runners of one class that recorded different
descriptions (CPU model, kernel) keep them in their own result files (asv draws them as separate
series); the folder's machine.json is the first shard's, and the difference is printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import shutil
import socket
import sys
import tempfile
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from radibench.atomic import write_atomically
from radibench.tools import results_check, source

SPECIAL = ("machine.json", "benchmarks.json")
OUT = Path(".radibench") / "shards"


class ShardError(RuntimeError):
    """The plan or the merge cannot be made; the message says why."""


# ----------------------------------------------------------------------------------------------
# Plan


@dataclass
class Plan:
    history: list[str]  # every commit asv follows, newest first
    unmeasured: list[str]  # those without results of the machine, newest first
    shards: list[list[str]]  # each in the order its runner measures them

    def matrix(self) -> dict:
        return {
            "include": [
                {"shard": i, "count": len(commits), "commits": " ".join(commits)}
                for i, commits in enumerate(self.shards, start=1)
            ]
        }


def load_config(config: Path):
    """asv's own reading of the config (comments allowed); paths in it are relative to its folder,
    as `asv --config` sees them."""
    from asv.config import Config

    if not config.is_file():
        raise ShardError(f"{config}: no such asv config")
    return Config.load(str(config))


def resolved(config: Path, value: str) -> Path:
    """A path the config names, as asv resolves it (`asv --config` chdirs to its folder)."""
    return Path(os.path.abspath(Path(config).resolve().parent / value))


def history(config: Path) -> list[str]:
    """What `asv run ALL` would measure: asv's git plugin lists each branch of the config,
    first parent, newest first."""
    from asv.repo import get_repo

    config = config.resolve()
    conf = load_config(config)
    local = resolved(config, conf.repo)
    mirror = config.parent / conf.project
    is_local = (local / ".git").exists() or (local / "objects").is_dir()
    if not is_local and not (mirror / "objects").is_dir():
        raise ShardError(
            f"no RadiObject history at {mirror} (asv's mirror of {conf.repo}): run "
            "`radibench source` first"
        )
    with contextlib.chdir(config.parent):  # as `asv --config` does
        repo = get_repo(conf)
        return repo.get_new_branch_commits(conf.branches, [])


def measured(results_dir: Path, machine: str, say=None) -> set[str]:
    """Commits that have a results file of `machine` (the commit_hash it names, as asv reads it;
    a file that does not parse counts as missing, as asv's --skip-existing treats it)."""
    found = set()
    folder = Path(results_dir) / machine
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if path.name in SPECIAL:
            continue
        try:
            commit = json.loads(path.read_text())["commit_hash"]
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError):
            if say:
                say(f"{path}: not a readable results file; its commit counts as unmeasured")
            continue
        found.add(commit)
    return found


def coverage_order(commits: list[str]) -> list[str]:
    """`commits` (oldest first) as newest, oldest, then the middle of each gap, widest first."""
    n = len(commits)
    if n <= 2:
        return commits[::-1]
    order, seen, gaps = [n - 1, 0], {n - 1, 0}, deque([(0, n - 1)])
    while gaps:
        lo, hi = gaps.popleft()
        mid = (lo + hi) // 2
        if mid in seen:
            continue
        seen.add(mid)
        order.append(mid)
        gaps.extend([(lo, mid), (mid, hi)])
    return [commits[i] for i in order]


def split(commits: list[str], shards: int) -> list[list[str]]:
    """Deal `commits` round-robin into `shards` lists (sizes differ by at most one)."""
    shards = max(1, min(shards, len(commits)))
    return [commits[i::shards] for i in range(shards)] if commits else []


def plan(
    config: Path,
    results_dir: Path,
    machine: str,
    shards: int | None = None,
    max_per_shard: int | None = None,
    say=None,
) -> Plan:
    """The commits asv follows that `machine` has no results for, dealt into shards: `shards`
    of them, or as few as keep each at most `max_per_shard` commits."""
    every = history(config)
    done = measured(results_dir, machine, say)
    todo = [c for c in every if c not in done]
    if shards is None:
        per = max_per_shard or len(todo) or 1
        shards = math.ceil(len(todo) / per)
    return Plan(every, todo, split(coverage_order(todo[::-1]), shards))


def write_hashfiles(result: Plan, out: Path) -> list[Path]:
    """shard-<i>.txt per shard (old ones removed): `asv run HASHFILE:<file>` reads them."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("shard-*.txt"):
        old.unlink()
    files = []
    for i, commits in enumerate(result.shards, start=1):
        path = out / f"shard-{i}.txt"
        path.write_text("".join(f"{c}\n" for c in commits))
        files.append(path)
    return files


# ----------------------------------------------------------------------------------------------
# Merge


@dataclass
class Merged:
    added: list[str] = field(default_factory=list)  # result files new in the target
    kept: list[str] = field(default_factory=list)  # already there, left as they were
    notes: list[str] = field(default_factory=list)


def _natural(path: Path):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


def _read_json(path: Path, problems: list[str]):
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: not valid JSON ({exc})")
        return None


def _groups(names) -> dict[str, list[str]]:
    """Each results file with the files asv's plugins keep beside it (``<stem>.installed.txt``
    beside ``<stem>.json``), the results file first; a file beside no results file stands alone."""
    results = sorted(n for n in names if n.endswith(".json"))
    groups = {r: [r] for r in results}
    for name in sorted(n for n in names if not n.endswith(".json")):
        owner = next((r for r in results if name.startswith(r.removesuffix(".json") + ".")), name)
        groups.setdefault(owner, []).append(name)
    return groups


def _same(path: Path, other: Path) -> bool:
    return other.is_file() and other.read_bytes() == path.read_bytes()


def _differences(a: dict, b: dict) -> list[str]:
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))


def _atomic_copy(data: bytes, target: Path) -> None:
    write_atomically(target, lambda tmp: Path(tmp).write_bytes(data))


def merge(shard_dirs: list[Path], into: Path, machine: str) -> Merged:
    """Merge the results folders of shard runners into `into` (see the module docstring)."""
    shard_dirs = sorted((Path(d) for d in shard_dirs), key=_natural)
    into = Path(into)
    merged, problems = Merged(), []
    incoming: dict[str, tuple[bytes, Path]] = {}  # file name in <machine>/ -> (bytes, from)
    machines: list[tuple[Path, dict]] = []
    suites: list[tuple[Path, dict]] = []

    target = into / machine
    for shard in shard_dirs:
        folder = shard / machine
        files = [] if not folder.is_dir() else sorted(folder.iterdir())
        files = [p for p in files if p.is_file() and not p.name.startswith(".")]
        files = [p for p in files if p.name not in SPECIAL]
        # Only what differs from the target is news: a shard that failed before asv wrote
        # anything uploads the checkout's own files, and its (older) benchmarks.json and
        # machine.json must not stand in the way of the shards that measured.
        fresh = [p for p in files if p.suffix == ".json" and not _same(p, target / p.name)]
        if not fresh:
            merged.notes.append(f"{shard}: no new results of {machine} (it measured nothing)")
            continue
        for leftover in sorted(shard.rglob(".*.partial")):
            merged.notes.append(f"{leftover}: a half-written file of a killed run; not merged")
        others = [p.name for p in shard.iterdir() if p.is_dir() and p.name != machine]
        if others:
            merged.notes.append(f"{shard}: ignored folders of other machines: {sorted(others)}")
        bench = shard / "benchmarks.json"
        if not bench.is_file():
            problems.append(f"{shard}: no benchmarks.json (asv run writes it beside the results)")
        elif (data := _read_json(bench, problems)) is not None:
            suites.append((bench, data))
        described = folder / "machine.json"
        if not described.is_file():
            problems.append(f"{folder}: no machine.json")
        elif (data := _read_json(described, problems)) is not None:
            if data.get("machine") != machine:
                problems.append(f"{described}: names machine {data.get('machine')!r}")
            machines.append((described, data))
        for path in files:
            raw = path.read_bytes()
            if path.suffix == ".json":
                data = _read_json(path, problems)
                if data is None:
                    continue
                named = (data.get("params") or {}).get("machine")
                if named != machine:
                    problems.append(f"{path}: measured as machine {named!r}, not {machine!r}")
            if path.name in incoming and incoming[path.name][0] != raw:
                problems.append(
                    f"{path}: differs from {incoming[path.name][1]} (two shards measured one "
                    "commit); the plan gives each commit to one shard"
                )
            incoming.setdefault(path.name, (raw, path))

    for path, data in suites[1:]:
        if data != suites[0][1]:
            problems.append(
                f"{path}: a different suite than {suites[0][0]} (benchmarks "
                f"{', '.join(_differences(data, suites[0][1])[:5])} differ): the shards ran "
                "different radibench code or settings, their results do not join"
            )
    for path, data in machines[1:]:
        if data != machines[0][1]:
            keys = ", ".join(_differences(data, machines[0][1]))
            merged.notes.append(
                f"{path} differs from {machines[0][0]} in {keys}: each result keeps the "
                "description it was measured with (asv draws them as separate series); "
                f"{machine}/machine.json is the first shard's"
            )
    if not any((d / machine).is_dir() for d in shard_dirs):  # a misspelt name, another layout
        found = sorted(
            {p.name for d in shard_dirs if d.is_dir() for p in d.iterdir() if p.is_dir()}
        )
        problems.append(
            f"no shard holds results of {machine!r} (machine folders found: {found or 'none'})"
        )
    if problems:
        raise ShardError("refusing to merge:\n  " + "\n  ".join(problems))

    writes: list[tuple[bytes, Path]] = []
    for result, group in sorted(_groups(incoming).items()):
        if (target / result).is_file():  # never replaced, nor given another run's sidecars
            merged.kept.append(result)
            for name in group:
                there = target / name
                if not there.is_file() or there.read_bytes() != incoming[name][0]:
                    merged.notes.append(
                        f"{there}: {target / result} is already there; {incoming[name][1]} "
                        "(same commit and environment) not merged"
                    )
            continue
        writes += [(incoming[name][0], target / name) for name in group]
        merged.added.append(result)
    if machines:
        writes.append((machines[0][0].read_bytes(), target / "machine.json"))
    if suites:
        writes.append((suites[0][0].read_bytes(), into / "benchmarks.json"))

    # The folder as it will be, checked before anything in `into` changes.
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / "results"
        (staged / machine).mkdir(parents=True)
        if target.is_dir():
            for path in target.iterdir():
                if path.is_file() and not path.name.startswith("."):
                    shutil.copy2(path, staged / machine / path.name)
        if (into / "benchmarks.json").is_file():
            shutil.copy2(into / "benchmarks.json", staged / "benchmarks.json")
        for raw, path in writes:
            (staged / path.relative_to(into)).write_bytes(raw)
        found = results_check.check_results(staged)
        if found:
            found = [p.replace(str(staged), str(into)) for p in found]
            raise ShardError(
                "the merged folder would not pass check-results:\n  " + "\n  ".join(found)
            )

    for raw, path in writes:  # each results file, then its sidecars; machine.json, benchmarks.json
        _atomic_copy(raw, path)
    return merged


# ----------------------------------------------------------------------------------------------
# Command line

DESCRIPTION = __doc__.splitlines()[0]


def default_config() -> Path:
    try:
        return Path(source.current().config)
    except source.SourceError:
        return Path("asv.conf.json")


def add_results_arguments(parser: argparse.ArgumentParser) -> None:
    """--config, --machine and --results-dir, as the tools that read one machine's history take
    them (shards, bisect)."""
    parser.add_argument(
        "--config", type=Path, help="asv config (default: the one `radibench source` chose)"
    )
    parser.add_argument(
        "--machine",
        default=os.environ.get("RADIBENCH_MACHINE") or socket.gethostname(),
        help="machine name (default: $RADIBENCH_MACHINE, else the host name)",
    )
    parser.add_argument(
        "--results-dir", type=Path, help="results folder (default: the config's results_dir)"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_results_arguments(parser)
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--shards", type=int, help="split into this many shards")
    how.add_argument(
        "--max-per-shard", type=int, help="as few shards as keep each at most this many commits"
    )
    parser.add_argument(
        "--out", type=Path, default=OUT, help=f"where shard-<i>.txt go (default: {OUT})"
    )
    parser.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        metavar="SHARD_DIR",
        help="merge these results folders (one per shard) into --results-dir instead",
    )


def run(args: argparse.Namespace) -> int:
    """Plan: print the matrix, exit 0. Merge: exit 0 when merged, 1 when refused."""
    config = args.config or default_config()
    say = lambda m: print(f"radibench shards: {m}", file=sys.stderr)  # noqa: E731
    try:
        if args.results_dir is not None:
            results_dir = args.results_dir
        else:
            results_dir = resolved(config, load_config(config).results_dir)
        if args.merge:
            done = merge(args.merge, results_dir, args.machine)
            for note in done.notes:
                say(note)
            say(
                f"merged {len(args.merge)} shard folders into {results_dir / args.machine}: "
                f"{len(done.added)} result files added, {len(done.kept)} already there"
            )
            return 0
        for value in (args.shards, args.max_per_shard):
            if value is not None and value < 1:
                raise ShardError("--shards and --max-per-shard take a number of at least 1")
        result = plan(config, results_dir, args.machine, args.shards, args.max_per_shard, say)
        files = write_hashfiles(result, args.out)
    except ShardError as exc:
        say(f"error: {exc}")
        return 1
    say(
        f"{args.machine}: {len(result.unmeasured)} of {len(result.history)} commits of "
        f"{config} have no results in {results_dir / args.machine}"
    )
    for path, commits in zip(files, result.shards, strict=True):
        say(f"{path}: {len(commits)} commits: {' '.join(c[:8] for c in commits)}")
    print(json.dumps(result.matrix(), separators=(",", ":")))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="radibench shards", description=DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
