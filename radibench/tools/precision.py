"""Calibration of the pull-request gate: how often identical code fails it, and what it catches.

``python -m radibench.tools.precision [--aa 20] [--tries 1] [--profile default]`` builds a local
RadiObject history (radibench/tools/local_history.py) from the real 0.1.1 release, then commits
whose effect is known, each on its own branch off the release:

- ``noop``: a reworded comment (A/A: the same code, so every alarm is a false one);
- ``cpu5`` and ``cpu10``: an unused statistic of every patch computed k times, CPU only, with k
  chosen and the slowdown measured by an independent timing in this process (the release's warm
  batch against the statement on a real patch, interleaved), never assumed;
- ``io10``: every tenth item's patch read twice (about +10% bytes);
- ``api``: the training loader exported under another name (every gated benchmark n/a).

Each comparison runs as pr-check.yml runs it: `asv continuous` of the gated benchmarks
(suite.GATED) with RADIBENCH_INGEST_CACHE set, then `radibench gate`; the A/A comparisons are
spread evenly among the regressions so slow drift hits both. From the results files it keeps
each gated metric's exact ratio head / base. Writes summary.json into the work folder and, with
``--out``, the recorded data beside the markdown (``docs/precision.json``, ``docs/precision.md``).
``--add-counts docs/precision.json`` measures the second, disjoint A/A set of the counts into the
recorded data (fresh counts at the installed release, radibench/tools/count_spread.py): the
factors chosen on the comparisons are checked on it. ``--add-worker-path docs/precision.json``
counts the worker path's instructions (counts.WorkerPath) ``--worker-path-runs`` times: its factor
is chosen on the first half of the runs' disjoint pairs and checked on the second half.
``--render docs/precision.json`` writes the markdown again from the recorded data alone: every
word of the doc follows from the rows (tests/test_precision.py checks it matches).
Needs a quiet machine: anything else running inflates the wall-time spread.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from radibench import suite
from radibench.tools import asv_results, gate
from radibench.tools.local_history import (
    BIN,
    LOADER,
    ML,
    READ,
    STATISTIC,
    Workspace,
    branch,
    cpu_work,
    release_with_noop,
    rename_training_loader,
    reread,
)

MACHINE = "precision"
WALL = r"loaders\.WarmBatch\.time_warm_batch"
LADDER = ["1.05", "1.08", "1.10", "1.12", "1.15", "1.20"]  # wall-time factors re-judged
Z_ONE_PERCENT = 2.326  # one-sided: a ratio this many sigmas up happens once in 100 A/A checks
Z_ONE_IN_10000 = 3.719  # the same, once in 10,000: a count that moves gets this much room
CONFIDENCE = 0.95
REGRESSIONS = {
    "cpu5": "CPU only, about 5% per batch",
    "cpu10": "CPU only, about 10% per batch",
    "io10": "every tenth item's patch read twice",
    "api": "training loader renamed (API break)",
}


# --- the regressions, sized by an independent timing ----------------------------------------


def size_cpu_work(profile: str, work: Path, targets=(0.05, 0.10), rounds: int = 15) -> dict:
    """Time the release's warm batch (installed radiobject 0.1.1, this process, seeded, batch 4)
    and the STATISTIC on a real 64^3 patch, interleaved over `rounds`; the repeats k that make
    each target slowdown, and the slowdown each k measures (4 k statistic / batch)."""
    import numpy as np  # noqa: F401  (the statement's own name)

    from radibench import frameworks
    from radibench.data import datasets
    from radibench.frameworks import radiobject as radiobject_api
    from radibench.measure.counters import seed_everything

    data = datasets.ensure_dataset(profile)
    uri = str(work / "train")
    cohort = [(s.train_dicom_dir, s.id) for s in data.subjects]
    radiobject_api.ingest_dicoms(uri, cohort, tiling="isotropic")  # as the suite ingests
    framework = frameworks.make("radiobject", [], uri)
    framework.import_modules()
    seed_everything()
    stream = framework.batches(frameworks.LoaderSpec())
    for _ in range(4):
        next(stream)
    volume = radiobject_api.open_collection(uri).iloc[0]
    patch = volume.slice(slice(0, 64), slice(0, 64), slice(0, 64))
    code = compile(STATISTIC, "<statistic>", "eval")
    batch, statistic = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(5):
            next(stream)
        batch.append((time.perf_counter() - start) / 5)
        start = time.perf_counter()
        for _ in range(20):
            eval(code, {"np": np, "patch": patch})
        statistic.append((time.perf_counter() - start) / 20)
    per_batch, per_statistic = statistics.median(batch), statistics.median(statistic)
    sizes = {}
    for target in targets:
        repeats = max(1, round(target * per_batch / (4 * per_statistic)))
        sizes[f"cpu{round(target * 100)}"] = {
            "repeats": repeats,
            "slowdown": 4 * repeats * per_statistic / per_batch,
        }
    return {
        "warm_batch_seconds": per_batch,
        "statistic_seconds": per_statistic,
        "rounds": rounds,
        "regressions": sizes,
    }


def build_history(repo: Path, sizing: dict) -> dict[str, str]:
    commits = release_with_noop(repo)
    release = commits["release"]
    for name, size in sizing["regressions"].items():
        work = cpu_work(size["repeats"])
        commits[name] = branch(
            repo,
            release,
            name,
            f"Patch statistics x{size['repeats']}",
            LOADER,
            lambda t, work=work: t.replace(READ, work),
        )
    commits["io10"] = branch(
        repo, release, "io10", "Validate patches", LOADER, lambda t: t.replace(READ, reread(10))
    )
    commits["api"] = branch(
        repo, release, "api", "Rename the training loader", ML, rename_training_loader
    )
    return commits


def schedule(aa: int, tries: int) -> list[str]:
    """Heads in run order: the A/A runs with the regressions spread evenly among them."""
    heads = ["noop"] * aa
    regressions = [name for _ in range(tries) for name in REGRESSIONS]
    step = (len(heads) + 1) / (len(regressions) + 1)
    for i, name in enumerate(regressions):
        heads.insert(round((i + 1) * step) + i, name)
    return heads


# --- one comparison, as pr-check.yml makes it -----------------------------------------------


def values(ws: Workspace, commit: str) -> dict[str, float | None]:
    """Gated benchmark -> its value at `commit` (None: n/a or failed)."""
    found = {}
    for path in ws.results.glob(f"{commit[:8]}-*.json"):
        for bench, combo, value in asv_results.each_value(asv_results.read_file(path)):
            found[f"{bench.name}({', '.join(map(repr, combo))})"] = value.number
    return found


def compare(ws: Workspace, base: str, head: str, log) -> dict:
    start = time.monotonic()
    continuous = ws.asv(
        "continuous", "--factor", suite.GATE_FACTOR, "--split", "--show-stderr",
        "--machine", MACHINE, "-b", suite.GATED, base, head, timeout=3600,
    )  # fmt: skip
    verdict_file = ws.work / "verdict.json"
    judged = subprocess.run(
        [str(BIN / "radibench"), "gate", "--machine", MACHINE, "--asv-exit",
         str(continuous.returncode), "--json", str(verdict_file), base, head],
        cwd=ws.work, env=ws.env, capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.monotonic() - start
    log.write(f"$ asv continuous {base} {head}\n{continuous.stdout}\n{continuous.stderr}\n")
    log.write(f"$ radibench gate\n{judged.stdout}\n{judged.stderr}\n")
    log.flush()
    if judged.returncode not in (0, 1):
        raise RuntimeError(f"radibench gate failed:\n{judged.stderr[-2000:]}")
    verdict = json.loads(verdict_file.read_text())
    before, after = values(ws, base), values(ws, head)
    wall_at = {}  # the wall time re-judged as the gate would judge it at each candidate factor
    for factor in LADDER:
        out = ws.asv("compare", "--factor", factor, "--split", "--machine", MACHINE, base, head)
        for row in gate.compare_rows(out.stdout):
            if re.fullmatch(WALL, row.benchmark):
                wall_at.setdefault(row.name, {})[factor] = row.broken or row.mark in ("+", "!")
    metrics = {}
    for row in verdict["rows"]:
        b, a = before.get(row["name"]), after.get(row["name"])
        metrics[row["name"]] = {
            "base": b,
            "head": a,
            "ratio": a / b if a is not None and b else None,
            "broken": b is not None and a is None,
            "flagged": row["flagged"],
            "factor": row["factor"],
            "flagged_at": wall_at.get(row["name"]),
        }
    return {
        "asv_exit": continuous.returncode,
        "failed": bool(verdict["failures"]),
        "seconds": seconds,
        "metrics": metrics,
    }


# --- what the comparisons say ---------------------------------------------------------------


def log_ratio_spread(ratios: list[float]) -> tuple[float, float]:
    """Mean and standard deviation of the log ratios (0, 0 for fewer than two)."""
    logs = [math.log(r) for r in ratios]
    if len(logs) < 2:
        return 0.0, 0.0
    return statistics.fmean(logs), statistics.stdev(logs)


def factor_for(ratios: list[float], floor: float) -> float:
    """The smallest factor (two decimals, at least `floor`) that one A/A comparison in 100
    exceeds under a log-normal fit of the A/A ratios."""
    mean, sd = log_ratio_spread(ratios)
    return max(floor, math.ceil(math.exp(mean + Z_ONE_PERCENT * sd) * 100) / 100)


def alarm_probability(ratios: list[float], factor: float) -> float:
    """P(an A/A ratio > factor) under the log-normal fit; 0 when the ratios never vary."""
    mean, sd = log_ratio_spread(ratios)
    if sd == 0:
        return 0.0 if all(r <= factor for r in ratios) else 1.0
    z = (math.log(factor) - mean) / sd
    return 0.5 * math.erfc(z / math.sqrt(2))


def upper_bound(alarms: int, n: int, confidence: float = CONFIDENCE) -> float:
    """One-sided Clopper-Pearson upper bound of a rate seen `alarms` times in `n` (bisection)."""
    if alarms >= n:
        return 1.0
    low, high = alarms / n, 1.0
    for _ in range(60):
        p = (low + high) / 2
        tail = sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(alarms + 1))
        low, high = (p, high) if tail > 1 - confidence else (low, p)
    return high


def count_factor(ratios: list[float]) -> str:
    """The factor of a count that moves a little (instructions): the larger of the log-normal
    fit's one-in-10,000 point and twice the largest A/A move, rounded up to 0.001; a count that
    never moved keeps COUNT_FACTOR."""
    if not ratios or max(ratios) == min(ratios) == 1.0:
        return suite.COUNT_FACTOR
    mean, sd = log_ratio_spread(ratios)
    largest = max(abs(r - 1) for r in ratios)
    factor = max(math.exp(mean + Z_ONE_IN_10000 * sd), 1 + 2 * largest)
    return f"{math.ceil(round(factor * 1000, 6)) / 1000:.3f}"


def gate_factor(name: str) -> str:
    """The factor the gate judges a metric (benchmark with parameters) at today."""
    benchmark = name.split("(", 1)[0]
    return next(f for pattern, f in suite.GATES.items() if re.fullmatch(pattern, benchmark))


def disjoint_pairs(values: list[float]) -> list[float]:
    """Ratios of disjoint pairs of runs (second / first): the A/A comparisons of a count."""
    pairs = zip(values[::2], values[1::2], strict=False)  # an odd last run stays unpaired
    return [b / a if a else (1.0 if b == a else math.inf) for a, b in pairs]


def chosen_wall_factor(ratios: list[float]) -> str:
    """The A/A fit's one-in-100 factor (factor_for), two decimals, at least LADDER's first."""
    return f"{factor_for(ratios, float(LADDER[0])):.2f}"


def wall_flagged(metric: dict, factor: str) -> bool:
    """Whether the gate flags the wall time at `factor`, from `asv compare` at LADDER's factors:
    asv flags a ratio above the factor that its Mann-Whitney test finds significant, and the
    test does not depend on the factor, so at any factor F the verdict is the one at the
    largest LADDER factor at or below F, and the ratio above F."""
    if metric["broken"]:
        return True
    below = [f for f in LADDER if float(f) <= float(factor)]
    return bool(below) and metric["flagged_at"][below[-1]] and metric["ratio"] > float(factor)


def analyse(summary: dict) -> dict:
    """Per gated metric: A/A ratios and spread, alarms, detections and factor, each judged as the
    gate judges today (the wall time at the factor its A/A spread gives; a count at its factor in
    suite.GATES, from the recorded ratio); the per-check figures, over the metrics that fail a
    check (not the advisory wall time)."""
    comparisons = summary["comparisons"]
    aa = [c for c in comparisons if c["head"] == "noop"]
    names = sorted({m for c in comparisons for m in c["metrics"]})
    wall_factor = None
    for name in names:
        if re.fullmatch(WALL, name.split("(")[0]):
            ratios = [c["metrics"][name]["ratio"] for c in aa if c["metrics"][name]["ratio"]]
            wall_factor = chosen_wall_factor(ratios)

    def flagged(c: dict, name: str) -> bool:
        m = c["metrics"].get(name)
        if m is None:
            return False
        if m["flagged_at"] is not None:  # the wall time
            return wall_flagged(m, wall_factor)
        if m["broken"] or m["ratio"] is None:
            return m["broken"] or m["flagged"]  # a count from 0: no ratio, asv marks it worse
        return m["ratio"] > float(gate_factor(name))

    metrics = []
    for name in names:
        rows = [c["metrics"][name] for c in aa if name in c["metrics"]]
        wall = rows[0]["flagged_at"] is not None
        factor_text = wall_factor if wall else gate_factor(name)
        factor = float(factor_text)
        ratios = [row["ratio"] for row in rows if row["ratio"]]
        alarms = sum(1 for c in aa if flagged(c, name))
        mean, sd = log_ratio_spread(ratios)
        detections = {}
        for regression in REGRESSIONS:
            runs = [c for c in comparisons if c["head"] == regression]
            detections[regression] = {
                "caught": sum(1 for c in runs if flagged(c, name)),
                "tries": len(runs),
                "ratios": [c["metrics"].get(name, {}).get("ratio") for c in runs],
            }
        metrics.append(
            {
                "name": name,
                "wall": wall,
                "factor": factor,
                "factor_text": factor_text,
                "rule_factor": None if wall else count_factor(ratios),
                "aa_runs": len(ratios),
                "aa_min": min(ratios) if ratios else None,
                "aa_max": max(ratios) if ratios else None,
                "aa_largest_move": max(abs(r - 1) for r in ratios) if ratios else None,
                "log_sd": sd,
                "log_mean": mean,
                "alarms": alarms,
                "alarm_model": alarm_probability(ratios, factor) if ratios else None,
                "fitted_factor": factor_for(ratios, 1.0) if ratios else None,
                "detections": detections,
            }
        )
    gating = [m["name"] for m in metrics if not m["wall"]]  # the wall time is advisory
    failed = sum(1 for c in aa if any(flagged(c, name) for name in gating))
    caught = {
        r: [any(flagged(c, name) for name in gating) for c in comparisons if c["head"] == r]
        for r in REGRESSIONS
    }
    model = 1.0
    for m in metrics:
        if not m["wall"]:
            model *= 1 - (m["alarm_model"] or 0.0)
    seconds = [c["seconds"] for c in comparisons]
    return {
        "metrics": metrics,
        "wall_factor": wall_factor,
        "aa_checks": len(aa),
        "aa_failed": failed,
        "aa_failed_bound": upper_bound(failed, len(aa)) if aa else None,
        "caught": caught,
        "pr_alarm_model": 1 - model,
        "check_seconds": {"min": min(seconds), "median": statistics.median(seconds),
                          "max": max(seconds), "total": sum(seconds)} if seconds else None,
    }  # fmt: skip


# --- the document ---------------------------------------------------------------------------


def _short(name: str) -> str:
    return name.split("(")[0].replace("loaders.", "").replace("counts.", "")


def _pct(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:.{digits}%}"


def _chance(x: float) -> str:
    return "below 0.01%" if x < 1e-4 else _pct(x, 2)


def _ratio(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4f}"


def markdown(summary: dict) -> str:
    """docs/precision.md, from the recorded data alone."""
    result = analyse(summary)
    sizing = summary["sizing"]
    wall = next((m for m in result["metrics"] if m["wall"]), None)
    n = result["aa_checks"]
    lines = [
        "# Calibration of the pull-request gate",
        "",
        "Generated by `python -m radibench.tools.precision --out docs/precision.md` "
        f"(`--render docs/precision.json` rewrites it from the recorded data). Machine: "
        f"{summary['machine']}; profile `{summary['profile']}`; RadiObject only; "
        f"{len(summary['comparisons'])} comparisons, each `asv continuous --factor "
        f"{summary['asv_factor']} -b GATED` then `radibench gate`, as pr-check.yml runs them, "
        "with the asv environments, the dataset and the ingest cached.",
        "",
        "## The regressions, sized independently",
        "",
        f"The release's warm batch, timed in one process ({sizing['rounds']} interleaved rounds "
        f"of 5 batches): {sizing['warm_batch_seconds'] * 1e3:.2f} ms; the statement the CPU "
        f"regressions repeat on every patch (`{STATISTIC}`, on a 64^3 patch): "
        f"{sizing['statistic_seconds'] * 1e3:.3f} ms.",
        "",
        "| regression | what changed | measured size |",
        "|---|---|---|",
    ]
    for name, text in REGRESSIONS.items():
        size = sizing["regressions"].get(name)
        measured = (
            f"+{size['slowdown']:.1%} per batch ({size['repeats']} statistics per patch)"
            if size
            else "see the ratios below"
        )
        lines.append(f"| `{name}` | {text} | {measured} |")
    lines += [
        "",
        "## Per metric",
        "",
        f"A/A = {n} comparisons of identical code (release against a reworded comment). "
        "Spread = standard deviation of ln(ratio) over the A/A comparisons. Alarm and detection "
        "= flagged as `radibench gate` flags it today, from the recorded ratios (the wall time: "
        "`asv compare` at the factor, which also asks for asv's Mann-Whitney test, reported "
        "but failing no check; the counts: ratio above today's factor; either: a number at "
        "the base and none at the head).",
        "",
        "| metric | factor | A/A ratios min-max | spread | A/A alarms | "
        + " | ".join(f"{r} caught" for r in REGRESSIONS)
        + " |",
        "|---|---|---|---|---|" + "---|" * len(REGRESSIONS),
    ]
    for m in result["metrics"]:
        caught = []
        for regression in REGRESSIONS:
            d = m["detections"][regression]
            ratios = ", ".join(_ratio(r) for r in d["ratios"])
            caught.append(f"{d['caught']}/{d['tries']} ({ratios})")
        lines.append(
            f"| `{_short(m['name'])}` | {m['factor_text']} | {_ratio(m['aa_min'])}-"
            f"{_ratio(m['aa_max'])} | {m['log_sd']:.3%} | {m['alarms']}/{m['aa_runs']} | "
            + " | ".join(caught)
            + " |"
        )
    lines += ["", "## What it says", ""]
    if wall:
        lines.append(
            f"- **The wall time** (`{_short(wall['name'])}`): A/A spread {wall['log_sd']:.2%}; "
            f"a log-normal fit puts one A/A comparison in 100 above {wall['fitted_factor']:.2f}, "
            f"so the verdict reports it at {wall['factor']:.2f} (`radibench.suite.GATE_FACTOR`), "
            "judged from the same results (`asv compare` at "
            f"{', '.join(LADDER)}; asv's significance test does not depend on the factor). "
            f"At it, {wall['alarms']} of {wall['aa_runs']} A/A "
            "comparisons alarmed, and it caught "
            + ", ".join(
                f"`{r}` {wall['detections'][r]['caught']}/{wall['detections'][r]['tries']}"
                for r in REGRESSIONS
            )
            + ". It fails no check (`radibench.suite.ADVISORY`): the factor was fitted to these "
            "same comparisons, and a comparison with one process per commit is not one whose "
            "unit is the process."
        )
    for m in result["metrics"]:
        if m is wall:
            continue
        moved = (
            "never moved"
            if m["log_sd"] == 0
            else f"moved by at most {m['aa_largest_move']:.3%} (ratio)"
        )
        found = [r for r in REGRESSIONS if m["detections"][r]["caught"]]
        rule = ""
        if m["log_sd"]:
            rule = (
                f" (the larger of the fit's one-in-10,000 point and twice the largest move, "
                f"rounded up to 0.001: {m['rule_factor']})"
            )
        lines.append(
            f"- **`{_short(m['name'])}`**: {moved} over {m['aa_runs']} A/A comparisons, gated at "
            f"{m['factor_text']}{rule}; caught {', '.join(f'`{r}`' for r in found) or 'none'}."
        )
    lines += check_lines(summary.get("count_check"), result)
    lines += smallest_lines(summary, result)
    lines += s3_lines(summary.get("s3_requests"))
    lines += worker_path_lines(summary.get("worker_path"))
    lines += [
        "",
        "## One pull-request check",
        "",
        f"- Identical code failed the whole check (the counts at today's factors; the wall time "
        f"is reported, not gated) in {result['aa_failed']} of {n} A/A comparisons (95% upper "
        f"bound of the rate: {_pct(result['aa_failed_bound'])}).",
        "- The whole check caught "
        + ", ".join(f"`{r}` {sum(c)}/{len(c)}" for r, c in result["caught"].items())
        + ".",
        f"- From the fitted spreads, the chance that one check of identical code fails on some "
        f"gated count: {_chance(result['pr_alarm_model'])} (the product over metrics; the "
        "counts' share is nil where they never moved)" + s3_share(summary.get("s3_requests")) + ".",
    ]
    if result["check_seconds"]:
        s = result["check_seconds"]
        lines.append(
            f"- Wall time of one check with warm caches (asv continuous and the gate): median "
            f"{s['median'] / 60:.1f} min (min {s['min'] / 60:.1f}, max {s['max'] / 60:.1f}); "
            f"all {len(summary['comparisons'])} comparisons: {s['total'] / 3600:.1f} h."
        )
    cost = summary.get("instruction_seconds")
    if cost:
        lines.append(
            "- Counting instructions (valgrind) adds, per commit measured: median "
            f"{statistics.median(cost):.0f} s (min {min(cost):.0f}, max {max(cost):.0f})."
        )
    return "\n".join(lines) + "\n"


def check_lines(check: dict | None, result: dict) -> list[str]:
    """The second, disjoint A/A set: fresh counts at the release, judged at today's factors."""
    if not check:
        return []
    factors = {_count_key(m["name"]): m["factor_text"] for m in result["metrics"] if not m["wall"]}
    lines = [
        "",
        "## The factors checked on a second, disjoint set",
        "",
        f"The factors above were chosen on the A/A comparisons of the table; they are checked "
        f"here on comparisons not used to choose them: {check['runs']} fresh runs of radiobject "
        f"{check['radiobject']}'s seeded loader (profile `{check['profile']}`, each instruction "
        "count in its own valgrind process), paired into disjoint A/A comparisons.",
        "",
        "| count | A/A pairs | ratios min-max | pairs above the factor | 95% upper bound "
        "| factor |",
        "|---|---|---|---|---|---|",
    ]
    for key, found in check["values"].items():
        factor = factors.get(key)
        if factor is None:
            continue
        pairs = disjoint_pairs(found)
        above = sum(1 for r in pairs if r > float(factor))
        lines.append(
            f"| {key} | {len(pairs)} | {_ratio(min(pairs))}-{_ratio(max(pairs))} | "
            f"{above}/{len(pairs)} | {_pct(upper_bound(above, len(pairs)))} | {factor} |"
        )
    return lines


