"""report.md from the summary (radibench.tools.report.summary): tables and sentences whose
words follow from their rows. A winner is named only where the intervals exclude a tie; every
figure is printed by units.number, with its interval and no more digits than it supports."""

from __future__ import annotations

from radibench import frameworks
from radibench.measure.protocol import AU_TARGET
from radibench.tools.asv_results import Value
from radibench.tools.report import units
from radibench.tools.report.summary import (
    CHECK_METRICS,
    COHORT_METRICS,
    KIND,
    MEDIAN_HALF_WIDTH_99,
    RADIOBJECT,
    RECIPE_METRICS,
    in_order,
    unmeasured,
    workers_counts,
)

NA_RUN = "n/a: not run or failed"
NA_COHORT = "n/a: cache over the memory budget or not run"
COHORT_CAMPAIGN = (
    "The cohorts are a campaign of their own (recipes.Cohorts' processes, not the tables "
    "above): compare its rows with each other. A recipe's peak memory moves between campaigns "
    "by more than its interval within one, so at the same cohort it can differ from the recipe "
    "tables beyond both intervals."
)
INTERVALS = (
    "Each timing is the median over fresh processes with asv's 99% confidence interval in "
    "brackets, printed to the digits its interval supports; a figure marked "
    f"{units.ASSUMED} comes from one process, has no measured interval and is compared as if it "
    f"spread by ±{units.SPREAD:.0%} (the spread between processes for identical code on these "
    "machines). A difference inside the intervals is a tie: no measurable difference. Counts "
    "(bytes, requests, voxels, patches) are exact."
)


MEMORY = (
    "Peak memory (PSS) is the process tree's proportional set size sampled every 0.1 s: the "
    "memory the tree really uses, though a peak shorter than the interval can fall between two "
    "samples. Peak memory (marks) is the sum of every process's kernel high-water mark (VmHWM), "
    "each worker's read as it exits: no peak is too short for it, but a page shared by several "
    "processes counts in each, so it bounds the tree's peak from above."
)


def framework_name(framework: str) -> str:
    return frameworks.FRAMEWORKS.get(framework, framework)


def _who(recipe: str) -> str:
    return f"{recipe} ({frameworks.recipe(recipe).framework_label})"


def _figure(row: dict, key: str) -> str:
    """A row's number for a regime, in words, with what it is made of."""
    text = units.with_unit(row[key], KIND[key])
    if key == "first_batch":
        text += (
            f" (cache build {units.with_unit(row['cache_build'], 'time')} + cold start "
            f"{units.with_unit(row['cold_start'], 'time')})"
        )
    if key == "from_dicom":
        text += (
            f" ({'ingest' if row['framework'] == RADIOBJECT else 'conversion'} "
            f"{units.with_unit(row['preparation'], 'time')} + cache build "
            f"{units.with_unit(row['cache_build'], 'time')} + cold start "
            f"{units.with_unit(row['cold_start'], 'time')})"
        )
    return text


def regime_sentences(section: dict) -> list[str]:
    """One sentence per regime and worker count (see summary.regimes)."""
    rows = {(r["recipe"], r["workers"]): r for r in section["rows"]}
    out = []
    for regime in section["regimes"]:
        workers, key, what = regime["workers"], regime["key"], regime["what"]
        leaders = [rows[(name, workers)] for name in regime["leaders"]]
        if not leaders:
            out.append(f"At {workers} workers no recipe has a number for {what}.")
            continue
        if regime["tie"]:
            named = ", ".join(f"{_who(r['recipe'])} {_figure(r, key)}" for r in leaders)
            text = f"At {workers} workers, {what}: no measurable difference between {named}."
        else:
            text = f"At {workers} workers, {what}: {_who(leaders[0]['recipe'])}, "
            text += f"{_figure(leaders[0], key)}."
        if regime["radiobject"] == "none":
            text += " A peer wins this regime." if not regime["tie"] else " Only peers lead here."
        if regime["other_best"]:
            other = rows[(regime["other_best"], workers)]
            side = (
                "The best peer recipe there"
                if regime["radiobject"] == "all"
                else ("RadiObject's best there")
            )
            text += f" {side}: {other['recipe']}, {_figure(other, key)}."
        out.append(text)
    return out


