"""The recipe comparison in `radibench report`: benchmarks/recipes.py's rows as report.md tables,
a ladder per framework, the headline, the regimes in sentences, and two charts.

Every number and every sentence is computed from the result rows of one results file; nothing
here knows which recipe is faster. What it knows: which recipes are the study's and which are
each framework's best (radibench.frameworks' STUDY and BEST) and that a recipe's framework (its
family) is the part of its name before "_". A value asv recorded as n/a (NaN) or failed (null)
is n/a here and never wins anything.

report.py imports this module, never the reverse (the import graph stays one way), so the
figure factory and colours come in as arguments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radibench.frameworks import BEST, STUDY

MODULE = "recipes"
RADIOBJECT = "radiobject"  # the family the headline compares with every peer
NAMES = {"radiobject": "RadiObject", "monai": "MONAI", "torchio": "TorchIO"}
MIB = 1024**2
GIB = 1024**3
WIDE = 10.0  # an axis whose values span more than this factor is drawn on a log scale
MARKERS = ["o", "s", "^", "D", "v"]  # one per worker count
LINESTYLES = ["-", "--", ":", "-."]  # one per recipe within a family
CHARTS = {
    "throughput_memory": ("recipes_throughput_memory.png", "Throughput against peak memory"),
    "cohorts": ("recipes_cohorts.png", "Cohort scaling"),
}
NA_RUN = "n/a: not run or failed"
NA_COHORT = "n/a: cache over the memory budget or not run"


@dataclass(frozen=True)
class Group:
    """One class of benchmarks/recipes.py: its parameters, and its name when they are unknown."""

    cls: str
    params: tuple[str, ...]


TRAINING = Group("Recipes", ("recipe", "workers"))
CORRECTNESS = Group("Correctness", ("recipe",))
COHORTS = Group("Cohorts", ("recipe", "subjects"))


@dataclass(frozen=True)
class Column:
    """One number of a recipe's row: which benchmark method holds it and how to show it."""

    key: str
    title: str
    method: str
    kind: str  # "rate" (samples/s), "time" (seconds), "memory" (bytes) or "count"
    reciprocal: bool = False  # samples/s = 1 / seconds per sample


SAMPLES_PER_S = Column("samples_per_s", "samples/s", "track_seconds_per_sample", "rate", True)
EPOCH_SAMPLES_PER_S = Column(
    "epoch_samples_per_s",
    "samples/s over two epochs",
    "track_epoch_seconds_per_sample",
    "rate",
    True,
)
TRAINING_COLUMNS = (
    SAMPLES_PER_S,
    EPOCH_SAMPLES_PER_S,
    Column("cold_start", "cold start", "track_cold_start", "time"),
    Column("cache_build", "cache build", "track_cache_build", "time"),
    Column("slowest_batch", "slowest batch", "track_slowest_batch", "time"),
    Column("peak_memory", "peak memory", "track_peak_memory", "memory"),
)
CORRECTNESS_COLUMNS = (
    Column(
        "distinct_patches",
        "distinct patches per subject (two epochs)",
        "track_distinct_patches",
        "count",
    ),
    Column(
        "first_batch_mismatches",
        "first-batch voxel mismatches",
        "track_first_batch_mismatches",
        "count",
    ),
)
COHORT_COLUMNS = (
    SAMPLES_PER_S,
    EPOCH_SAMPLES_PER_S,
    Column("peak_memory", "peak memory", "track_peak_memory", "memory"),
    Column("cache_build", "cache build", "track_cache_build", "time"),
)


def family(recipe: str) -> str:
    """The framework a recipe belongs to: the part of its name before "_"."""
    return recipe.split("_")[0]


def framework_name(fam: str) -> str:
    return NAMES.get(fam, fam)


def recipe_set(recipe: str) -> str:
    """Its set: "study" (RadiObject's original study), "best" (a framework's fastest) or "other"."""
    return "study" if recipe in STUDY else "best" if recipe in BEST else "other"


# --- reading the rows ---------------------------------------------------------------------------


def find(run, group: Group, method: str):
    """The benchmark recipes.<Class>.<method> with the group's parameters (by name, or by class
    when benchmarks.json did not name them)."""
    for name in sorted(run.benchmarks):
        bench = run.benchmarks[name]
        parts = name.split(".")
        if len(parts) != 3 or parts[0] != MODULE or parts[2] != method:
            continue
        names = tuple(bench.param_names)
        unnamed = names == tuple(f"p{i}" for i in range(len(group.params)))
        if names == group.params or (unnamed and parts[1] == group.cls):
            return bench
    return None