# The gated metrics (benchmark name) measured again by count_spread, by its keys.
CHECKED = {
    "counts.PerBatch.track_instructions_per_batch": "instructions per batch",
    "counts.PerBatch.track_tiles_per_batch": "tiles per batch",
    "counts.PerBatch.track_array_opens_per_batch": "array_opens per batch",
    "loaders.BytesRead.track_bytes_per_batch": "bytes per batch",
}


def _count_key(name: str) -> str | None:
    return CHECKED.get(name.split("(", 1)[0])


def smallest_lines(summary: dict, result: dict) -> list[str]:
    """The smallest regression each gated metric catches, sized by the independent timing: a
    CPU-only regression's wall time moves the instructions by the ratio cpu5 and cpu10 show."""
    sizes = summary["sizing"]["regressions"]
    lines = ["", "## The smallest regression each metric catches", ""]
    for m in result["metrics"]:
        name = f"`{_short(m['name'])}`"
        if m["wall"]:
            lines.append(
                f"- {name}: a wall time {m['factor'] - 1:.0%} longer, and only when asv's test "
                "finds it significant (reported, not gated)."
            )
        elif m["log_sd"] and sizes:
            # instructions per extra second of wall time, from the sized CPU regressions
            per_time = [
                (m["detections"][r]["ratios"][0] - 1) / size["slowdown"]
                for r, size in sizes.items()
                if m["detections"][r]["ratios"] and m["detections"][r]["ratios"][0]
            ]
            if per_time:
                smallest = (m["factor"] - 1) / min(per_time)
                verdict = "a 1% one is caught" if smallest <= 0.01 else "a 1% one is not"
                lines.append(
                    f"- {name}: a CPU-only regression of {smallest:.2%} of the wall time and "
                    f"more: {verdict} (in "
                    + ", ".join(f"`{r}`" for r in sizes)
                    + f", sized above, the instructions moved at least {min(per_time):.2f}x as "
                    f"much as the wall time; the factor is {m['factor_text']})."
                )
        else:
            lines.append(
                f"- {name}: any change of more than {m['factor'] - 1:.0%} of the count (it never "
                "moves on identical code), whatever it costs in time."
            )
    return lines