def finding_sentences(section: dict) -> list[str]:
    out = []
    for f in section["findings"]:
        if f["finding"] == "repeats":
            out.append(
                f"{f['recipe']} repeats one patch per subject: 1 distinct patch position per "
                "subject over two epochs."
            )
        elif f["finding"] == "mismatch":
            out.append(
                f"{f['recipe']} read other voxels: {f['voxels']:.0f} voxels of its first batch "
                "differ from a reference read of the same box."
            )
        else:
            out.append(
                f"The first batch of {', '.join(f['recipes'])} matches the reference read "
                "(0 voxels differ)."
            )
    return out


def trend_sentences(section: dict) -> list[str]:
    out = []
    for trend in section["cohort_trends"]:
        parts = []
        for c in trend["changes"]:
            kind = KIND[c["key"]]
            what = "samples/s over two epochs" if kind == "rate" else "peak memory (PSS)"
            start = f"{what} {units.with_unit(c['from'], kind)} at {c['from_subjects']} subjects"
            if c["factor"].missing:
                parts.append(f"{start} only")
            else:
                parts.append(
                    f"{start} -> {units.with_unit(c['to'], kind)} at {c['to_subjects']} "
                    f"({units.with_unit(c['factor'], 'ratio')})"
                )
        text = f"{trend['recipe']}: " + ("; ".join(parts) if parts else "no cohort has a number")
        if trend["na"]:
            where = ", ".join(str(s) for s in trend["na"])
            text += f"; n/a at {where} subjects ({NA_COHORT.removeprefix('n/a: ')})"
        out.append(text + ".")
    return out


def agreement_sentences(section: dict) -> list[str]:
    out = []
    for a in section.get("agreement", []):
        if a["agree"]:
            continue
        out.append(
            f"{a['recipe']} at 0 workers: {units.with_unit(a['recipes'], 'rate')} here, "
            f"{units.with_unit(a['loaders'], 'rate')} in the study's loaders table: the two "
            "disagree beyond their intervals. They come from other processes, minutes apart, "
            "under another thread budget (the recipes hold every library to one thread, TileDB's "
            "reads included; the loaders table keeps each library's default)."
        )
    return out


def _column(rows: list[dict], key: str, title: str) -> tuple[str, list[str]]:
    kind = KIND[key]
    divisor, unit = units.scale(kind, [r[key].number for r in rows])
    unit = "" if kind in ("count", "rate") else unit
    head = f"{title} ({unit})" if unit else title
    return head, [units.number(r[key], kind, divisor) for r in rows]


def _na_note(row: dict, metrics, na_note: str) -> str:
    """The whole row's reason when nothing in it was measured; else the columns without a number
    (e.g. a metric newer than the results file), so a measured row is not called unmeasured."""
    if unmeasured(row, metrics):
        return na_note
    gaps = [m.title for m in metrics if row[m.key].missing]
    return f"n/a for {', '.join(gaps)}: {NA_RUN.removeprefix('n/a: ')}" if gaps else ""


def _table(rows: list[dict], lead: list[tuple[str, list[str]]], metrics, na_note: str):
    cols = lead + [_column(rows, m.key, m.title) for m in metrics]
    notes = [_na_note(r, metrics, na_note) for r in rows]
    lines = [
        f"| {' | '.join(h for h, _ in cols)} | note |",
        "|" + "---|" * len(lead) + "---:|" * len(metrics) + "---|",
    ]
    for i, note in enumerate(notes):
        lines.append(f"| {' | '.join(cells[i] for _, cells in cols)} | {note} |")
    return lines


