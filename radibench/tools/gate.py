"""`radibench gate BASE HEAD`: the pull-request verdict, from the results `asv continuous` left.

Each gated metric (suite.GATES) is judged by asv's own `asv compare` at the factor that metric's
measured spread justifies: the warm-batch wall time with asv's significance test, the counts
that do not depend on noise by the factor alone. A gated benchmark that had a number at the base
and is n/a or failed at the head fails the check too: an API break is not a pass. A non-zero exit
of `asv continuous` itself (`--asv-exit`: 2 when a benchmark failed) fails it as well.

Writes the verdict as markdown (for the job summary, and as a file the calling repository can
post as a pull-request comment) and exits 1 on any failure, 0 otherwise.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

from radibench.suite import GATES

DESCRIPTION = __doc__.splitlines()[0]
MISSING = ("n/a", "failed")


@dataclasses.dataclass(frozen=True)
class Row:
    """One row of an `asv compare` table."""

    mark: str  # + worse, - better, ! newly failed, x not comparable, ' ' the same
    before: str
    after: str
    ratio: str
    name: str  # benchmark with its parameters

    @property
    def benchmark(self) -> str:
        return self.name.split("(", 1)[0]

    @property
    def broken(self) -> bool:
        """A number at the base, none at the head."""
        return self.before not in MISSING and self.after in MISSING


def compare_rows(output: str) -> list[Row]:
    """Every benchmark row of an `asv compare` table."""
    rows = []
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.match(r"\w+\.\w+\.\w+", cells[4]):
            rows.append(Row(*cells))
    return rows


@dataclasses.dataclass
class Verdict:
    base: str
    head: str
    rows: list[tuple[Row, str]]  # (row, factor it was judged at)
    asv_exit: int = 0

    @property
    def failures(self) -> list[str]:
        found = []
        for row, factor in self.rows:
            if row.broken:
                found.append(f"{row.name}: {row.before} at the base, {row.after} at the head")
            elif self.flagged(row):
                found.append(f"{row.name}: {row.ratio.strip('~')}x, above the factor {factor}")
        if self.asv_exit not in (0, 1):
            found.append(f"`asv continuous` exited {self.asv_exit}: a benchmark failed to run")
        return found

    def flagged(self, row: Row) -> bool:
        """A gated row that fails the check."""
        return row.broken or row.mark in ("+", "!")

    def to_json(self) -> dict:
        """The verdict as data (the precision study reads it)."""
        return {
            "base": self.base,
            "head": self.head,
            "failures": self.failures,
            "rows": [
                {
                    "name": row.name,
                    "before": row.before,
                    "after": row.after,
                    "ratio": row.ratio,
                    "factor": factor,
                    "flagged": self.flagged(row),
                }
                for row, factor in self.rows
            ],
        }

    def markdown(self, dashboard: str | None = None) -> str:
        verdict = "FAILED" if self.failures else "passed"
        lines = [f"## RadiObject performance check: {verdict}", ""]
        lines += [f"- {f}" for f in self.failures] or ["No gated metric got worse."]
        lines += [
            "",
            f"Base `{self.base}`, head `{self.head}`; ratio = head / base, every "
            "number lower-is-better.",
            "",
        ]
        lines += ["| | metric | base | head | ratio | factor |", "|---|---|---|---|---|---|"]
        for row, factor in self.rows:
            mark = (
                "broken"
                if row.broken
                else {"+": "worse", "!": "failed", "-": "better"}.get(row.mark, "")
            )
            lines.append(
                f"| {mark} | `{row.name}` | {row.before} | {row.after} | {row.ratio} | {factor} |"
            )
        if dashboard:
            lines += ["", f"History of every metric: {dashboard}"]
        return "\n".join(lines) + "\n"


def judge(asv: list[str], base: str, head: str, asv_exit: int = 0, machine=None) -> Verdict:
    """Run `asv compare` once per factor and keep each gated metric's rows at its own factor."""
    rows = []
    where = ["--machine", machine] if machine else []
    for factor in sorted(set(GATES.values())):
        proc = subprocess.run(
            [*asv, "compare", "--split", "--factor", factor, *where, base, head],
            capture_output=True,
            text=True,
        )
        if proc.returncode:
            raise RuntimeError(f"asv compare failed: {proc.stderr.strip()[-2000:]}")
        patterns = [p for p, f in GATES.items() if f == factor]
        rows += [
            (row, factor)
            for row in compare_rows(proc.stdout)
            if any(re.fullmatch(p, row.benchmark) for p in patterns)
        ]
    missing = [p for p in GATES if not any(re.fullmatch(p, r.benchmark) for r, _ in rows)]
    for pattern in missing:  # measured at neither commit: say so rather than pass silently
        name = pattern.replace("\\", "")
        rows.append((Row(" ", "n/a", "n/a", "n/a", name), GATES[pattern]))
    return Verdict(base, head, sorted(rows, key=lambda r: r[0].name), asv_exit)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("base")
    parser.add_argument("head")
    parser.add_argument("--config", default="asv.conf.json", help="the asv config to read")
    parser.add_argument("--machine", help="asv machine name of the results")
    parser.add_argument("--asv-exit", type=int, default=0, help="exit code of asv continuous")
    parser.add_argument(
        "--markdown",
        type=Path,
        action="append",
        default=[],
        help="append the verdict to this file (repeatable)",
    )
    parser.add_argument("--dashboard", help="URL of the published dashboard, for the verdict")
    parser.add_argument("--json", type=Path, help="also write the verdict as JSON here")


def run(args) -> int:
    asv = [sys.executable, "-m", "asv", "--config", args.config]
    verdict = judge(asv, args.base, args.head, args.asv_exit, args.machine)
    text = verdict.markdown(args.dashboard)
    print(text)
    for path in args.markdown:
        with open(path, "a") as out:
            out.write(text)
    if args.json:
        args.json.write_text(json.dumps(verdict.to_json(), indent=1))
    return 1 if verdict.failures else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="radibench gate", description=DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