def _values(bench, column: Column) -> dict[tuple, float | None]:
    """{parameter combination: number}; seconds per sample become samples/s."""
    out = {}
    for combo, point in bench.points.items():
        value = point.value
        if column.reciprocal and value is not None:
            value = 1 / value if value > 0 else None
        out[tuple(combo)] = value
    return out


def _read(run, group: Group, columns, missing: list[str], sources: dict) -> dict:
    """{column key: {combo: number}} of one group; absent benchmarks go to `missing`."""
    found = {}
    for column in columns:
        bench = find(run, group, column.method)
        if bench is None:
            missing.append(f"{MODULE}.{group.cls}.{column.method}")
            continue
        found[column.key] = _values(bench, column)
        sources[f"{group.cls}.{column.key}"] = bench.name
    return found


def _combos(found: dict) -> list[tuple]:
    """Every combination any column has, in asv's parameter order."""
    return list(dict.fromkeys(c for values in found.values() for c in values))


def summarize(run) -> dict:
    """The recipe section of summary.json: rows, ladder, headline, regimes, cohorts, findings.
    Empty lists (and the benchmarks listed in "missing") when the results lack recipes."""
    missing: list[str] = []
    sources: dict[str, str] = {}
    training = _read(run, TRAINING, TRAINING_COLUMNS, missing, sources)
    correctness = _read(run, CORRECTNESS, CORRECTNESS_COLUMNS, missing, sources)
    cohort = _read(run, COHORTS, COHORT_COLUMNS, missing, sources)
    checks = {}
    for combo in _combos(correctness):
        checks[str(combo[0])] = {
            c.key: correctness.get(c.key, {}).get(combo) for c in CORRECTNESS_COLUMNS
        }
    rows = []
    for combo in _combos(training):
        recipe, workers = str(combo[0]), combo[1]
        row = {"recipe": recipe, "family": family(recipe), "set": recipe_set(recipe)}
        row["workers"] = workers
        row.update({c.key: training.get(c.key, {}).get(combo) for c in TRAINING_COLUMNS})
        build, cold = row["cache_build"], row["cold_start"]
        row["first_batch"] = None if build is None or cold is None else build + cold
        row.update(checks.get(recipe, dict.fromkeys(c.key for c in CORRECTNESS_COLUMNS)))
        rows.append(row)
    cohorts = []
    for combo in _combos(cohort):
        recipe = str(combo[0])
        row = {"recipe": recipe, "family": family(recipe), "subjects": combo[1]}
        row.update({c.key: cohort.get(c.key, {}).get(combo) for c in COHORT_COLUMNS})
        cohorts.append(row)
    return {
        "rows": rows,
        "checks": checks,
        "ladder": ladder(rows),
        "headline": headline(rows),
        "regimes": regimes(rows),
        "cohorts": cohorts,
        "cohort_trends": cohort_trends(cohorts),
        "findings": findings(checks),
        "sources": sources,
        "missing": missing,
    }


def workers_counts(rows: list[dict]) -> list:
    return sorted(dict.fromkeys(r["workers"] for r in rows), key=_order)


def _order(value: Any):
    return (0, value, "") if isinstance(value, int | float) else (1, 0, str(value))


def _at(rows: list[dict], workers) -> list[dict]:
    return [r for r in rows if r["workers"] == workers]


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def _best(rows: list[dict], key: str, higher: bool) -> list[dict]:
    """The row(s) with the best present value of key (ties all), [] if none has one."""
    present = [r for r in rows if r.get(key) is not None]
    if not present:
        return []
    pick = max if higher else min
    top = pick(r[key] for r in present)
    return [r for r in present if r[key] == top]


# --- what the rows say --------------------------------------------------------------------------


