"""Small asv results folders written from literal values, for tests of the tools that read them.

`write_results(folder, {benchmark: {"param_names": [...], "values": {combo: cell}}})` writes
benchmarks.json, machine.json and one results file in asv's format version 2. A cell is a
number, (median, low, high) for a value with asv's 99% interval over 5 samples, a list of
samples asv recorded (`--record-samples`: their median, their range as the interval), "n/a" or
"failed"; a benchmark whose name has a "time_" method is typed "time", else "track". A
benchmark's "unit" defaults to seconds; its "version", if given, is recorded as asv does.
Called again on the same folder with another commit (and machine), it adds a results file.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

COMMIT = "e077ed58ce035640379be50ee7657ae01901be0c"
MACHINE = "test-machine"
COLUMNS = ["result", "params", "stats_ci_99_a", "stats_ci_99_b", "stats_repeat"]


def _cell(cell):
    """(result, ci_a, ci_b, repeat, samples) of one literal cell."""
    if cell == "n/a":
        return float("nan"), None, None, None, None
    if cell == "failed":
        return None, None, None, None, None
    if isinstance(cell, tuple):
        median, low, high = cell
        return median, low, high, 5 if low is not None else None, None
    if isinstance(cell, list):
        ordered = sorted(cell)
        return ordered[len(cell) // 2], ordered[0], ordered[-1], len(cell), cell
    return cell, None, None, None, None


def write_results(
    folder: Path, benchmarks: dict, commit: str = COMMIT, date: int = 1, machine: str = MACHINE
) -> Path:
    folder = Path(folder)
    (folder / machine).mkdir(parents=True, exist_ok=True)
    (folder / machine / "machine.json").write_text(json.dumps({"machine": machine, "version": 1}))
    versioned = any("version" in bench for bench in benchmarks.values())
    recorded = any(
        isinstance(cell, list) for bench in benchmarks.values() for cell in bench["values"].values()
    )
    info, rows = {}, {}
    for name, bench in benchmarks.items():
        names = bench["param_names"]
        combos = list(bench["values"])
        grid = [list(dict.fromkeys(c[i] for c in combos)) for i in range(len(names))]
        cells = [_cell(bench["values"].get(c, "n/a")) for c in itertools.product(*grid)]
        kind = "time" if name.rsplit(".", 1)[-1].startswith("time_") else "track"
        unit = bench.get("unit", "seconds")
        info[name] = {"name": name, "param_names": names, "type": kind, "unit": unit}
        rows[name] = [
            [c[0] for c in cells],
            [[repr(v) for v in values] for values in grid],
            [c[1] for c in cells],
            [c[2] for c in cells],
            [c[3] for c in cells],
        ]
        rows[name] += [[c[4] for c in cells]] if recorded else []
        rows[name] += [bench.get("version")] if versioned else []
    (folder / "benchmarks.json").write_text(json.dumps(info))
    data = {
        "commit_hash": commit,
        "env_name": "virtualenv-py3.11",
        "date": date,
        "params": {"machine": machine, "os": "Linux"},
        "result_columns": COLUMNS + ["samples"] * recorded + ["version"] * versioned,
        "results": rows,
        "version": 2,
    }
    (folder / machine / f"{commit[:8]}-virtualenv-py3.11.json").write_text(json.dumps(data))
    return folder
