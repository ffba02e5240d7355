"""`radibench bisect BENCHMARK GOOD BAD`: the first commit at which an exact count steps.

An exact count (bytes, tiles, array opens, S3 requests, instructions per batch) holds one value
over a run of commits and steps where the code changed what it does; a step is what the summary
page and the gate call one (radibench.tools.report.history.is_step). Between a GOOD commit and a
BAD one whose values differ by a step, the first commit whose value leaves GOOD's is found by
bisection over asv's history (first parent, as `asv run` follows it): about log2(n) commits
measured, each by `asv run --skip-existing-successful` on that one benchmark with
RADIBENCH_FRAMEWORKS=radiobject (the peers do not change with RadiObject's commits), so a commit
the results folder already holds costs nothing and one it lacks is measured and kept there like
any other asv result. A count is exact, so one measurement per commit decides; a timing is not,
and `asv find` is the tool for those. A commit that cannot be measured (it does not build, or
lacks the API: failed or n/a) is skipped, as `git bisect skip` does; the answer is then the
range of commits that could not be told apart. Several steps between GOOD and BAD: one of them
is found, as with git bisect.

`--steps` lists the steps of every gated count in one machine's results, each named by the
first commit of its new level, and bisects the steps whose two measured commits are not
adjacent in the history: what the nightly runs after merging a night's results.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from radibench import suite
from radibench.tools import asv_results, shards, source
from radibench.tools.asv_results import FAILED, Value
from radibench.tools.report.history import count_history, in_history_order, is_step

DESCRIPTION = __doc__.splitlines()[0]


class BisectError(RuntimeError):
    """The bisection cannot start or go on; the message says what to do."""


@dataclass(frozen=True)
class Probe:
    """One commit's value of the bisected count (position: 1 is the history's first commit)."""

    commit: str
    position: int
    value: Value


@dataclass
class Bisection:
    benchmark: str
    good: Probe
    bad: Probe
    probes: list[Probe]  # the commits measured between them, in the order they were
    culprits: list[Probe]  # one commit when found; several when skipped commits hide it

    @property
    def found(self) -> bool:
        return len(self.culprits) == 1

    def lines(self) -> list[str]:
        out = [
            f"{self.benchmark}: {_show(self.good)} (good) -> {_show(self.bad)} (bad); "
            f"{len(self.probes)} commits measured between them"
        ]
        out += [f"  measured {_show(p)}" for p in self.probes]
        if self.found:
            first = self.culprits[0]
            out.append(f"first step at commit {first.position} ({first.commit[:8]})")
        else:
            span = ", ".join(f"{p.position} ({p.commit[:8]})" for p in self.culprits)
            out.append(f"the step is at one of commits {span}: the others could not be measured")
        return out


def _show(probe: Probe) -> str:
    value = probe.value
    shown = value.outcome if value.missing else f"{value.number:,.6g}"
    return f"commit {probe.position} ({probe.commit[:8]}) = {shown}"


def first_step(
    history: list[str], good: str, bad: str, measure: Callable[[str], Value], benchmark: str = ""
) -> Bisection:
    """Bisect `history` (oldest first) between `good` and `bad` with `measure(commit)`."""
    position = {commit: i for i, commit in enumerate(history)}
    for name, commit in (("GOOD", good), ("BAD", bad)):
        if commit not in position:
            raise BisectError(f"{name} {commit[:12]} is not on the history asv follows")
    lo, hi = position[good], position[bad]
    if lo >= hi:
        raise BisectError(f"GOOD ({good[:8]}) must come before BAD ({bad[:8]}) in the history")

    def probe(i: int) -> Probe:
        return Probe(history[i], i + 1, measure(history[i]))

    before, after = probe(lo), probe(hi)
    for name, end in (("GOOD", before), ("BAD", after)):
        if end.value.missing:
            raise BisectError(
                f"{benchmark} is {end.value.outcome} at {name} {end.commit[:8]}: "
                "choose commits where it was measured"
            )
    if not is_step(before.value.number, after.value.number):
        raise BisectError(
            f"{benchmark} does not step between GOOD and BAD ({_show(before)}, {_show(after)}): "
            "nothing to bisect"
        )
    probes, skipped = [], set()
    while candidates := [i for i in range(lo + 1, hi) if i not in skipped]:
        mid = candidates[len(candidates) // 2]
        found = probe(mid)
        probes.append(found)
        if found.value.missing:
            skipped.add(mid)
        elif is_step(before.value.number, found.value.number):
            hi = mid
        else:
            lo = mid
    measured = {p.position - 1: p for p in probes}  # lo+1 .. hi-1 were all skipped
    culprits = [measured[i] for i in range(lo + 1, hi)] + [measured.get(hi, after)]
    return Bisection(benchmark, before, after, probes, culprits)


# ----------------------------------------------------------------------------------------------
# Measuring a commit with asv


def asv_measure(
    config: Path, results_dir: Path, machine: str, benchmark: str, combination: tuple | None
) -> Callable[[str], Value]:
    """measure(commit): the benchmark's value at the commit, from the results folder after `asv
    run --skip-existing-successful` on that benchmark alone (RadiObject only)."""
    env = {**os.environ, suite.FRAMEWORKS_ENV: "radiobject"}
    asv = [sys.executable, "-m", "asv", "--config", str(config)]

    def measure(commit: str) -> Value:
        command = [*asv, "run", "--skip-existing-successful", "--show-stderr"]
        command += ["-b", selection(benchmark), "--machine", machine, f"{commit}^!"]
        print(f"radibench bisect: {' '.join(command[2:])}", file=sys.stderr, flush=True)
        proc = subprocess.run(command, env=env)
        value = recorded(results_dir, machine, commit, benchmark, combination)
        if value is None and proc.returncode not in (0, 2):
            raise BisectError(
                f"`asv run` exited {proc.returncode} at {commit[:8]} and recorded nothing: see "
                f"its log above (machine {machine!r} not recorded? run `radibench machine`)"
            )
        return value or Value(None, outcome=FAILED)

    return measure


def selection(benchmark: str) -> str:
    """asv's -b regex for this benchmark alone: asv matches a parameterized benchmark by its name
    with the parameters, `name(radiobject)`, so a bare `^name$` selects nothing."""
    return rf"^{re.escape(benchmark)}(\(.*\))?$"


def recorded(
    results_dir: Path, machine: str, commit: str, benchmark: str, combination: tuple | None
) -> Value | None:
    """The benchmark's value at the commit in the results folder (None if it has none)."""
    folder = Path(results_dir) / machine
    runs = (
        [r for r in asv_results.read_folder(folder) if r.commit == commit]
        if folder.is_dir()
        else []
    )
    found = [r.benchmarks[benchmark] for r in runs if benchmark in r.benchmarks]
    if not found:
        return None
    values = max(found, key=lambda b: sum(not v.missing for v in b.values.values())).values
    return values.get(pick(values, combination, benchmark))


def pick(values: dict[tuple, Value], combination: tuple | None, benchmark: str) -> tuple:
    """The parameter combination to follow: the one given, else RadiObject's, else the only one."""
    if combination is not None:
        if combination not in values:
            known = ", ".join(",".join(map(str, c)) for c in values)
            raise BisectError(f"{benchmark} has no combination {combination}; it has: {known}")
        return combination
    if ("radiobject",) in values:
        return ("radiobject",)
    if len(values) == 1:
        return next(iter(values))
    raise BisectError(f"{benchmark} has several parameter combinations: choose one with --params")


# ----------------------------------------------------------------------------------------------
# The steps of one machine's results


@dataclass(frozen=True)
class Step:
    benchmark: str
    combination: tuple
    before: Probe  # the last commit measured at the old level
    after: Probe  # the first commit measured at the new level

    @property
    def adjacent(self) -> bool:
        return self.after.position == self.before.position + 1


def steps(results_dir: Path, machine: str, history: list[str]) -> list[Step]:
    """Every step of every gated count in the machine's results, in history order."""
    position = {commit: i for i, commit in enumerate(history)}
    folder = Path(results_dir) / machine
    runs = [r for r in asv_results.read_folder(folder) if r.commit in position]
    runs = in_history_order(runs, position)
    by_commit = {r.commit: r for r in runs}
    found = []
    for series in count_history(runs):
        measured = [level for level in series.levels if level.value is not None]
        for old, new in zip(measured, measured[1:], strict=False):
            if not is_step(old.value, new.value):
                continue  # a level of n/a between two equal ones
            ends = []
            for commit in (old.last, new.first):
                value = by_commit[commit].benchmarks[series.benchmark].value(*series.combination)
                ends.append(Probe(commit, position[commit] + 1, value))
            found.append(Step(series.benchmark, series.combination, *ends))
    return sorted(found, key=lambda s: (s.after.position, s.benchmark))


# ----------------------------------------------------------------------------------------------
# Command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "benchmark", nargs="?", help="e.g. counts.S3PerBatch.track_head_requests_per_batch"
    )
    parser.add_argument("good", nargs="?", help="a commit before the step")
    parser.add_argument("bad", nargs="?", help="a commit after it")
    parser.add_argument(
        "--steps",
        action="store_true",
        help="list every gated count's steps in the results, bisecting those between commits "
        "that are not adjacent",
    )
    parser.add_argument(
        "--params",
        help="the parameter combination to follow, comma-separated (default: radiobject)",
    )
    shards.add_results_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Exit 0 with the answer; 1 when the bisection cannot be made or could not decide."""
    say = lambda m: print(f"radibench bisect: {m}", file=sys.stderr)  # noqa: E731
    config = args.config or shards.default_config()
    machine = args.machine
    try:
        conf = shards.load_config(config)
        results_dir = args.results_dir or shards.resolved(config, conf.results_dir)
        history = list(reversed(shards.history(config)))
        if args.steps:
            return _all_steps(config, results_dir, machine, history)
        if not (args.benchmark and args.good and args.bad):
            raise BisectError("give BENCHMARK GOOD BAD, or --steps")
        combination = tuple(args.params.split(",")) if args.params else None
        good, bad = (_resolve(config, conf, c) for c in (args.good, args.bad))
        measure = asv_measure(config, results_dir, machine, args.benchmark, combination)
        found = first_step(history, good, bad, measure, args.benchmark)
    except (BisectError, shards.ShardError, source.SourceError) as exc:
        say(f"error: {exc}")
        return 1
    print("\n".join(found.lines()))
    return 0 if found.found else 1


def _all_steps(config: Path, results_dir: Path, machine: str, history: list[str]) -> int:
    found = steps(results_dir, machine, history)
    print(f"{len(found)} steps of the gated counts in {results_dir / machine}")
    undecided = 0
    for step in found:
        name = f"{step.benchmark}({','.join(map(str, step.combination))})"
        if step.adjacent:
            print(
                f"- {name}: {_show(step.before)} -> {_show(step.after)}: "
                f"first step at commit {step.after.position} ({step.after.commit[:8]})"
            )
            continue
        measure = asv_measure(config, results_dir, machine, step.benchmark, step.combination)
        bisection = first_step(history, step.before.commit, step.after.commit, measure, name)
        print("- " + "\n  ".join(bisection.lines()))
        undecided += not bisection.found
    return 1 if undecided else 0


def _resolve(config: Path, conf, commit: str) -> str:
    """A full hash of a commit of the history asv reads (a short hash or a tag)."""
    git_dir = shards.resolved(config, conf.repo)
    if not ((git_dir / ".git").exists() or (git_dir / "objects").is_dir()):
        git_dir = config.resolve().parent / conf.project  # asv's mirror of a remote repo
    try:
        return source.git("rev-parse", "--verify", f"{commit}^{{commit}}", git_dir=git_dir).strip()
    except source.SourceError as exc:
        raise BisectError(f"{commit}: not a commit of {git_dir}") from exc