def ladder(rows: list[dict]) -> list[dict]:
    """Per framework and worker count: its study recipe, then each of its best recipes with the
    factor gained in samples/s over two epochs (a queue's refills included) and the factor in
    peak memory (best / study)."""
    out = []
    for fam in dict.fromkeys(r["family"] for r in rows):
        for workers in workers_counts(rows):
            here = [r for r in _at(rows, workers) if r["family"] == fam]
            for study in (r for r in here if r["set"] == "study"):
                for best in (r for r in here if r["set"] == "best"):
                    out.append(
                        {
                            "family": fam,
                            "workers": workers,
                            "study": study["recipe"],
                            "study_samples_per_s": study["epoch_samples_per_s"],
                            "study_peak_memory": study["peak_memory"],
                            "best": best["recipe"],
                            "best_samples_per_s": best["epoch_samples_per_s"],
                            "best_peak_memory": best["peak_memory"],
                            "throughput_factor": _ratio(
                                best["epoch_samples_per_s"], study["epoch_samples_per_s"]
                            ),
                            "memory_factor": _ratio(best["peak_memory"], study["peak_memory"]),
                        }
                    )
    return out


def headline(rows: list[dict]) -> list[dict]:
    """Per worker count and peer: the peer's recipe with the highest samples/s, every RadiObject
    recipe's samples/s divided by it, and the study's ratio (study recipe over study recipe)."""
    out = []
    for workers in workers_counts(rows):
        here = _at(rows, workers)
        ours = [r for r in here if r["family"] == RADIOBJECT]
        our_study = next((r for r in ours if r["set"] == "study"), None)
        for peer in dict.fromkeys(r["family"] for r in here if r["family"] != RADIOBJECT):
            theirs = [r for r in here if r["family"] == peer]
            best = _best(theirs, "epoch_samples_per_s", higher=True)
            best = best[0] if best else None
            their_study = next((r for r in theirs if r["set"] == "study"), None)
            top = best["epoch_samples_per_s"] if best else None
            out.append(
                {
                    "workers": workers,
                    "peer": peer,
                    "peer_best": best["recipe"] if best else None,
                    "peer_best_samples_per_s": top,
                    "ratios": {r["recipe"]: _ratio(r["epoch_samples_per_s"], top) for r in ours},
                    "study": our_study["recipe"] if our_study else None,
                    "peer_study": their_study["recipe"] if their_study else None,
                    "study_ratio": _ratio(
                        our_study["epoch_samples_per_s"] if our_study else None,
                        their_study["epoch_samples_per_s"] if their_study else None,
                    ),
                }
            )
    return out


REGIMES = (  # (row key, what wins, higher is better)
    ("epoch_samples_per_s", "the highest samples/s over two epochs (refills included)", True),
    ("first_batch", "the shortest time to a first batch, its cache build included", False),
    ("peak_memory", "the lowest peak memory", False),
)


def regimes(rows: list[dict]) -> list[str]:
    """One sentence per regime and worker count, naming the winner (a peer's recipe when a peer
    wins), its number, and the best of the other side."""
    sentences = []
    for workers in workers_counts(rows):
        here = _at(rows, workers)
        for key, what, higher in REGIMES:
            won = _best(here, key, higher)
            if not won:
                sentences.append(f"At {workers} workers no recipe has a number for {what}.")
                continue
            names = " and ".join(f"{r['recipe']} ({framework_name(r['family'])})" for r in won)
            text = f"At {workers} workers, {what}: {names}, {_show(key, won[0])}."
            ours = [r["family"] == RADIOBJECT for r in won]
            if all(ours):
                text += _beside(here, key, higher, peers=True)
            elif any(ours):
                text += " RadiObject ties with a peer."
            else:
                text += " A peer wins this regime."
                text += _beside(here, key, higher, peers=False)
            sentences.append(text)
    return sentences


def _beside(rows: list[dict], key: str, higher: bool, peers: bool) -> str:
    """The best recipe of the other side (the peers', or RadiObject's) and its number."""
    best = _best([r for r in rows if (r["family"] != RADIOBJECT) == peers], key, higher)
    if not best:
        return ""
    side = "The best peer recipe there" if peers else "RadiObject's best there"
    return f" {side}: {best[0]['recipe']}, {_show(key, best[0])}."


def _show(key: str, row: dict) -> str:
    """A row's number for a regime, in words, with what it is made of."""
    if key in ("samples_per_s", "epoch_samples_per_s"):
        return f"{fmt(row[key])} samples/s"
    if key == "peak_memory":
        return memory(row[key])
    return (
        f"{seconds(row[key])} (cache build {seconds(row['cache_build'])} + cold start "
        f"{seconds(row['cold_start'])})"
    )