def s3_lines(s3: dict | None) -> list[str]:
    """The S3 request counts' section: measured apart from the comparisons (below)."""
    if not s3:
        return []
    factor = float(s3["factor"])
    lines = [
        "",
        "## S3 requests per batch, by kind",
        "",
        f"Measured apart (`counts.S3PerBatch` needs an S3 server and an ingest into it per commit, "
        f"which would double each comparison): {s3['runs']} runs of radiobject "
        f"{s3['radiobject']}'s seeded loader, each a fresh loader reading in-process from the "
        "local S3 server through the counting proxy; an A/A comparison is a disjoint pair of "
        "runs.",
        "",
        "| kind | per-run values | (max - min) / min | A/A pairs above the factor | factor |",
        "|---|---|---|---|---|",
    ]
    for kind, found in s3["values"].items():
        low, high = min(found), max(found)
        spread = (high - low) / low if low else (0.0 if high == low else math.inf)
        pairs = disjoint_pairs(found)
        above = sum(1 for r in pairs if r > factor)
        shown = f"all {low:g}" if low == high else f"{low:g} - {high:g}"
        lines.append(f"| {kind} | {shown} | {spread:.3%} | {above}/{len(pairs)} | {factor:.2f} |")
    return lines


def worker_path_factor(values: list[float]) -> tuple[str, list[float], list[float]]:
    """The worker path's factor, chosen (count_factor) on the disjoint pairs of the first half of
    the runs, and the pairs of each half: the second half's check it."""
    half = len(values) // 2
    chosen, checked = disjoint_pairs(values[:half]), disjoint_pairs(values[half:])
    return count_factor(chosen), chosen, checked


