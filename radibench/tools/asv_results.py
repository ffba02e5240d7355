"""The one model of asv's results (format version 2) that every tool reads: report, status,
precision, results check, dashboard check.

A results folder holds benchmarks.json and one folder per machine; each machine folder holds
machine.json and one file per (commit, environment): a Run. A file holds one row per benchmark;
`result_columns` names the row's cells. asv drops trailing empty cells, flattens a parameter grid
in itertools.product order, writes NaN for n/a (skipped) and null for failed, and a lone null
instead of the list when every combination failed. This module turns all of that into Runs of
Benchmarks of Values, each Value with its outcome and, where asv recorded one, its interval.
"""

from __future__ import annotations

import ast
import itertools
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_COLUMNS = ["result", "params"]  # what a file without result_columns holds
OK, NA, FAILED = "ok", "n/a", "failed"
OUTCOMES = (OK, NA, FAILED)


@dataclass(frozen=True)
class Value:
    """One measured number with asv's 99% confidence interval of its median, if recorded.

    `samples` is asv's stats "repeat": the samples the median was taken over (for a benchmark
    that returns one value per fresh process, the processes); `sample_values`, the samples
    themselves where asv recorded them (`asv run --record-samples`). `outcome` says why
    `number` is None: "n/a" (skipped: not selected, or the commit lacks the API) or "failed"."""

    number: float | None
    low: float | None = None
    high: float | None = None
    samples: int | None = None
    outcome: str = OK
    sample_values: tuple[float, ...] = ()

    @property
    def missing(self) -> bool:
        return self.number is None

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None


NA_VALUE = Value(None, outcome=NA)


@dataclass
class Benchmark:
    """One benchmark's values in one results file, keyed by its parameter combination (the
    parameters' Python values: ("monai", 2), or () for an unparametrized benchmark)."""

    name: str
    param_names: list[str]
    unit: str
    type: str
    values: dict[tuple, Value]
    duration: float | None = None  # seconds asv spent on it
    version: str | None = None  # the benchmark's version when it ran (asv publishes the current)

    def value(self, *combo) -> Value:
        return self.values.get(tuple(combo), NA_VALUE)


@dataclass
class Run:
    """The results of one machine at one commit in one asv environment (one results file)."""

    machine: str
    commit: str
    date: int | None  # commit date, ms since the epoch (asv's "date")
    env_name: str
    path: Path
    params: dict[str, str] = field(default_factory=dict)  # machine and environment, incl. os
    benchmarks: dict[str, Benchmark] = field(default_factory=dict)


@dataclass(frozen=True)
class _Row:
    """One benchmark's row of one results file, as asv wrote it."""

    name: str
    cells: list[Any]
    columns: list[str]

    def column(self, key: str) -> Any:
        """The cell named `key`; None when the row has no such cell."""
        index = self.columns.index(key) if key in self.columns else len(self.cells)
        return self.cells[index] if index < len(self.cells) else None


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def _outcome(value: Any) -> str:
    if value is None:
        return FAILED
    if isinstance(value, float) and math.isnan(value):
        return NA
    return OK


