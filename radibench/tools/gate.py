"""`radibench gate BASE HEAD`: the pull-request verdict, from the results `asv continuous` left.

Each gated metric (suite.GATES) is judged by asv's own `asv compare` at the factor that metric's
measured spread justifies: the counts that do not depend on noise by the factor alone, the
warm-batch wall time with asv's significance test too, reported beside them but failing no
check (suite.ADVISORY: its comparison's unit is not yet the process). A gated benchmark that
had a number at the base and is n/a or failed at the head fails the check too: an API break is
not a pass. So does one measured at neither commit (n/a, failed or absent at both: no valgrind
on the runner, no S3 server binary): a check that could not measure must not pass. A non-zero
exit of `asv continuous` itself (`--asv-exit`: 2 when a benchmark failed) fails it as well.

When a count rose and `--profiles` names the folder `asv continuous` kept its profiles in
(RADIBENCH_PROFILES), the verdict also says where it went (radibench.tools.where): for the
instructions, the C functions and the Python calls that changed most; for S3 requests, bytes,
tiles and array opens, the arrays whose S3 requests and bytes changed, by kind.

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

from radibench.suite import ADVISORY, GATES
from radibench.tools import where

INSTRUCTIONS = "counts.PerBatch.track_instructions_per_batch"  # explained by functions
# Explained by arrays: the S3 requests by kind, and TileDB's bytes, tiles and array opens (per
# process, so the S3 run's split by array stands in for them).
BY_ARRAY = (
    "counts.S3PerBatch.",
    "loaders.BytesRead.track_bytes_per_batch",
    "counts.PerBatch.track_tiles_per_batch",
    "counts.PerBatch.track_array_opens_per_batch",
)

DESCRIPTION = __doc__.splitlines()[0]
ABSENT = "no result"  # a gated benchmark `asv compare` has no row for (never run)
MISSING = ("n/a", "failed", ABSENT)


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

    @property
    def unmeasured(self) -> bool:
        """No number at either commit: nothing was compared."""
        return self.before in MISSING and self.after in MISSING


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
    where: str = ""  # where the instructions went (markdown), when they rose

    def risen(self, *benchmarks: str) -> list[str]:
        """The frameworks (benchmark parameters) of the rows of `benchmarks` (names, or their
        beginnings) that the check flags as worse, each once."""
        found = [
            re.sub(r"^\('?|'?\)$", "", row.name.removeprefix(row.benchmark))
            for row, _ in self.rows
            if row.benchmark.startswith(benchmarks) and row.mark == "+"
        ]
        return list(dict.fromkeys(found))

    @property
    def failures(self) -> list[str]:
        found = []
        for row, factor in self.rows:
            if advisory(row):
                continue
            if row.broken:
                found.append(f"{row.name}: {row.before} at the base, {row.after} at the head")
            elif row.unmeasured:
                why = (
                    "asv ran it at neither commit (not selected by -b?)"
                    if row.before == row.after == ABSENT
                    else "the `asv continuous` log says why (valgrind or the S3 server's weed "
                    "binary missing on the runner?)"
                )
                found.append(
                    f"{row.name}: not measured ({row.before} at the base, {row.after} at the "
                    f"head): {why}"
                )
            elif self.flagged(row):
                found.append(f"{row.name}: {row.ratio.strip('~')}x, above the factor {factor}")
        if self.asv_exit not in (0, 1):
            found.append(f"`asv continuous` exited {self.asv_exit}: a benchmark failed to run")
        return found

    def flagged(self, row: Row) -> bool:
        """A row asv marks worse (or broken, or not measured): the check fails on it unless it
        is advisory."""
        return row.broken or row.unmeasured or row.mark in ("+", "!")

    def to_json(self) -> dict:
        """The verdict as data (the precision study reads it)."""
        return {
            "base": self.base,
            "head": self.head,
            "failures": self.failures,
            "where": self.where,
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
            f"- Reported, not gated: `{row.name}` {row.ratio.strip('~')}x (factor {factor}); "
            "a wall time compared with one process per commit fails no check."
            for row, factor in self.rows
            if advisory(row) and row.mark == "+"
        ]
        lines += [
            "",
            f"Base `{self.base}`, head `{self.head}`; ratio = head / base, every "
            "number lower-is-better.",
            "",
        ]
        lines += ["| | metric | base | head | ratio | factor |", "|---|---|---|---|---|---|"]
        for row, factor in self.rows:
            if row.broken:
                mark = "broken"
            elif row.unmeasured:
                mark = "not measured"
            else:
                mark = {"+": "worse", "!": "failed", "-": "better"}.get(row.mark, "")
            if advisory(row):
                mark = f"{mark} (reported, not gated)".strip()
            lines.append(
                f"| {mark} | `{row.name}` | {row.before} | {row.after} | {row.ratio} | {factor} |"
            )
        if self.where:
            lines.append(self.where)
        if dashboard:
            lines += ["", f"History of every metric: {dashboard}"]
        return "\n".join(lines) + "\n"


def advisory(row: Row) -> bool:
    """A metric the verdict reports but never fails on (suite.ADVISORY)."""
    return any(re.fullmatch(pattern, row.benchmark) for pattern in ADVISORY)


def selected_gates(bench: str | None = None) -> dict[str, str]:
    """The gated metrics (pattern -> factor) that asv's `-b bench` selects; all without one."""
    if bench is None:
        return dict(GATES)
    chosen = {p: f for p, f in GATES.items() if re.search(bench, p.replace("\\", ""))}
    if not chosen:
        raise ValueError(f"--bench {bench!r} selects no gated metric (radibench.suite.GATES)")
    return chosen


