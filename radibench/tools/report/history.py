"""What the dashboard's summary says about many runs: the exact counts' history, which metrics
are counts and which timings, and a PyPI release's counts next to the reference results of the
upstream commit it was made from. Plain data from the results model; nothing formatted here.

A gated count (suite.GATED_COUNTS: bytes, tiles, array opens, S3 requests, instructions per
batch) does not depend on machine noise, so its history reads as levels: one value over a run
of commits, a step where the code changed what it does. A step is a change beyond the gate's
factor for counts (instructions of identical code differ by ~0.05%): what the summary calls a
step is what the pull-request gate would flag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from radibench import suite
from radibench.tools.asv_results import OK, Run, Value

STEP = float(suite.COUNT_FACTOR) - 1  # relative change that makes a step
COUNT, TIME, MEMORY, RATIO, OTHER = "count", "time", "memory", "ratio", "other"


@dataclass(frozen=True)
class Level:
    """A count holding one value (within STEP of `value`, its first) over consecutive commits;
    or holding no value (`outcome` n/a or failed) over them."""

    first: str  # commit hashes
    last: str
    commits: int
    value: float | None
    low: float | None
    high: float | None
    outcome: str = OK


@dataclass(frozen=True)
class CountSeries:
    """One gated count (benchmark and parameter combination) on one machine, commit by commit."""

    benchmark: str
    combination: tuple
    unit: str
    levels: tuple[Level, ...]


def is_gated_count(name: str) -> bool:
    return any(re.fullmatch(pattern, name) for pattern in suite.GATED_COUNTS)


def is_step(before: float, after: float) -> bool:
    """Whether a count moved from `before` to `after` by more than STEP (relative to before)."""
    return abs(after - before) > STEP * abs(before)


def _same_level(level: Level, value: Value) -> bool:
    if value.missing or level.outcome != OK:
        return value.outcome == level.outcome
    return not is_step(level.value, value.number)


def levels(points: list[tuple[str, Value]]) -> tuple[Level, ...]:
    """(commit, value) in history order as levels: a new one where the value leaves the
    current level's first value by more than STEP, or starts or stops being measured."""
    out: list[Level] = []
    for commit, value in points:
        if out and _same_level(out[-1], value):
            level = out[-1]
            low = None if value.missing else min(level.low, value.number)
            high = None if value.missing else max(level.high, value.number)
            out[-1] = Level(
                level.first, commit, level.commits + 1, level.value, low, high, level.outcome
            )
        else:
            out.append(
                Level(commit, commit, 1, value.number, value.number, value.number, value.outcome)
            )
    return tuple(out)


def in_history_order(runs: list[Run], order: dict[str, int] | None = None) -> list[Run]:
    """Runs by the history's order of their commits (`order`: commit -> position, as asv's
    revisions), else by commit date; one run per commit (with several environments, the one
    with most benchmarks, as the report picks)."""
    by_commit: dict[str, Run] = {}
    for run in runs:
        kept = by_commit.get(run.commit)
        if kept is None or len(run.benchmarks) > len(kept.benchmarks):
            by_commit[run.commit] = run
    if order is not None:
        return sorted(by_commit.values(), key=lambda r: (order.get(r.commit, -1), r.commit))
    return sorted(by_commit.values(), key=lambda r: (r.date or 0, r.commit))


def count_history(runs: list[Run]) -> list[CountSeries]:
    """Every gated count's levels over `runs` (one machine's, in history order), by name."""
    points: dict[tuple[str, tuple], list[tuple[str, Value]]] = {}
    units: dict[str, str] = {}
    for run in runs:
        for name, bench in run.benchmarks.items():
            if not is_gated_count(name):
                continue
            units[name] = bench.unit
            for combo, value in bench.values.items():
                points.setdefault((name, combo), []).append((run.commit, value))
    return [
        CountSeries(name, combo, units[name], levels(found))
        for (name, combo), found in sorted(points.items(), key=lambda item: str(item[0]))
    ]


def kind(name: str, unit: str) -> str:
    """What a metric is: a count (suite.COUNTS), a timing (seconds), a memory size (bytes that
    are not a count), a ratio (of timings), or other."""
    if re.search(suite.COUNTS, name):
        return COUNT
    return {"seconds": TIME, "bytes": MEMORY, "ratio": RATIO}.get(unit, OTHER)


def kinds(benchmarks: dict, runs: list[Run]) -> dict[str, list[tuple[str, bool]]]:
    """{kind: [(benchmark, whether any of `runs` recorded an interval for it)]} of the
    benchmarks listed (benchmarks.json's entries shown on the dashboard)."""
    with_interval = {
        name
        for run in runs
        for name, bench in run.benchmarks.items()
        if any(v.has_interval for v in bench.values.values())
    }
    out: dict[str, list[tuple[str, bool]]] = {}
    for name in sorted(benchmarks):
        info = benchmarks[name]
        if not isinstance(info, dict):
            continue  # benchmarks.json's "version" entry
        out.setdefault(kind(name, info.get("unit", "")), []).append((name, name in with_interval))
    return out


# --- a release measured in another history beside the reference results ------------------------


@dataclass(frozen=True)
class Comparison:
    """One gated count at a release: yours and the reference's, and whether they can be
    compared (the same benchmark version: same benchmark code, same dataset)."""

    benchmark: str
    combination: tuple
    unit: str
    yours: Value
    reference: Value
    your_data: str | None  # the dataset the benchmark version names (suite.DATASET_ID)
    reference_data: str | None
    comparable: bool

    @property
    def same(self) -> bool:
        """Within the gate's factor for counts: no step between the two."""
        if not self.comparable or self.yours.missing or self.reference.missing:
            return False
        return _same_level(
            Level("", "", 1, self.reference.number, None, None), Value(self.yours.number)
        )


def dataset_of(version: str | None) -> str | None:
    found = suite.DATASET_ID.search(version or "")
    return found["id"] if found else None


def compare_counts(yours: Run, reference: Run) -> list[Comparison]:
    """The gated counts either run measured, side by side (by name and combination)."""
    out = []
    names = sorted(n for n in yours.benchmarks.keys() | reference.benchmarks.keys())
    for name in filter(is_gated_count, names):
        a, b = yours.benchmarks.get(name), reference.benchmarks.get(name)
        combos = dict.fromkeys([*(a.values if a else {}), *(b.values if b else {})])
        for combo in combos:
            out.append(
                Comparison(
                    benchmark=name,
                    combination=combo,
                    unit=(a or b).unit,
                    yours=a.value(*combo) if a else Value(None),
                    reference=b.value(*combo) if b else Value(None),
                    your_data=dataset_of(a.version) if a else None,
                    reference_data=dataset_of(b.version) if b else None,
                    comparable=bool(a and b and a.version == b.version),
                )
            )
    return out