def cohort_trends(cohorts: list[dict]) -> list[str]:
    """Per recipe: samples/s and peak memory from its smallest to its largest cohort with a
    number, and the cohorts where it is n/a."""
    sentences = []
    for recipe in dict.fromkeys(r["recipe"] for r in cohorts):
        mine = sorted(
            (r for r in cohorts if r["recipe"] == recipe), key=lambda r: _order(r["subjects"])
        )
        parts = []
        for key, what, show in (
            ("epoch_samples_per_s", "samples/s over two epochs", lambda v: fmt(v)),
            ("peak_memory", "peak memory", memory),
        ):
            present = [r for r in mine if r[key] is not None]
            if len(present) >= 2:
                a, b = present[0], present[-1]
                parts.append(
                    f"{what} {show(a[key])} at {a['subjects']} subjects -> {show(b[key])} at "
                    f"{b['subjects']} ({fmt(_ratio(b[key], a[key]))}x)"
                )
            elif present:
                parts.append(
                    f"{what} {show(present[0][key])} at {present[0]['subjects']} subjects only"
                )
        text = f"{recipe}: " + ("; ".join(parts) if parts else "no cohort has a number")
        na = [r["subjects"] for r in mine if any(r[c.key] is None for c in COHORT_COLUMNS)]
        if na:
            where = ", ".join(str(s) for s in na)
            text += f"; n/a at {where} subjects ({NA_COHORT.removeprefix('n/a: ')})"
        sentences.append(text + ".")
    return sentences


def findings(checks: dict[str, dict]) -> list[str]:
    """What the correctness counts say: a recipe that repeats one patch per subject, a recipe
    whose first batch holds other voxels than a reference read of the same box."""
    out = []
    for recipe, check in checks.items():
        if check["distinct_patches"] == 1:
            out.append(
                f"{recipe} repeats one patch per subject: 1 distinct patch position per subject "
                "over two epochs."
            )
    wrong = {r: c["first_batch_mismatches"] for r, c in checks.items()}
    for recipe, count in wrong.items():
        if count is not None and count > 0:
            out.append(
                f"{recipe} read other voxels: {fmt(count)} voxels of its first batch differ from "
                "a reference read of the same box."
            )
    measured = [r for r, c in wrong.items() if c is not None]
    if measured and all(wrong[r] == 0 for r in measured):
        out.append(
            f"The first batch of {', '.join(measured)} matches the reference read "
            "(0 voxels differ)."
        )
    return out


# --- formatting ---------------------------------------------------------------------------------


def fmt(value: float | None) -> str:
    """Four significant digits; n/a for missing values."""
    return "n/a" if value is None else f"{value:.4g}"


def seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4g} s" if value >= 1 or value == 0 else f"{value * 1000:.4g} ms"


def memory(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value / GIB:.4g} GiB" if value >= GIB else f"{value / MIB:.4g} MiB"


def scale(kind: str, values: list[float | None]) -> tuple[float, str]:
    """(divisor, unit) for one table column, chosen from its largest value."""
    top = max((abs(v) for v in values if v is not None), default=0.0)
    if kind == "time":
        return (1.0, "s") if top >= 1 else (1e-3, "ms")
    if kind == "memory":
        return (GIB, "GiB") if top >= GIB else (MIB, "MiB")
    return 1.0, ""


def _scaled(value: float | None, divisor: float) -> str:
    return fmt(None if value is None else value / divisor)


def _column_cells(rows: list[dict], column: Column) -> tuple[str, list[str]]:
    divisor, unit = scale(column.kind, [r[column.key] for r in rows])
    head = f"{column.title} ({unit})" if unit else column.title
    cells = [_scaled(r[column.key], divisor) for r in rows]
    return head, cells


def _table(rows: list[dict], lead: list[tuple[str, list[str]]], columns, na_note: str):
    """Markdown rows: the lead columns, one column per Column, and a note only on n/a rows."""
    cols = lead + [_column_cells(rows, c) for c in columns]
    notes = [na_note if any(r[c.key] is None for c in columns) else "" for r in rows]
    lines = [
        f"| {' | '.join(h for h, _ in cols)} | note |",
        "|" + "---|" * len(lead) + "---:|" * len(columns) + "---|",
    ]
    for i, note in enumerate(notes):
        lines.append(f"| {' | '.join(cells[i] for _, cells in cols)} | {note} |")
    return lines