def _param(text: str) -> Any:
    """asv stores parameter values as their repr ("'monai'", "2"); turn them back into values."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def combination(reprs) -> tuple:
    """A parameter combination as asv writes it (reprs) as the model keys it (values)."""
    return tuple(_param(text) for text in reprs)


def _nth(cell: Any, i: int) -> Any:
    return cell[i] if isinstance(cell, list) and i < len(cell) else None


def _values(row: _Row) -> dict[tuple, Value] | None:
    """{combination: Value} of one row; None when the values are not one per combination
    (malformed, or from another asv): better left out than mislabelled."""
    params = row.column("params") or []
    combos = [combination(combo) for combo in itertools.product(*params)]
    values = row.column("result")
    if not isinstance(values, list) and (not params or values is None):
        values = [values] * len(combos)  # a bare value, or the lone null: all failed
    if not isinstance(values, list) or len(values) != len(combos):
        return None
    lows, highs = row.column("stats_ci_99_a"), row.column("stats_ci_99_b")
    repeats, recorded = row.column("stats_repeat"), row.column("samples")
    out = {}
    for i, (combo, raw) in enumerate(zip(combos, values, strict=True)):
        number = _number(raw)
        if number is None:
            out[combo] = Value(None, outcome=_outcome(raw))
            continue
        low, high = _number(_nth(lows, i)), _number(_nth(highs, i))
        if low is None or high is None:
            low = high = None
        elif number >= 0:  # every quantity here is a time, size, count or ratio: never below 0
            low = max(low, 0.0)  # asv's model extends a wide interval of few samples below 0
        repeat = _nth(repeats, i)
        kept = tuple(x for x in map(_number, _nth(recorded, i) or ()) if x is not None)
        out[combo] = Value(number, low, high, int(repeat) if repeat else None, sample_values=kept)
    return out


def read_file(path: Path, benchmarks_json: dict | None = None, machine: str | None = None) -> Run:
    """One results file as a Run; benchmarks.json supplies parameter names, units and types."""
    path = Path(path)
    data = json.loads(path.read_text())
    info_all = benchmarks_json or {}
    run = Run(
        machine=machine or data.get("params", {}).get("machine") or path.parent.name,
        commit=data["commit_hash"],
        date=data.get("date"),
        env_name=data.get("env_name", ""),
        path=path,
        params=dict(data.get("params") or {}),
    )
    columns = data.get("result_columns") or DEFAULT_COLUMNS
    for name, cells in data.get("results", {}).items():
        row = _Row(name, cells, columns)
        values = _values(row)
        if values is None:
            continue
        info = info_all.get(name, {})
        n_params = len(row.column("params") or [])
        run.benchmarks[name] = Benchmark(
            name=name,
            param_names=list(info.get("param_names") or [f"p{i}" for i in range(n_params)]),
            unit=info.get("unit", ""),
            type=info.get("type", ""),
            values=values,
            duration=_number(row.column("duration")),
            version=row.column("version"),
        )
    return run


def benchmarks_json(results_dir: Path) -> dict:
    path = Path(results_dir) / "benchmarks.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def machines(results_dir: Path) -> list[str]:
    """The machines with results under results_dir (folders holding a machine.json)."""
    return sorted(p.parent.name for p in Path(results_dir).glob("*/machine.json"))


def result_files(folder: Path) -> list[Path]:
    """The results files of one machine's folder (every JSON file but machine.json)."""
    return sorted(p for p in Path(folder).glob("*.json") if p.name != "machine.json")


def read_folder(folder: Path, benchmarks: dict | None = None) -> list[Run]:
    """Every Run of one machine's folder; benchmarks.json is looked for beside the folder."""
    folder = Path(folder)
    info = benchmarks if benchmarks is not None else benchmarks_json(folder.parent)
    return [read_file(path, info, folder.name) for path in result_files(folder)]


def read_results(results_dir: Path) -> list[Run]:
    """Every Run of every machine under results_dir."""
    info = benchmarks_json(results_dir)
    return [run for m in machines(results_dir) for run in read_folder(Path(results_dir) / m, info)]


def newest_run(results_dir: Path, machine: str | None = None, commit: str | None = None) -> Run:
    """The run to report on: the given (or first) machine, the given (or newest) commit; with
    several files for one commit (several environments), the one with most benchmarks."""
    results_dir = Path(results_dir)
    known = machines(results_dir)
    if not known:
        raise SystemExit(f"no asv results (no */machine.json) under {results_dir}")
    machine = machine or known[0]
    if machine not in known:
        raise SystemExit(f"no results for machine {machine!r}; present: {', '.join(known)}")
    runs = [
        r
        for r in read_folder(results_dir / machine, benchmarks_json(results_dir))
        if not commit or r.commit.startswith(commit)
    ]
    if not runs:
        raise SystemExit(f"no results for commit {commit!r} on machine {machine!r}")
    newest = max(r.date or 0 for r in runs)
    candidates = sorted((r for r in runs if (r.date or 0) == newest), key=lambda r: r.commit)
    candidates = [r for r in candidates if r.commit == candidates[0].commit]  # same date
    return max(candidates, key=lambda r: len(r.benchmarks))


def each_value(run: Run) -> Iterator[tuple[Benchmark, tuple, Value]]:
    """(benchmark, combination, value) for every parameter combination of every benchmark."""
    for bench in run.benchmarks.values():
        for combo, value in bench.values.items():
            yield bench, combo, value
