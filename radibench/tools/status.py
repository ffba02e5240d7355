"""`radibench status`: which benchmark measured, was n/a or failed at which commit.

Reads one machine's asv results folder and prints a Markdown table, one row per commit (in
history order when the RadiObject git repository is given, else by commit date) and one column
per benchmark. A cell counts the parameter combinations by outcome: a number (``ok``), asv's
n/a (NaN: the commit lacks that API, or the framework was not selected) and ``failed`` (null:
an error, or a commit that did not build). The answer to "does every commit work?".
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from radibench.tools import asv_results, source

OUTCOMES = asv_results.OUTCOMES


@dataclass
class CommitStatus:
    commit: str
    date: int
    counts: dict[str, dict[str, int]]  # benchmark -> outcome -> parameter combinations

    def total(self, outcome: str) -> int:
        return sum(c[outcome] for c in self.counts.values())


def read(folder: Path, select: str | None = None) -> list[CommitStatus]:
    """The status of every commit with a results file in `folder` (one machine's folder)."""
    pattern = re.compile(select) if select else None
    statuses = []
    for run in asv_results.read_folder(folder, benchmarks={}):
        counts = {}
        for bench, _, value in asv_results.each_value(run):
            if pattern and not pattern.search(bench.name):
                continue
            tally = counts.setdefault(bench.name, dict.fromkeys(OUTCOMES, 0))
            tally[value.outcome] += 1
        statuses.append(CommitStatus(run.commit, run.date or 0, counts))
    return statuses


def history_order(repo: Path, branch: str = "main") -> list[str]:
    """Commits of `repo` (a git dir such as asv's mirror, or a work tree), oldest first."""
    repo = Path(repo)
    if not repo.exists():
        raise source.SourceError(f"{repo}: no such git repository (give --repo a git dir)")
    git_dir = repo / ".git" if (repo / ".git").exists() else repo
    log = source.git("--git-dir", str(git_dir), "log", "--reverse", "--format=%H", branch)
    return log.split()


def cell(tally: dict[str, int] | None) -> str:
    if tally is None:
        return "-"
    return " · ".join(f"{tally[o]} {o}" for o in OUTCOMES if tally[o]) or "-"


def table(statuses: list[CommitStatus], order: list[str] | None = None) -> str:
    """Markdown: commits x benchmarks, plus a totals column."""
    position = {commit: i + 1 for i, commit in enumerate(order or [])}
    statuses = sorted(statuses, key=lambda s: (position.get(s.commit, 10**6), s.date, s.commit))
    names = sorted({name for s in statuses for name in s.counts})
    short = [name.split(".", 1)[-1] for name in names]
    header = ["#", "commit", *short, "all"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for s in statuses:
        number = f"{position[s.commit]:02d}" if s.commit in position else ""
        cells = [cell(s.counts.get(name)) for name in names]
        total = {o: s.total(o) for o in OUTCOMES}
        lines.append("| " + " | ".join([number, s.commit[:8], *cells, cell(total)]) + " |")
    grand = {o: sum(s.total(o) for s in statuses) for o in OUTCOMES}
    lines.append(f"\n{len(statuses)} commits; {cell(grand)} (benchmark x parameter results)")
    return "\n".join(lines)


DESCRIPTION = __doc__.splitlines()[0]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, help="one machine's folder, e.g. results/MACHINE")
    parser.add_argument("--repo", type=Path, help="RadiObject git dir or clone, to number commits")
    parser.add_argument("-b", "--bench", help="only benchmarks whose name matches this regex")


def run(args: argparse.Namespace) -> int:
    """Print the table; exit 1 if any result failed, 2 if there is nothing to read."""
    if not args.folder.is_dir():
        print(f"radibench status: {args.folder}: no such folder", file=sys.stderr)
        return 2
    statuses = read(args.folder, args.bench)
    if not statuses:
        print(f"radibench status: {args.folder}: no asv results files", file=sys.stderr)
        return 2
    order = history_order(args.repo) if args.repo else None
    print(table(statuses, order))
    return 1 if any(s.total("failed") for s in statuses) else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="radibench status", description=DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