def render(section: dict, charts: dict[str, str]) -> list[str]:
    """report.md's recipe sections; [] when the results hold no recipe rows."""
    rows, cohorts = section.get("rows", []), section.get("cohorts", [])
    if not rows and not cohorts and not section.get("checks"):
        return []
    study = [r for r in dict.fromkeys(r["recipe"] for r in rows) if recipe_set(r) == "study"]
    best = [r for r in dict.fromkeys(r["recipe"] for r in rows) if recipe_set(r) == "best"]
    lines = [
        "## Every framework's training recipes (benchmarks/recipes.py)",
        "",
        f"The study's recipes ({', '.join(study) or 'none in these results'}: RadiObject's "
        "original comparison, unchanged) beside each framework's best recipes "
        f"({', '.join(best) or 'none in these results'}), on the same cohort and thread budget. "
        "Samples/s is 1 / the benchmark's seconds per sample.",
        "",
    ]
    lines += _headline_lines(section["headline"])
    said = section["regimes"] + section["findings"]
    if said:
        lines += ["### Regimes", ""] + [f"- {s}" for s in said] + [""]
    lines += [f"![{title}]({name})" for key, (name, title) in CHARTS.items() if key in charts]
    lines += [""]
    checks = [c.key for c in CORRECTNESS_COLUMNS]
    for workers in workers_counts(rows):
        here = _at(rows, workers)
        lead = [
            ("recipe", [r["recipe"] for r in here]),
            ("set", [r["set"] for r in here]),
        ]
        lines += [f"### Every recipe, {workers} workers", ""]
        lines += _table(here, lead, TRAINING_COLUMNS + CORRECTNESS_COLUMNS, NA_RUN) + [""]
    if rows and any(r[k] is not None for r in rows for k in checks):
        lines += [
            "Distinct patches and first-batch mismatches are measured once per recipe "
            "(`recipes.Correctness`) and shown in every worker table.",
            "",
        ]
    lines += _ladder_lines(section["ladder"])
    if cohorts:
        lines += ["### Cohort scaling", ""]
        lines += [f"- {s}" for s in section["cohort_trends"]] + [""]
        lead = [
            ("recipe", [r["recipe"] for r in cohorts]),
            ("subjects", [str(r["subjects"]) for r in cohorts]),
        ]
        lines += _table(cohorts, lead, COHORT_COLUMNS, NA_COHORT) + [""]
    if section["sources"]:
        lines += [
            "Sources: " + "; ".join(f"`{n}`" for n in dict.fromkeys(section["sources"].values())),
            "",
        ]
    return lines