def _pairs(ratios: list[float]) -> str:
    return f"{len(ratios)} pair{'' if len(ratios) == 1 else 's'}"


def worker_path_lines(path: dict | None) -> list[str]:
    """The worker path's instructions (counts.WorkerPath), measured apart: each count takes
    minutes, so they are not part of the comparisons."""
    if not path:
        return []
    found = path["values"]
    factor, chosen, checked = worker_path_factor(found)
    above = sum(1 for r in checked if r > float(factor))
    gate = suite.GATES[r"counts\.WorkerPath\.track_instructions"]
    agrees = (
        "the gate's factor"
        if gate == factor
        else f"the gate judges at {gate} (`suite.WORKER_PATH_FACTOR`), not this"
    )
    low, high = min(found), max(found)
    return [
        "",
        "## The worker path",
        "",
        f"Measured apart (each count takes minutes under valgrind): `counts.WorkerPath` counts "
        f"every process of radiobject {path['radiobject']}'s training loader at its default "
        f"{path['workers']} workers, from building it through two whole epochs to its workers' "
        f"exit (profile `{path['profile']}`), {path['runs']} times, each run in fresh processes. "
        "Its factor is chosen on the disjoint pairs of the first half of the runs (the larger of "
        "their log-normal one-in-10,000 point and twice their largest move, rounded up to 0.001) "
        "and checked on the pairs of the second half.",
        "",
        "| runs | instructions min-max | (max - min) / min | chosen on | factor | checked on "
        "| pairs above it |",
        "|---|---|---|---|---|---|---|",
        f"| {len(found)} | {low:,.0f} - {high:,.0f} | {(high - low) / low:.4%} | "
        f"{_pairs(chosen)} | {factor} ({agrees}) | {_pairs(checked)} | {above}/{len(checked)} |",
        "",
        f"A factor of {factor} flags {(float(factor) - 1) * low:,.0f} more instructions: about "
        f"{(float(factor) - 1) * low / path['batch_instructions']:.1f} batches' worth at the "
        f"{path['batch_instructions']:,.0f} instructions per batch `counts.PerBatch` counts in "
        "one process.",
    ]


