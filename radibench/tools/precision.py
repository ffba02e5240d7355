"""Precision study: how noisy the gated benchmarks are, and which `--factor` gates reliably.

``python -m radibench.tools.precision [--work DIR] [--aa 5] [--slow 2]`` builds a local RadiObject
history (radibench/tools/local_history.py) from the 0.1.1 release with two commits whose effect is
known: ``noop`` rewords a comment, ``slow10`` makes every patch read 10% slower (it sleeps a
tenth of the time the read took, after the read). Then, on the chosen profile (default:
``default``), RadiObject only, as the PR check runs:

1. three separate `asv run`s of the release: each time_ benchmark's 99% CI width / median per
   run, and min / median / max of the medians across the runs;
2. `--aa` times `asv continuous release noop` (A/A: same code, so any alarm is a false one);
3. `--slow` times `asv continuous release slow10` (a real 10% slowdown that must be caught).

Every comparison is also re-judged offline with `asv compare --factor F` for several factors,
from the same recorded samples. Writes summary.json and precision.md into the work folder.
Needs a quiet machine: anything else running inflates the spread and causes false alarms.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import shutil
import statistics
import sys
import time
from pathlib import Path

from radibench.suite import GATE_FACTOR, GATED
from radibench.tools import asv_results, gate
from radibench.tools.local_history import LOADER, READ, Workspace, commit, release_with_noop

SPREAD = r"^loaders\.(WarmBatch|ColdStart|BytesRead|TrainingLoader\.track_seconds_per_sample)"
FACTORS = ["1.03", "1.05", "1.08", "1.1"]
SLOW10 = (
    "            import time as _time\n\n            _t0 = _time.perf_counter()\n"
    + READ
    + "            _time.sleep(0.1 * (_time.perf_counter() - _t0))  # exactly 10% slower reads\n"
)


def build_history(repo: Path) -> dict[str, str]:
    commits = release_with_noop(repo)
    commits["slow10"] = commit(repo, "Slower reads", LOADER, lambda t: t.replace(READ, SLOW10))
    return commits


def compare_rows(output: str) -> list[dict]:
    """The gated, measured rows of an `asv compare` table (radibench.tools.gate's reader)."""
    return [
        dataclasses.asdict(row)
        for row in gate.compare_rows(output)
        if re.search(GATED, row.name) and row.ratio != "n/a"
    ]


def spread(result_files: list[Path]) -> list[dict]:
    """Per time_ benchmark: CI width / median of each run, and the medians' min/median/max."""
    per = {}
    for path in result_files:
        for result in asv_results.results(json.loads(path.read_text())):
            value = result.value
            if value is None or value != value:  # failed or n/a
                continue
            entry = per.setdefault(
                (result.benchmark, ", ".join(result.params)),
                {"medians": [], "ci_over_median": []},
            )
            entry["medians"].append(value)
            if value and result.ci_low is not None and result.ci_high is not None:
                entry["ci_over_median"].append((result.ci_high - result.ci_low) / value)
    table = []
    for (name, label), entry in sorted(per.items()):
        medians = entry["medians"]
        middle = statistics.median(medians)
        table.append(
            dict(
                benchmark=f"{name}({label})",
                runs=len(medians),
                min=min(medians),
                median=middle,
                max=max(medians),
                range_over_median=(max(medians) - min(medians)) / middle if middle else 0.0,
                ci_over_median=entry["ci_over_median"],
            )
        )
    return table


def markdown(summary: dict) -> str:
    lines = ["## Spread over three separate `asv run`s", ""]
    lines += [
        "| benchmark | 99% CI / median per run | min | median | max | (max-min)/median |",
        "|---|---|---|---|---|---|",
    ]
    for r in summary["spread"]:
        ci = ", ".join(f"{c:.1%}" for c in r["ci_over_median"]) or "(track: no CI)"
        lines.append(
            f"| {r['benchmark']} | {ci} | {r['min']:.4g} | {r['median']:.4g} | {r['max']:.4g} "
            f"| {r['range_over_median']:.1%} |"
        )
    lines += ["", "## Comparisons", ""]
    lines += ["| pair | asv continuous exit | ratios | flagged at factor |", "|---|---|---|---|"]
    for c in summary["comparisons"]:
        ratios = ", ".join(f"{r['name'].split('.')[-1]} {r['ratio']}" for r in c["rows"])
        flagged = ", ".join(f"{f}: {'yes' if v else 'no'}" for f, v in c["flagged"].items())
        lines.append(f"| {c['pair']} | {c['exit']} | {ratios} | {flagged} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path(".radibench/precision"))
    parser.add_argument("--profile", default="default")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--aa", type=int, default=5)
    parser.add_argument("--slow", type=int, default=2)
    parser.add_argument("--factor", default=GATE_FACTOR, help="the factor asv continuous uses")
    args = parser.parse_args(argv)
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    (work / "repo").mkdir(parents=True)
    commits = build_history(work / "repo")
    ws = Workspace(work / "repo", work, None, "precision", profile=args.profile)
    summary = {"profile": args.profile, "factor": args.factor, "commits": commits, "runs": []}
    log = (work / "asv.log").open("w")

    def asv(*a):
        start = time.monotonic()
        proc = ws.asv(*a, timeout=3600)
        log.write(f"$ asv {' '.join(a)}\n{proc.stdout}\n{proc.stderr}\n")
        log.flush()
        print(
            f"asv {a[0]} {' '.join(a[-2:])}: exit {proc.returncode}, "
            f"{time.monotonic() - start:.0f} s",
            flush=True,
        )
        return proc

    kept = []
    for i in range(args.runs):
        asv("run", "--machine", "precision", "-b", SPREAD, f"{commits['release']}^!")
        result = next(ws.results.glob(f"{commits['release'][:8]}-*.json"))
        kept.append(work / f"run{i + 1}.json")
        shutil.copy(result, kept[-1])
    summary["spread"] = spread(kept)

    summary["comparisons"] = []
    pairs = [("release", "noop")] * args.aa + [("release", "slow10")] * args.slow
    for base, head in pairs:
        proc = asv(
            "continuous",
            "--factor",
            args.factor,
            "--split",
            "--machine",
            "precision",
            "-b",
            GATED,
            commits[base],
            commits[head],
        )
        flagged = {}
        rows = []
        for factor in FACTORS:
            out = ws.asv(
                "compare",
                "--factor",
                factor,
                "--split",
                "--machine",
                "precision",
                commits[base],
                commits[head],
            ).stdout
            found = compare_rows(out)
            rows = rows or found
            flagged[factor] = any(r["mark"] == "+" for r in found)
        summary["comparisons"].append(
            dict(pair=f"{base} -> {head}", exit=proc.returncode, rows=rows, flagged=flagged)
        )
        (work / "summary.json").write_text(json.dumps(summary, indent=1))
    (work / "precision.md").write_text(markdown(summary))
    print(markdown(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