def _headline_lines(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    ours = list(dict.fromkeys(k for r in rows for k in r["ratios"]))
    lines = [
        "### Headline: RadiObject against each peer's best recipe",
        "",
        "Ratios of samples/s over two epochs (a queue's refills and epoch restarts included), "
        "RadiObject's recipe over the peer's (above 1: RadiObject is faster). The peer's best "
        "recipe is its recipe with the highest such samples/s at that worker count; the study's "
        "ratio compares the study's recipes.",
        "",
        "| workers | peer | peer's best recipe | its samples/s | "
        + " | ".join(f"{o} ÷ best" for o in ours)
        + " | study: recipe ÷ peer's study recipe |",
        "|---|---|---|---:|" + "---:|" * len(ours) + "---|",
    ]
    for r in rows:
        ratios = " | ".join(fmt(r["ratios"].get(o)) for o in ours)
        study = (
            f"{fmt(r['study_ratio'])} ({r['study']} ÷ {r['peer_study']})"
            if r["study"] and r["peer_study"]
            else "n/a"
        )
        lines.append(
            f"| {r['workers']} | {framework_name(r['peer'])} | {r['peer_best'] or 'n/a'} | "
            f"{fmt(r['peer_best_samples_per_s'])} | {ratios} | {study} |"
        )
    return lines + [""]


def _ladder_lines(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    lines = [
        "### From the study's recipe to the best, per framework",
        "",
        "Samples/s over two epochs (refills included). Factors are the best recipe's number over "
        "the study recipe's at the same worker count.",
        "",
    ]
    for fam in dict.fromkeys(r["family"] for r in rows):
        mine = [r for r in rows if r["family"] == fam]
        divisor, unit = scale(
            "memory", [v for r in mine for v in (r["study_peak_memory"], r["best_peak_memory"])]
        )
        lines += [
            f"**{framework_name(fam)}**",
            "",
            f"| workers | study recipe | samples/s | peak memory ({unit}) | best recipe | "
            f"samples/s | x samples/s | peak memory ({unit}) | x peak memory |",
            "|---|---|---:|---:|---|---:|---:|---:|---:|",
        ]
        for r in mine:
            lines.append(
                f"| {r['workers']} | {r['study']} | {fmt(r['study_samples_per_s'])} | "
                f"{_scaled(r['study_peak_memory'], divisor)} | {r['best']} | "
                f"{fmt(r['best_samples_per_s'])} | {fmt(r['throughput_factor'])} | "
                f"{_scaled(r['best_peak_memory'], divisor)} | "
                f"{fmt(r['memory_factor'])} |"
            )
        lines.append("")
    return lines


# --- charts -------------------------------------------------------------------------------------


def _wide(values: list[float]) -> bool:
    present = [v for v in values if v and v > 0]
    return bool(present) and max(present) / min(present) > WIDE


def _log(ax, which: str) -> None:
    """A log scale labelled in plain numbers (1, 2, 5 per decade), not powers of ten."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _colour(fam: str, colours: dict[str, str], palette: list[str]) -> str:
    families = list(dict.fromkeys([*colours, fam]))
    return colours.get(fam, palette[families.index(fam) % len(palette)])


def throughput_memory_chart(rows, path: Path, figure, colours, palette) -> Path | None:
    """samples/s against peak memory: colour per framework, marker per worker count, filled for
    a best recipe, hollow for a study recipe."""
    from matplotlib.lines import Line2D

    points = [
        r for r in rows if r["epoch_samples_per_s"] is not None and r["peak_memory"] is not None
    ]
    if not points:
        return None
    divisor, unit = scale("memory", [r["peak_memory"] for r in points])
    counts = workers_counts(points)
    fig = figure()
    ax = fig.add_subplot()
    for r in points:
        colour = _colour(r["family"], colours, palette)
        ax.scatter(
            r["peak_memory"] / divisor,
            r["epoch_samples_per_s"],
            marker=MARKERS[counts.index(r["workers"]) % len(MARKERS)],
            s=55,
            facecolors="none" if r["set"] == "study" else colour,
            edgecolors=colour,
            linewidths=1.5,
            zorder=3,
        )
    if _wide([r["peak_memory"] for r in points]):
        _log(ax, "x")
    if _wide([r["epoch_samples_per_s"] for r in points]):
        _log(ax, "y")
    handles = [
        Line2D(
            [], [], color=_colour(f, colours, palette), marker="o", ls="", label=framework_name(f)
        )
        for f in dict.fromkeys(r["family"] for r in points)
    ]
    handles += [
        Line2D(
            [], [], color="#555555", marker=MARKERS[i % len(MARKERS)], ls="", label=f"{w} workers"
        )
        for i, w in enumerate(counts)
    ]
    handles += [
        Line2D([], [], color="#555555", marker="o", ls="", label="best recipe"),
        Line2D([], [], color="#555555", marker="o", ls="", mfc="none", label="study recipe"),
    ]
    ax.legend(handles=handles, fontsize=7, loc="best")
    ax.set_title("Throughput against peak memory (up and left is better)")
    ax.set_xlabel(f"peak memory ({unit})")
    ax.set_ylabel("samples/s over two epochs")
    ax.grid(alpha=0.3, which="both")
    ax.set_axisbelow(True)
    ax.margins(x=0.15, y=0.1)
    fig.tight_layout()
    labels = [
        (r["peak_memory"] / divisor, r["epoch_samples_per_s"], f"{r['recipe']} ({r['workers']})")
        for r in points
    ]
    _label_points(fig, ax, labels)
    fig.savefig(path, metadata={"Software": None})
    return path


CROWDED = 80  # pixels: points closer than this compete for label room
LABEL_OFFSETS = [(5, 3), (5, -10), (-5, 3), (-5, -10), (5, 11), (5, -18), (-5, 11), (-5, -18)]
LABEL_OFFSETS += [(14, 22), (14, -28), (-14, 22), (-14, -28), (24, 34), (24, -40)]  # with a leader
LEADER = 12  # points: a label further than this from its point gets a line to it


def _within(inner, outer) -> bool:
    """A box (or a point as an (x, y) pair) lies inside another box (display coordinates)."""
    from matplotlib.transforms import Bbox

    inner = inner if isinstance(inner, Bbox) else Bbox([inner, inner])
    return (
        outer.x0 <= inner.x0
        and inner.x1 <= outer.x1
        and outer.y0 <= inner.y0 <= inner.y1 <= outer.y1
    )


def _label_points(fig, ax, labels) -> None:
    """Name every point, each label at the offset that collides least (other labels, other
    points, the frame's edge; the first such offset on a tie): close points stay readable."""
    from matplotlib.text import Text

    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    centres = [ax.transData.transform((x, y)) for x, y, _ in labels]
    taken = []
    crowd = [sum(math.dist(c, d) < CROWDED for d in centres) for c in centres]
    for i in sorted(range(len(labels)), key=lambda i: -crowd[i]):  # the crowded choose first
        x, y, text = labels[i]
        others = centres[:i] + centres[i + 1 :]
        tried = []
        for dx, dy in LABEL_OFFSETS:
            note = ax.annotate(
                text,
                (x, y),
                xytext=(dx, dy),
                textcoords="offset points",
                fontsize=7,
                ha="left" if dx > 0 else "right",
                arrowprops=(
                    {"arrowstyle": "-", "lw": 0.5, "color": "#777777"}
                    if math.hypot(dx, dy) > LEADER
                    else None
                ),
            )
            note.update_positions(renderer)
            box = Text.get_window_extent(note, renderer).expanded(1.02, 1.1)  # not the leader
            hits = 10 * (not _within(box, frame)) + sum(box.overlaps(t) for t in taken)
            hits += sum(_within(point, box.padded(4)) for point in others)
            tried.append((hits, len(tried), note, box))
            if not hits:
                break
        _, _, note, box = min(tried, key=lambda t: t[:2])
        for _, _, other, _ in tried:
            if other is not note:
                other.remove()
        taken.append(box)


def cohort_chart(cohorts, path: Path, figure, colours, palette) -> Path | None:
    """Two panels against subjects: samples/s and peak memory, one line per recipe; an n/a
    cohort is a gap, and the recipe's legend entry says where."""
    present = [
        r for r in cohorts if r["epoch_samples_per_s"] is not None or r["peak_memory"] is not None
    ]
    if not present:
        return None
    subjects = sorted(dict.fromkeys(r["subjects"] for r in cohorts), key=_order)
    divisor, unit = scale("memory", [r["peak_memory"] for r in cohorts])
    fig = figure()
    panels = [
        (fig.add_subplot(1, 2, 1), "epoch_samples_per_s", 1.0, "samples/s over two epochs"),
        (
            fig.add_subplot(1, 2, 2),
            "peak_memory",
            divisor,
            f"peak memory ({unit}; lower is better)",
        ),
    ]
    styles: dict[str, int] = {}
    for recipe in dict.fromkeys(r["recipe"] for r in cohorts):
        mine = {r["subjects"]: r for r in cohorts if r["recipe"] == recipe}
        fam = family(recipe)
        style = LINESTYLES[styles.setdefault(fam, 0) % len(LINESTYLES)]
        styles[fam] += 1
        na = [
            s for s in subjects if s in mine and any(mine[s][c.key] is None for c in COHORT_COLUMNS)
        ]
        label = recipe + (f" (n/a at {', '.join(map(str, na))})" if na else "")
        for ax, key, div, _ in panels:
            ys = [
                mine[s][key] / div if s in mine and mine[s][key] is not None else math.nan
                for s in subjects
            ]
            ax.plot(
                subjects,
                ys,
                ls=style,
                marker="o",
                ms=4,
                color=_colour(fam, colours, palette),
                label=label,
            )
    for ax, key, _, title in panels:
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("subjects")
        ax.set_xticks(subjects, [str(s) for s in subjects])
        if _wide([r[key] for r in cohorts if r[key] is not None]):
            _log(ax, "y")
        ax.grid(alpha=0.3, which="both")
        ax.set_axisbelow(True)
    panels[0][0].legend(fontsize=7, loc="best", handlelength=3)
    fig.suptitle("Cohort scaling (recipes.Cohorts)")
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    return path


def charts(section: dict, out: Path, figure, colours: dict[str, str], palette) -> dict[str, str]:
    """Write the recipe charts that have data; {chart key: file name}."""
    written = {}
    name = CHARTS["throughput_memory"][0]
    if throughput_memory_chart(section.get("rows", []), out / name, figure, colours, palette):
        written["throughput_memory"] = name
    name = CHARTS["cohorts"][0]
    if cohort_chart(section.get("cohorts", []), out / name, figure, colours, palette):
        written["cohorts"] = name
    return written