def gated_rows(tables: dict[str, str], gates: dict[str, str]) -> list[tuple[Row, str]]:
    """Each gated metric's rows from the `asv compare` table made at its factor (factor ->
    output); a gated metric with no row gets one that says it has no result at either commit."""
    rows = []
    for pattern, factor in gates.items():
        found = [r for r in compare_rows(tables[factor]) if re.fullmatch(pattern, r.benchmark)]
        name = pattern.replace("\\", "")
        rows += [(r, factor) for r in found] or [(Row(" ", ABSENT, ABSENT, "n/a", name), factor)]
    return sorted(rows, key=lambda r: r[0].name)


def judge(
    asv: list[str], base: str, head: str, asv_exit: int = 0, machine=None, gates=None
) -> Verdict:
    """Run `asv compare` once per factor and judge each gated metric at its own factor."""
    gates = GATES if gates is None else gates
    where = ["--machine", machine] if machine else []
    tables = {}
    for factor in sorted(set(gates.values())):
        proc = subprocess.run(
            [*asv, "compare", "--split", "--factor", factor, *where, base, head],
            capture_output=True,
            text=True,
        )
        if proc.returncode:
            raise RuntimeError(f"asv compare failed: {proc.stderr.strip()[-2000:]}")
        tables[factor] = proc.stdout
    return Verdict(base, head, gated_rows(tables, gates), asv_exit)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("base")
    parser.add_argument("head")
    parser.add_argument("--config", default="asv.conf.json", help="the asv config to read")
    parser.add_argument("--machine", help="asv machine name of the results")
    parser.add_argument("--asv-exit", type=int, default=0, help="exit code of asv continuous")
    parser.add_argument(
        "-b",
        "--bench",
        help="judge only the gated metrics this regex selects (the -b given to asv continuous); "
        "default: every gated metric",
    )
    parser.add_argument(
        "--markdown",
        type=Path,
        action="append",
        default=[],
        help="append the verdict to this file (repeatable)",
    )
    parser.add_argument("--dashboard", help="URL of the published dashboard, for the verdict")
    parser.add_argument("--json", type=Path, help="also write the verdict as JSON here")
    parser.add_argument(
        "--profiles",
        type=Path,
        help="the folder asv continuous kept its profiles in (RADIBENCH_PROFILES): when the "
        "instruction count rose, the verdict says where the instructions went",
    )


def explain(verdict: Verdict, profiles: Path) -> str:
    """Where the instructions went, for each framework whose count rose, and which arrays, for
    each whose requests, bytes, tiles or array opens rose; a profile that cannot be read is
    said, not raised: the verdict must still be written."""
    parts = []
    for benchmarks, section, title in (
        ((INSTRUCTIONS,), where.markdown, "Where the instructions went"),
        (BY_ARRAY, where.arrays_markdown, "Which arrays"),
    ):
        for framework in verdict.risen(*benchmarks):
            try:
                parts.append(section(profiles, verdict.base, verdict.head, framework))
            except (OSError, ValueError, KeyError, subprocess.CalledProcessError) as exc:
                parts.append(f"\n### {title}\n\nCould not read the profiles: {exc}")
    return "\n".join(parts)


def run(args) -> int:
    try:
        gates = selected_gates(args.bench)
    except (ValueError, re.error) as exc:
        print(f"radibench gate: {exc}", file=sys.stderr)
        return 2
    asv = [sys.executable, "-m", "asv", "--config", args.config]
    verdict = judge(asv, args.base, args.head, args.asv_exit, args.machine, gates)
    if args.profiles:
        verdict.where = explain(verdict, args.profiles)
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