def s3_share(s3: dict | None) -> str:
    """What the S3 request counts, measured apart, add to the per-check estimate."""
    if not s3:
        return ""
    moved = [kind for kind, found in s3["values"].items() if min(found) != max(found)]
    if not moved:
        return "; the S3 request counts never moved, so they add nothing"
    return f"; not counted in it: the S3 request counts of {', '.join(moved)} moved (table above)"


def measure_counts(summary: dict, runs: int) -> None:
    """Add the second A/A set (count_spread: fresh counts at the installed release, instructions
    each in its own valgrind process) to the summary."""
    from importlib import metadata

    from radibench.tools import count_spread

    summary["count_check"] = {
        "runs": runs,
        "profile": summary["profile"],
        "radiobject": metadata.version("radiobject"),
        "values": count_spread.local_count_spread(summary["profile"], runs),
    }


def measure_worker_path(summary: dict, runs: int) -> None:
    """Add the worker path's instructions, counted `runs` times at the installed release, and
    one process's instructions per batch to size them, to the summary."""
    from importlib import metadata

    from radibench.tools import count_spread

    workers, values = count_spread.worker_path_spread(summary["profile"], runs)
    per_batch = count_spread.local_count_spread(summary["profile"], 1)["instructions per batch"]
    summary["worker_path"] = {
        "runs": runs,
        "profile": summary["profile"],
        "radiobject": metadata.version("radiobject"),
        "workers": workers,
        "values": values,
        "batch_instructions": per_batch[0],
    }


