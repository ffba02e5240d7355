"""`radibench report`: the comparison's charts, tables and JSON summary from asv's results.

Why not only the asv dashboard: it shows history per benchmark, while the comparison's question
is "at this commit, on this machine, which loader wins and by how much". This reads one results
file (one machine, one commit; the newest by default) through the results model
(radibench.tools.asv_results) and writes report.md, summary.json and PNG charts. Built by layer:
units (figures with their intervals, ties), summary (what the rows say), markdown, charts.

asv treats every benchmark as lower-is-better; throughput is shown here as 1 / seconds per
sample. Missing benchmarks and n/a values are reported, never fatal.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from radibench.tools import asv_results
from radibench.tools.asv_results import Value
from radibench.tools.report import charts, markdown, summary

DESCRIPTION = "Charts, markdown tables and a JSON summary from one machine and commit."


def jsonable(obj: Any) -> Any:
    """summary.json's form of the summary: a Value as its number, interval and samples."""
    if isinstance(obj, Value):
        return {"value": obj.number, "low": obj.low, "high": obj.high, "samples": obj.samples}
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    return obj


def build_report(
    results_dir: Path | str = "results",
    out: Path | str = Path("docs") / "report",
    machine: str | None = None,
    commit: str | None = None,
) -> dict:
    """Write the charts, report.md and summary.json to out; return the summary."""
    run = asv_results.newest_run(Path(results_dir), machine, commit)
    found = summary.summarize(run)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = charts.write(found, out)
    found["charts"] = [name for section in written.values() for name in section.values()]
    (out / "report.md").write_text(markdown.render(found, written))
    (out / "summary.json").write_text(json.dumps(jsonable(found), indent=2) + "\n")
    return found


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results-dir", type=Path, default=Path("results"))
    parser.add_argument("--machine", help="default: the first (or only) machine in the results")
    parser.add_argument("--commit", help="hash or prefix; default: the newest commit")
    parser.add_argument("--out", type=Path, default=Path("docs") / "report")
    parser.add_argument(
        "--answer", action="store_true", help="also print the headline and regimes in sentences"
    )


def run(args: argparse.Namespace) -> int:
    """Build the report and say where it went and what it lacks."""
    found = build_report(args.results_dir, args.out, args.machine, args.commit)
    print(
        f"report for {found['machine']} at {found['commit'][:8]}: "
        f"{args.out / 'report.md'} ({len(found['charts'])} charts)"
    )
    for name in found["missing"]:
        print(f"  not in these results: {name}")
    if args.answer:
        print("\n".join(markdown.answer(found)))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="radibench report", description=DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