def _headline(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    ours = list(dict.fromkeys(k for r in rows for k in r["ratios"]))
    lines = [
        "### Headline: RadiObject against each peer's best recipe",
        "",
        "Ratios of samples/s over two epochs (a queue's refills and epoch restarts included), "
        "RadiObject's recipe over the peer's (above 1: RadiObject is faster), with the interval "
        "the two figures' intervals allow; a ratio whose interval holds 1 is a tie. The peer's "
        "best recipe is its recipe with the highest such samples/s at that worker count.",
        "",
        "| workers | peer | peer's best recipe | its samples/s | "
        + " | ".join(f"{o} ÷ best" for o in ours)
        + " | study: recipe ÷ peer's study recipe |",
        "|---|---|---|---:|" + "---:|" * len(ours) + "---|",
    ]
    for r in rows:
        ratios = " | ".join(units.number(r["ratios"].get(o, Value(None)), "ratio") for o in ours)
        study = (
            f"{units.number(r['study_ratio'], 'ratio')} ({r['study']} ÷ {r['peer_study']})"
            if r["study"] and r["peer_study"]
            else "n/a"
        )
        lines.append(
            f"| {r['workers']} | {framework_name(r['peer'])} | {r['peer_best'] or 'n/a'} | "
            f"{units.number(r['peer_best_samples_per_s'], 'rate')} | {ratios} | {study} |"
        )
    return lines + [""]


def _ladder(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    lines = [
        "### From the study's recipe to the best, per framework",
        "",
        "Samples/s over two epochs (refills included). Factors are the best recipe's figure over "
        "the study recipe's at the same worker count, with the interval their intervals allow.",
        "",
    ]
    for fw in dict.fromkeys(r["framework"] for r in rows):
        mine = [r for r in rows if r["framework"] == fw]
        divisor, unit = units.scale(
            "memory",
            [v.number for r in mine for v in (r["study_peak_memory"], r["best_peak_memory"])],
        )
        lines += [
            f"**{framework_name(fw)}**",
            "",
            f"| workers | study recipe | samples/s | peak memory ({unit}) | best recipe | "
            f"samples/s | x samples/s | peak memory ({unit}) | x peak memory |",
            "|---|---|---:|---:|---|---:|---:|---:|---:|",
        ]
        for r in mine:
            lines.append(
                f"| {r['workers']} | {r['study']} | "
                f"{units.number(r['study_samples_per_s'], 'rate')} | "
                f"{units.number(r['study_peak_memory'], 'memory', divisor)} | {r['best']} | "
                f"{units.number(r['best_samples_per_s'], 'rate')} | "
                f"{units.number(r['throughput_factor'], 'ratio')} | "
                f"{units.number(r['best_peak_memory'], 'memory', divisor)} | "
                f"{units.number(r['memory_factor'], 'ratio')} |"
            )
        lines.append("")
    return lines


def recipes_section(section: dict, charts: dict[str, str]) -> list[str]:
    """report.md's recipe sections; [] when the results hold no recipe rows."""
    rows, cohorts = section.get("rows", []), section.get("cohorts", [])
    if not rows and not cohorts and not section.get("checks"):
        return []
    names = list(dict.fromkeys(r["recipe"] for r in rows))
    study = [n for n in names if frameworks.recipe(n).set == "study"]
    best = [n for n in names if frameworks.recipe(n).set == "best"]
    lines = [
        "## Every framework's training recipes (benchmarks/recipes.py)",
        "",
        f"The study's recipes ({', '.join(study) or 'none in these results'}: RadiObject's "
        "original comparison, unchanged) beside each framework's best recipes "
        f"({', '.join(best) or 'none in these results'}), on the same cohort and thread budget. "
        "Samples/s is 1 / the benchmark's seconds per sample.",
        "",
    ]
    lines += _headline(section["headline"])
    said = regime_sentences(section) + finding_sentences(section) + agreement_sentences(section)
    if said:
        lines += ["### Regimes", ""] + [f"- {s}" for s in said] + [""]
    lines += [f"![{title}]({name})" for title, name in charts.items()] + [""]
    for workers in workers_counts(rows):
        here = [r for r in rows if r["workers"] == workers]
        lead = [("recipe", [r["recipe"] for r in here]), ("set", [r["set"] for r in here])]
        lines += [f"### Every recipe, {workers} workers", ""]
        lines += _table(here, lead, RECIPE_METRICS + CHECK_METRICS, NA_RUN) + [""]
    lines += [MEMORY, ""]
    if any(not r[m.key].missing for r in rows for m in CHECK_METRICS):
        lines += [
            "Distinct patches and first-batch mismatches are exact counts, measured once per "
            "recipe (`recipes.Correctness`, the worst process) and shown in every worker table.",
            "",
        ]
    lines += _spread(section.get("spread"))
    lines += _ladder(section["ladder"])
    lines += _cold(section.get("cold", {"rows": []}))
    lines += _keeping_busy(section.get("utilisation", []), section.get("keeping_busy", []))
    if cohorts:
        lines += ["### Cohort scaling", ""]
        lines += [f"- {s}" for s in trend_sentences(section)] + [""]
        lead = [
            ("recipe", [r["recipe"] for r in cohorts]),
            ("subjects", [str(r["subjects"]) for r in cohorts]),
        ]
        lines += _table(cohorts, lead, COHORT_METRICS, NA_COHORT) + ["", COHORT_CAMPAIGN, ""]
    if section["sources"]:
        lines += ["Sources: " + "; ".join(f"`{n}`" for n in section["sources"]), ""]
    return lines


def spread_sentences(spread: dict | None) -> list[str]:
    """What the recorded samples say about the number of processes behind every interval."""
    if not spread:
        return []
    widest = spread["widest"]
    n, needed = spread["processes"], spread["needed"]
    enough = "enough" if needed <= n else f"{needed} processes would be needed"
    return [
        f"Between fresh processes of the same recipe and workers, seconds per sample spread by "
        f"{spread['pooled_sd']:.0%} (standard deviation on a log scale, pooled over "
        f"{spread['configurations']} configurations; the widest: {widest['recipe']} at "
        f"{widest['workers']} workers, {widest['sd']:.0%}).",
        f"With {n} processes the median's 99% interval is then about "
        f"±{spread['half_width']:.0%} (normal approximation: "
        f"{MEDIAN_HALF_WIDTH_99:.2f} standard deviations / √n); for ±{spread['target']:.0%}, "
        f"{enough}.",
    ]


def _spread(spread: dict | None) -> list[str]:
    said = spread_sentences(spread)
    if not said:
        return []
    return ["### How many processes", "", *[f"- {s}" for s in said], ""]


def _cold(cold: dict) -> list[str]:
    """The cold page cache's regimes and tables (regimes.ColdCache), beside the warm ones."""
    if not cold["rows"]:
        return []
    lines = [
        "### From a cold page cache",
        "",
        "The same runs with every file each reads (its NIfTI files, or RadiObject's arrays) "
        "evicted from the page cache before its process starts and checked gone "
        "(`regimes.ColdCache`: posix_fadvise DONTNEED, then mincore), as after a reboot or "
        "with a cohort larger than RAM.",
        "",
    ]
    lines += [f"- Cold: {s}" for s in regime_sentences(cold)] + [""]
    for workers in workers_counts(cold["rows"]):
        here = [r for r in cold["rows"] if r["workers"] == workers]
        lead = [("recipe", [r["recipe"] for r in here]), ("set", [r["set"] for r in here])]
        lines += [f"#### Cold, {workers} workers", ""]
        lines += _table(here, lead, RECIPE_METRICS, NA_RUN) + [""]
    return lines


def busy_sentences(verdicts: list[dict]) -> list[str]:
    """Per step time: which recipes keep the emulated accelerator at AU_TARGET or more (their
    AU interval at or above it), which are within their interval of it, and the memory each
    needs (summary.keeping_busy)."""

    def named(rows: list[dict]) -> str:
        return ", ".join(
            f"{_who(r['recipe'])} at {r['workers']} workers "
            f"(AU {units.number(r['utilisation'], 'ratio')}, peak memory "
            f"{units.with_unit(r['peak_memory'], 'memory')})"
            for r in rows
        )

    target = f"{AU_TARGET:.0%}"
    out = []
    for v in verdicts:
        if not v["measured"]:
            continue
        text = f"At a {v['step_ms']} ms step, "
        text += (
            f"these keep AU at {target} or more: {named(v['keep'])}"
            if v["keep"]
            else f"no recipe keeps AU at {target} or more measurably"
        )
        if v["maybe"]:
            text += f"; no measurable difference from {target}: {named(v['maybe'])}"
        out.append(text + f" ({v['measured']} measured).")
    return out


def _keeping_busy(util: list[dict], verdicts: list[dict]) -> list[str]:
    """The accelerator-utilisation section: the sentences, then AU per recipe and step time."""
    if not util:
        return []
    steps = sorted(dict.fromkeys(r["step_ms"] for r in util), key=in_order)
    lines = [
        "### Keeping an accelerator busy",
        "",
        "The training loop with the model step emulated by sleeping after each batch, as MLPerf "
        "Storage emulates its accelerators (`regimes.Utilisation`): accelerator utilisation "
        "(AU) = compute time / wall time over 10 steps, after 3 at the same step time to settle; "
        f"MLPerf Storage passes a loader at {AU_TARGET:.0%}. Peak memory is the recipe's at "
        "that worker count (above).",
        "",
    ]
    lines += [f"- {s}" for s in busy_sentences(verdicts)] + [""]
    lines += [
        "| recipe | workers | " + " | ".join(f"AU at {s} ms" for s in steps) + " |",
        "|---|---|" + "---|" * len(steps),
    ]
    for recipe, workers in dict.fromkeys((r["recipe"], r["workers"]) for r in util):
        found = {
            r["step_ms"]: r["utilisation"]
            for r in util
            if (r["recipe"], r["workers"]) == (recipe, workers)
        }
        cells = [units.number(found.get(s, Value(None)), "ratio") for s in steps]
        lines.append(f"| {recipe} | {workers} | " + " | ".join(cells) + " |")
    return lines + [""]


def _winner_text(found: dict) -> str:
    if found["winner"]:
        return "; ".join(found["winner"])
    if found["tied"]:
        return "no measurable difference: " + ", ".join(found["tied"])
    present = [v for v in found["values"].values() if not v.missing]
    return "n/a" if not present else "-"


def _labels(metrics: dict[str, dict]) -> list[str]:
    return list(dict.fromkeys(k for found in metrics.values() for k in found["values"]))


def _cells(found: dict, labels: list[str]) -> tuple[str, list[str]]:
    """(unit, figures) of one metric, the measurable winner in bold."""
    divisor, unit = units.scale(found["kind"], [v.number for v in found["values"].values()])
    cells = []
    for label in labels:
        text = units.number(found["values"].get(label, Value(None)), found["kind"], divisor)
        cells.append(f"**{text}**" if label in found["winner"] else text)
    return unit, cells


def metric_table(metrics: dict[str, dict]) -> list[str]:
    """One row per metric, one column per framework, and the winner (or the tie)."""
    if not metrics:
        return []
    labels = _labels(metrics)
    lines = [
        f"| metric | better | unit | {' | '.join(labels)} | winner |",
        "|---|---|---|" + "---:|" * len(labels) + "---|",
    ]
    for found in metrics.values():
        unit, cells = _cells(found, labels)
        better = "higher" if found["higher"] else "lower"
        lines.append(
            f"| {found['title']} | {better} | {unit} | {' | '.join(cells)} "
            f"| {_winner_text(found)} |"
        )
    return lines


def setting_table(metrics: dict[str, dict]) -> list[str]:
    """One row per setting (storage, workers), one column per metric; winners below."""
    if not metrics:
        return []
    labels = _labels(metrics)
    columns = {key: _cells(found, labels) for key, found in metrics.items()}
    heads = [
        f"{metrics[k]['title']} ({unit})" if unit else metrics[k]["title"]
        for k, (unit, _) in columns.items()
    ]
    lines = [f"| setting | {' | '.join(heads)} |", "|---|" + "---:|" * len(heads)]
    for i, label in enumerate(labels):
        lines.append(f"| {label} | {' | '.join(cells[i] for _, cells in columns.values())} |")
    lines += [""] + [
        f"- {found['title']} ({'higher' if found['higher'] else 'lower'} is better): "
        f"{_winner_text(found)}"
        for found in metrics.values()
    ]
    return lines


def _sources(metrics: dict[str, dict]) -> str:
    return "Sources: " + "; ".join(f"{f['title']}: `{f['benchmark']}`" for f in metrics.values())


def _study_section(heading: str, summary: dict, charts: dict, key: str, table) -> list[str]:
    """A heading, the section's charts, its table and where its numbers came from."""
    if not summary[key]:
        return []
    lines = [heading, ""] + [f"![{t}]({n})" for t, n in charts.get(key, {}).items()]
    return lines + [""] + table(summary[key]) + ["", _sources(summary[key]), ""]


def render(summary: dict, charts: dict[str, dict[str, str]]) -> str:
    """report.md: where the numbers come from, then charts and tables. `charts` maps a section
    ("recipes", "frameworks", "storage") to {title: file name}."""
    lines = [
        "# RadiObject versus MONAI and TorchIO",
        "",
        f"Machine `{summary['machine']}`, RadiObject commit `{summary['commit'][:8]}` "
        f"({summary['date']}), asv environment `{summary['env_name']}`; from "
        f"`{summary['results_file']}`. Generated by `radibench report`.",
        "",
        INTERVALS + " Bold marks a measurable winner of a row; n/a means skipped or failed.",
        "",
    ]
    lines += recipes_section(summary["recipes"], charts.get("recipes", {}))
    lines += _study_section(
        "## Training loaders (benchmarks/loaders.py)", summary, charts, "frameworks", metric_table
    )
    if summary["relative_cost"]:
        lines += [
            "## RadiObject's cost relative to each peer",
            "",
            "| peer | relative cost (RadiObject / peer) | speedup (peer / RadiObject) | reading |",
            "|---|---:|---:|---|",
        ]
        for peer, row in summary["relative_cost"].items():
            lines.append(
                f"| {peer} | {units.number(row['relative_cost'], 'ratio')} | "
                f"{units.number(row['speedup'], 'ratio')} | {_ratio_words(row['speedup'])} |"
            )
        lines.append("")
    lines += _study_section(
        "## S3 versus local storage (RadiObject)", summary, charts, "storage", setting_table
    )
    if summary["missing"]:
        lines += ["## Not in these results", ""]
        lines += [f"- `{name}`" for name in summary["missing"]] + [""]
    return "\n".join(lines)


NO_RECIPES = "no recipe comparison in these results (benchmarks/recipes.py not run)."


def headline_sentences(section: dict) -> list[str]:
    """Per worker count, peer and RadiObject recipe: its samples/s over the peer's best recipe's,
    with the interval, and what that interval says (see summary.headline)."""
    return [
        f"{ours} against {framework_name(r['peer'])}'s best ({r['peer_best']}) at "
        f"{r['workers']} workers: {units.with_unit(value, 'ratio')} samples/s, "
        f"{_ratio_words(value)}."
        for r in section["headline"]
        for ours, value in r["ratios"].items()
    ]


def answer(summary: dict) -> list[str]:
    """What `make bench` ends with: the headline against each peer's best recipe and the regimes
    in sentences, for the machine it measured (the dashboard's summary page shows the same)."""
    section = summary["recipes"]
    said = headline_sentences(section) + regime_sentences(section)
    lines = [f"On {summary['machine']} at RadiObject {summary['commit'][:8]}:"]
    return lines + [f"  {s}" for s in said or [NO_RECIPES]]


def _ratio_words(value: Value) -> str:
    if value.missing:
        return "not measured"
    low, high = units.interval(value, "ratio")
    if low > 1:
        return "RadiObject faster"
    if high < 1:
        return "the peer faster"
    return "no measurable difference"


__all__ = [
    "answer",
    "headline_sentences",
    "regime_sentences",
    "render",
    "RADIOBJECT",
    "COHORT_METRICS",
]