def measure_s3(summary: dict, runs: int) -> None:
    """Add the S3 request counts' spread (radibench.tools.count_spread) to the summary."""
    from importlib import metadata

    from radibench.tools import count_spread

    summary["s3_requests"] = {
        "runs": runs,
        "radiobject": metadata.version("radiobject"),
        "factor": suite.COUNT_FACTOR,
        "values": count_spread.s3_request_spread(summary["profile"], runs),
    }


# --- running it -----------------------------------------------------------------------------


def instruction_seconds(ws: Workspace) -> list[float]:
    """asv's recorded duration of every instruction count in the work folder's results."""
    return [
        bench.duration
        for path in ws.results.glob("*-*.json")
        for bench in asv_results.read_file(path).benchmarks.values()
        if bench.name.endswith("track_instructions_per_batch") and bench.duration
    ]


def run(args) -> dict:
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    (work / "repo").mkdir(parents=True)
    ingest_cache = work / "ingest"
    os.environ["RADIBENCH_INGEST_CACHE"] = str(ingest_cache)
    sizing = size_cpu_work(args.profile, work / "sizing")
    print(f"sizing: {json.dumps(sizing)}", flush=True)
    commits = build_history(work / "repo", sizing)
    ws = Workspace(
        work / "repo", work, None, MACHINE, profile=args.profile,
        RADIBENCH_INGEST_CACHE=str(ingest_cache),
    )  # fmt: skip
    machine = json.loads((Path(ws.env["HOME"]) / ".asv-machine.json").read_text())[MACHINE]
    summary = {
        "machine": f"{machine.get('cpu', '?')}, {machine.get('ram', '?')} RAM",
        "profile": args.profile,
        "asv_factor": suite.GATE_FACTOR,
        "sizing": sizing,
        "commits": commits,
        "comparisons": [],
    }
    with (work / "asv.log").open("w") as log:
        for i, head in enumerate(schedule(args.aa, args.tries)):
            found = compare(ws, commits["release"], commits[head], log)
            found["head"] = head
            summary["comparisons"].append(found)
            print(
                f"{i + 1}: release -> {head}: gate {'FAILED' if found['failed'] else 'passed'}, "
                f"{found['seconds']:.0f} s",
                flush=True,
            )
            summary["instruction_seconds"] = instruction_seconds(ws)
            (work / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary


def write(summary: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(summary, indent=1) + "\n")
    out.write_text(markdown(summary))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path(".radibench/precision"))
    parser.add_argument("--profile", default="default")
    parser.add_argument("--aa", type=int, default=20, help="A/A comparisons")
    parser.add_argument("--tries", type=int, default=1, help="comparisons per regression")
    parser.add_argument("--out", type=Path, help="write OUT (markdown) and OUT's .json")
    parser.add_argument("--s3-runs", type=int, default=20, help="runs of the S3 request counts")
    parser.add_argument("--render", type=Path, help="recorded .json: write its markdown only")
    parser.add_argument(
        "--add-s3", type=Path, help="recorded .json: measure the S3 request counts into it"
    )
    parser.add_argument(
        "--add-counts",
        type=Path,
        help="recorded .json: measure the second A/A set of the counts into it (--count-runs)",
    )
    parser.add_argument(
        "--count-runs", type=int, default=20, help="fresh runs of the counts' second set"
    )
    parser.add_argument(
        "--add-worker-path",
        type=Path,
        help="recorded .json: measure the worker path's instructions into it",
    )
    parser.add_argument(
        "--worker-path-runs", type=int, default=8, help="fresh counts of the worker path"
    )
    args = parser.parse_args(argv)
    if args.render:
        summary = json.loads(args.render.read_text())
        args.render.with_suffix(".md").write_text(markdown(summary))
        return 0
    if args.add_counts:
        summary = json.loads(args.add_counts.read_text())
        measure_counts(summary, args.count_runs)
        write(summary, args.add_counts.with_suffix(".md"))
        return 0
    if args.add_worker_path:
        summary = json.loads(args.add_worker_path.read_text())
        measure_worker_path(summary, args.worker_path_runs)
        write(summary, args.add_worker_path.with_suffix(".md"))
        return 0
    if args.add_s3:
        summary = json.loads(args.add_s3.read_text())
        measure_s3(summary, args.s3_runs)
        write(summary, args.add_s3.with_suffix(".md"))
        return 0
    summary = run(args)
    if args.count_runs:
        measure_counts(summary, args.count_runs)
    if args.s3_runs:
        measure_s3(summary, args.s3_runs)
    if args.out:
        write(summary, args.out)
    print(markdown(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
