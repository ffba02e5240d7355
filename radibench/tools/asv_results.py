"""The one reader of asv's results files (format version 2) for status, precision and report.

A file holds one row per benchmark; `result_columns` names the row's cells. asv drops trailing
empty cells, flattens a parameter grid in itertools.product order, writes NaN for n/a (skipped)
and null for failed, and a lone null instead of the list when every combination failed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

DEFAULT_COLUMNS = ["result", "params"]  # what a file without result_columns holds


@dataclass(frozen=True)
class Row:
    """One benchmark's row of one results file."""

    name: str
    cells: list[Any]
    columns: list[str]

    def column(self, key: str) -> Any:
        """The cell named `key`; None when the row has no such cell."""
        index = self.columns.index(key) if key in self.columns else len(self.cells)
        return self.cells[index] if index < len(self.cells) else None

    @property
    def params(self) -> list[list[str]]:
        """The parameter grid: one list of asv's value reprs ("'monai'", "2") per parameter."""
        return self.column("params") or []

    def combinations(self) -> list[tuple[str, ...]]:
        """Every parameter combination, in the order of the row's values."""
        return list(itertools.product(*self.params))


@dataclass(frozen=True)
class Result:
    """One parameter combination of one benchmark: its value and asv's 99% CI, if recorded."""

    benchmark: str
    params: tuple[str, ...]
    value: Any  # a number; NaN: n/a; None: failed
    ci_low: float | None
    ci_high: float | None


def rows(data: dict) -> Iterator[Row]:
    """The rows of one parsed results file."""
    columns = data.get("result_columns") or DEFAULT_COLUMNS
    for name, cells in data.get("results", {}).items():
        yield Row(name, cells, columns)


def results(data: dict) -> Iterator[Result]:
    """One Result per parameter combination of every benchmark of one parsed results file."""
    for row in rows(data):
        combos = row.combinations()
        values = row.column("result")
        if not isinstance(values, list):  # the lone null: every combination failed
            values = [values] * len(combos)
        lows, highs = row.column("stats_ci_99_a"), row.column("stats_ci_99_b")
        for i, (combo, value) in enumerate(zip(combos, values, strict=False)):
            yield Result(row.name, combo, value, _nth(lows, i), _nth(highs, i))


def _nth(cell: Any, i: int) -> Any:
    return cell[i] if isinstance(cell, list) and i < len(cell) else None
