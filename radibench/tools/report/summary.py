"""What the report says, as plain data: read from the results model, nothing formatted here.

Two parts. The study's loaders and storage (benchmarks/loaders.py, storage.py): one table per
metric and framework or storage setting. The recipe comparison (benchmarks/recipes.py): every
recipe's row, the ladder from each framework's study recipe to its best, the headline (RadiObject
against each peer's best recipe) and the regimes. Every number is a Value with its interval;
winners come from units.ranking, so a difference inside the intervals is a tie, never a win.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from typing import Any

from radibench import frameworks
from radibench.measure.protocol import AU_TARGET
from radibench.tools.asv_results import Run, Value
from radibench.tools.report import units

RADIOBJECT = frameworks.RADIOBJECT


@dataclass(frozen=True)
class Metric:
    """One number of a row: the benchmark methods that may hold it (first found wins), its kind
    (units.KINDS), which way is better, and whether to show 1/x (samples/s from s/sample)."""

    key: str
    title: str
    methods: tuple[str, ...]
    kind: str
    higher: bool = False
    reciprocal: bool = False


THROUGHPUT = Metric("throughput", "Throughput", ("track_seconds_per_sample",), "rate", True, True)
# Over fresh processes (the protocol's runs in setup_cache) first; asv's samples in one process
# where a results file has no such runs.
COLD_START = Metric(
    "cold_start", "Cold start (first batch)", ("track_cold_start", "time_first_batch"), "time"
)
WARM_BATCH = Metric("warm_batch", "Warm batch", ("track_warm_batch", "time_warm_batch"), "time")
LOADER_METRICS = (
    THROUGHPUT,
    COLD_START,
    WARM_BATCH,
    Metric("epoch", "Epoch", ("track_epoch_seconds",), "time"),
    # The protocol's high-water marks over fresh processes first; asv's peakmem_ of one process
    # (the same kernel figure, ru_maxrss) where a results file has no such runs.
    Metric(
        "peak_memory",
        "Peak memory (RSS high-water mark)",
        ("track_peak_memory_hwm", "peakmem_training"),
        "memory",
    ),
    Metric("rss_delta", "RSS added by loader", ("track_rss_delta",), "memory"),
)
STORAGE_METRICS = (
    THROUGHPUT,
    COLD_START,
    WARM_BATCH,
    Metric("requests", "Requests per batch", ("track_requests_per_batch",), "count"),
    Metric("bytes", "Bytes read per batch", ("track_bytes_per_batch",), "count"),
)
SAMPLES_PER_S = Metric(
    "samples_per_s", "samples/s", ("track_seconds_per_sample",), "rate", True, True
)
EPOCH_SAMPLES_PER_S = Metric(
    "epoch_samples_per_s",
    "samples/s over two epochs",
    ("track_epoch_seconds_per_sample",),
    "rate",
    True,
    True,
)
CACHE_BUILD = Metric("cache_build", "cache build", ("track_cache_build",), "time")
PEAK_MEMORY = Metric("peak_memory", "peak memory (PSS)", ("track_peak_memory",), "memory")
PEAK_MEMORY_HWM = Metric(
    "peak_memory_hwm", "peak memory (marks)", ("track_peak_memory_hwm",), "memory"
)
RECIPE_METRICS = (
    SAMPLES_PER_S,
    EPOCH_SAMPLES_PER_S,
    Metric("cold_start", "cold start", ("track_cold_start",), "time"),
    CACHE_BUILD,
    Metric("slowest_batch", "slowest batch", ("track_slowest_batch",), "time"),
    PEAK_MEMORY,
    PEAK_MEMORY_HWM,
)
CHECK_METRICS = (
    Metric(
        "distinct_patches",
        "distinct patches per subject (two epochs)",
        ("track_distinct_patches",),
        "count",
        True,
    ),
    Metric(
        "first_batch_mismatches",
        "first-batch voxel mismatches",
        ("track_first_batch_mismatches",),
        "count",
    ),
)
COHORT_METRICS = (
    SAMPLES_PER_S,
    EPOCH_SAMPLES_PER_S,
    PEAK_MEMORY,
    PEAK_MEMORY_HWM,
    CACHE_BUILD,
)
FIRST_BATCH = Metric("first_batch", "first batch, cache build included", (), "time")
PREPARATION = Metric(
    "preparation", "from DICOM (ingest or conversion)", ("track_preparation",), "time"
)
FROM_DICOM = Metric("from_dicom", "DICOM folder to first batch", (), "time")
KIND = {
    m.key: m.kind for m in (*RECIPE_METRICS, *CHECK_METRICS, FIRST_BATCH, PREPARATION, FROM_DICOM)
}
REGIMES = (  # (metric, what wins it)
    (EPOCH_SAMPLES_PER_S, "the highest samples/s over two epochs (refills included)"),
    (FIRST_BATCH, "the shortest time to a first batch, its cache build included"),
    (
        FROM_DICOM,
        "the shortest time from the DICOM folder to a first batch (ingest or conversion, "
        "cache build, cold start)",
    ),
    (PEAK_MEMORY, "the lowest peak memory (PSS)"),
)


# --- finding benchmarks in a run ----------------------------------------------------------------


def find(run: Run, module: str, method: str, params: tuple[str, ...], cls: str | None = None):
    """The benchmark module.<Class>.<method> whose parameter names begin with `params` (any
    names, when benchmarks.json did not give them: p0, p1, ...), of class `cls` where given,
    since classes may share a method (regimes.ColdCache is recipes.Recipes, cold). Without
    `cls`, found by method and parameters, so a method may move between classes."""
    for name in sorted(run.benchmarks):
        bench = run.benchmarks[name]
        parts = name.split(".")
        if len(parts) != 3 or parts[0] != module or parts[2] != method:
            continue
        if cls not in (None, parts[1]):
            continue
        names = tuple(bench.param_names)
        unnamed = names == tuple(f"p{i}" for i in range(len(names)))
        if names[: len(params)] == params or unnamed:
            return bench
    return None


def _shown(value: Value, metric: Metric) -> Value:
    return units.reciprocal(value) if metric.reciprocal else value


def _read(run: Run, module: str, params, metrics, missing: list, sources: dict, cls=None):
    """{metric key: {combination: Value}} of one group of benchmarks; absent ones to missing, by
    class where one is named (a class with none of them as one entry)."""
    found, absent = {}, []
    for metric in metrics:
        bench = next(
            (b for m in metric.methods if (b := find(run, module, m, params, cls)) is not None),
            None,
        )
        if bench is None:
            absent.append(" or ".join(f"{module}.{cls or '*'}.{m}" for m in metric.methods))
            continue
        found[metric.key] = {c: _shown(v, metric) for c, v in bench.values.items()}
        sources[metric.key] = bench.name
    missing += [f"{module}.{cls}.*"] if cls and absent and not found else absent
    return found


def _combos(found: dict) -> list[tuple]:
    """Every combination any metric has, in asv's parameter order."""
    return list(dict.fromkeys(c for values in found.values() for c in values))


def _na() -> Value:
    return Value(None)


# --- the study's loaders and storage ------------------------------------------------------------


def _table(found: dict, metrics, label, sources: dict) -> dict:
    """{metric key: {"title", "kind", "higher", "values": {label: Value}, "winner", "tied"}}."""
    table = {}
    for metric in metrics:
        if metric.key not in found:
            continue
        values = {label(c): v for c, v in found[metric.key].items()}
        best, tied = units.ranking(values, metric.kind, metric.higher)
        table[metric.key] = {
            "title": metric.title,
            "kind": metric.kind,
            "higher": metric.higher,
            "benchmark": sources[metric.key],
            "values": values,
            "winner": best if len(values) > 1 and not tied else [],
            "tied": best + tied if tied else [],
        }
    return table


def loaders(run: Run, missing: list) -> dict:
    """The study's loaders: RadiObject's benchmarks joined with StudyPeers' (the same method)."""
    sources: dict[str, str] = {}
    ours = _read(run, "loaders", ("framework",), LOADER_METRICS, missing, sources)
    theirs_sources: dict[str, str] = {}
    theirs = _read(run, "loaders", ("peer",), LOADER_METRICS, [], theirs_sources, "StudyPeers")
    for key, values in theirs.items():
        same_method = (
            theirs_sources[key].rsplit(".", 1)[-1] == sources.get(key, "").rsplit(".", 1)[-1]
        )
        if key in ours and theirs_sources[key].startswith("loaders.StudyPeers.") and same_method:
            ours[key] = {**ours[key], **values}
            sources[key] += " + " + theirs_sources[key]
    return _table(ours, LOADER_METRICS, lambda c: str(c[0]), sources)


def storage(run: Run, missing: list) -> dict:
    sources: dict[str, str] = {}
    found = _read(run, "storage", ("storage",), STORAGE_METRICS, missing, sources)

    def label(combo: tuple) -> str:
        return f"{combo[0]} ({combo[1]} workers)" if len(combo) > 1 else str(combo[0])

    return _table(found, STORAGE_METRICS, label, sources)


def relative_cost(run: Run, missing: list) -> dict:
    """RadiObject's seconds per sample over each peer's, one ratio per round of fresh processes
    (speedup = 1/x)."""
    bench = find(run, "loaders", "track_relative_cost", ("peer",))
    if bench is None:
        missing.append("loaders.RadiObjectVersusPeers.track_relative_cost")
        return {}
    return {
        str(c[0]): {"relative_cost": v, "speedup": units.reciprocal(v)}
        for c, v in bench.values.items()
    }


# --- the recipe comparison ----------------------------------------------------------------------


def _sum(a: Value, b: Value) -> Value:
    """a + b; the interval is the sum of the ends (where both have one)."""
    if a.missing or b.missing:
        return _na()
    if a.has_interval and b.has_interval:
        return Value(a.number + b.number, a.low + b.low, a.high + b.high)
    return Value(a.number + b.number)


def training_rows(
    run: Run, missing: list, sources: list, module: str = "recipes", cls: str = "Recipes"
) -> list[dict]:
    """One row per (recipe, workers) with every metric of <module>.<cls> (recipes.Recipes: a
    warm page cache; regimes.ColdCache: every file evicted first) and the first batch, cache
    build included."""
    found: dict[str, str] = {}
    training = _read(run, module, ("recipe", "workers"), RECIPE_METRICS, missing, found, cls)
    sources += found.values()
    rows = []
    for combo in _combos(training):
        recipe = frameworks.recipe(str(combo[0]))
        row: dict[str, Any] = {
            "recipe": recipe.name,
            "framework": recipe.framework,
            "set": recipe.set,
            "workers": combo[1],
        }
        row.update({m.key: training.get(m.key, {}).get(combo, _na()) for m in RECIPE_METRICS})
        row["first_batch"] = _sum(row["cache_build"], row["cold_start"])
        rows.append(row)
    return rows


def recipe_rows(run: Run, missing: list, sources: list) -> tuple[list[dict], dict]:
    """training_rows (warm) with each recipe's correctness counts."""
    rows = training_rows(run, missing, sources)
    found: dict[str, str] = {}
    checks_found = _read(run, "recipes", ("recipe",), CHECK_METRICS, missing, found, "Correctness")
    sources += found.values()
    checks = {
        str(c[0]): {m.key: checks_found.get(m.key, {}).get(c, _na()) for m in CHECK_METRICS}
        for c in _combos(checks_found)
    }
    found = {}
    prepared = _read(run, "regimes", ("recipe",), (PREPARATION,), missing, found, "FromDicom")
    sources += found.values()
    for row in rows:
        row.update(checks.get(row["recipe"], {m.key: _na() for m in CHECK_METRICS}))
        row["preparation"] = prepared.get(PREPARATION.key, {}).get((row["recipe"],), _na())
        row["from_dicom"] = _sum(row["preparation"], row["first_batch"])
    return rows, checks


def cohort_rows(run: Run, missing: list, sources: list) -> list[dict]:
    names: dict[str, str] = {}
    found = _read(run, "recipes", ("recipe", "subjects"), COHORT_METRICS, missing, names, "Cohorts")
    sources += names.values()
    rows = []
    for combo in _combos(found):
        recipe = frameworks.recipe(str(combo[0]))
        row = {"recipe": recipe.name, "framework": recipe.framework, "subjects": combo[1]}
        row.update({m.key: found.get(m.key, {}).get(combo, _na()) for m in COHORT_METRICS})
        rows.append(row)
    return rows


def accelerator_utilisation(wait: Value) -> Value:
    """AU from the tracked wait (1 - AU): the interval's ends swapped, kept within 0..1."""
    if wait.missing or not wait.has_interval:
        return wait if wait.missing else Value(1 - wait.number, samples=wait.samples)
    low, high = max(0.0, 1 - wait.high), min(1.0, 1 - wait.low)
    return Value(1 - wait.number, low, high, wait.samples)


def utilisation_rows(run: Run, missing: list, sources: list, rows: list[dict]) -> list[dict]:
    """One row per (recipe, workers, step time): its accelerator utilisation and the recipe's
    peak memory at that worker count (from its recipe row)."""
    bench = find(run, "regimes", "track_accelerator_wait", ("recipe", "workers", "step_ms"))
    if bench is None:
        missing.append("regimes.Utilisation.track_accelerator_wait")
        return []
    sources.append(bench.name)
    memory = {(r["recipe"], r["workers"]): r["peak_memory"] for r in rows}
    return [
        {
            "recipe": str(c[0]),
            "framework": frameworks.recipe(str(c[0])).framework,
            "workers": c[1],
            "step_ms": c[2],
            "utilisation": accelerator_utilisation(v),
            "peak_memory": memory.get((str(c[0]), c[1]), _na()),
        }
        for c, v in bench.values.items()
    ]


def keeping_busy(util: list[dict]) -> list[dict]:
    """Per step time: the recipes whose AU interval lies at or above AU_TARGET (they keep the
    accelerator busy), those whose interval holds it (no measurable difference from the
    target), and how many were measured."""
    out = []
    for step in sorted(dict.fromkeys(r["step_ms"] for r in util), key=in_order):
        here = [r for r in util if r["step_ms"] == step and not r["utilisation"].missing]
        keep, maybe = [], []
        for r in here:
            low, high = units.interval(r["utilisation"], "ratio")
            if low >= AU_TARGET:
                keep.append(r)
            elif high >= AU_TARGET:
                maybe.append(r)
        out.append({"step_ms": step, "keep": keep, "maybe": maybe, "measured": len(here)})
    return out


def workers_counts(rows: list[dict]) -> list:
    return sorted(dict.fromkeys(r["workers"] for r in rows), key=in_order)


def in_order(value: Any):
    return (0, value, "") if isinstance(value, int | float) else (1, 0, str(value))


def _at(rows: list[dict], workers) -> list[dict]:
    return [r for r in rows if r["workers"] == workers]


def _ranked(rows: list[dict], metric: Metric) -> tuple[list[dict], list[dict]]:
    """(best rows, rows tied with them) by units.ranking on one metric."""
    by_label = {f"{r['recipe']}@{r['workers']}": r for r in rows}
    best, tied = units.ranking(
        {k: r[metric.key] for k, r in by_label.items()}, metric.kind, metric.higher
    )
    return [by_label[k] for k in best], [by_label[k] for k in tied]


def ladder(rows: list[dict]) -> list[dict]:
    """Per framework and worker count: its study recipe against each of its best recipes, as
    factors (best / study) of samples/s over two epochs and of peak memory, with intervals."""
    out = []
    for fw in dict.fromkeys(r["framework"] for r in rows):
        for workers in workers_counts(rows):
            here = [r for r in _at(rows, workers) if r["framework"] == fw]
            for study in (r for r in here if r["set"] == "study"):
                for best in (r for r in here if r["set"] == "best"):
                    out.append(
                        {
                            "framework": fw,
                            "workers": workers,
                            "study": study["recipe"],
                            "study_samples_per_s": study["epoch_samples_per_s"],
                            "study_peak_memory": study["peak_memory"],
                            "best": best["recipe"],
                            "best_samples_per_s": best["epoch_samples_per_s"],
                            "best_peak_memory": best["peak_memory"],
                            "throughput_factor": units.ratio(
                                best["epoch_samples_per_s"], study["epoch_samples_per_s"]
                            ),
                            "memory_factor": units.ratio(
                                best["peak_memory"], study["peak_memory"], "memory"
                            ),
                        }
                    )
    return out


def headline(rows: list[dict]) -> list[dict]:
    """Per worker count and peer: the peer's recipe with the highest samples/s over two epochs,
    each RadiObject recipe's samples/s over it (with its interval), and the study's ratio."""
    out = []
    for workers in workers_counts(rows):
        here = _at(rows, workers)
        ours = [r for r in here if r["framework"] == RADIOBJECT]
        our_study = next((r for r in ours if r["set"] == "study"), None)
        for peer in dict.fromkeys(r["framework"] for r in here if r["framework"] != RADIOBJECT):
            theirs = [r for r in here if r["framework"] == peer]
            best, _ = _ranked(theirs, EPOCH_SAMPLES_PER_S)
            best = best[0] if best else None
            their_study = next((r for r in theirs if r["set"] == "study"), None)
            top = best["epoch_samples_per_s"] if best else _na()
            out.append(
                {
                    "workers": workers,
                    "peer": peer,
                    "peer_best": best["recipe"] if best else None,
                    "peer_best_samples_per_s": top,
                    "ratios": {
                        r["recipe"]: units.ratio(r["epoch_samples_per_s"], top) for r in ours
                    },
                    "study": our_study["recipe"] if our_study else None,
                    "peer_study": their_study["recipe"] if their_study else None,
                    "study_ratio": units.ratio(
                        our_study["epoch_samples_per_s"] if our_study else _na(),
                        their_study["epoch_samples_per_s"] if their_study else _na(),
                    ),
                }
            )
    return out


def regimes(rows: list[dict]) -> list[dict]:
    """Per worker count and regime: the winner, or the recipes with no measurable difference
    between them; and the best of the other side (a peer's if RadiObject wins, and back)."""
    out = []
    for workers in workers_counts(rows):
        here = _at(rows, workers)
        for metric, what in REGIMES:
            if metric is FROM_DICOM and all(r.get(metric.key, _na()).missing for r in here):
                continue  # results without recipes.FromDicom: no such regime to speak of
            best, tied = _ranked(here, metric)
            leaders = best + tied
            ours = {r["framework"] == RADIOBJECT for r in leaders}
            side = "all" if ours == {True} else "none" if ours == {False} else "some"
            if not leaders:
                side = "none"
            other_rows = {
                "all": [r for r in here if r["framework"] != RADIOBJECT],
                "none": [r for r in here if r["framework"] == RADIOBJECT],
                "some": [],
            }[side]
            other, _ = _ranked(other_rows, metric)
            out.append(
                {
                    "workers": workers,
                    "key": metric.key,
                    "what": what,
                    "leaders": [r["recipe"] for r in leaders],
                    "tie": bool(tied),
                    "radiobject": side if leaders else None,
                    "other_best": other[0]["recipe"] if other else None,
                }
            )
    return out


def unmeasured(row: dict, metrics) -> bool:
    """A row none of whose metrics has a number: not run, failed or (a cohort) over the memory
    budget. A row missing only some (a metric newer than its results file) is still measured."""
    return all(row[m.key].missing for m in metrics)


def cohort_trends(cohorts: list[dict]) -> list[dict]:
    """Per recipe: samples/s and peak memory at its smallest and largest cohort with a number,
    their ratio (with its interval), and the cohorts where it is n/a."""
    out = []
    for recipe in dict.fromkeys(r["recipe"] for r in cohorts):
        mine = sorted(
            (r for r in cohorts if r["recipe"] == recipe), key=lambda r: in_order(r["subjects"])
        )
        trend = {"recipe": recipe, "changes": []}
        for metric in (EPOCH_SAMPLES_PER_S, PEAK_MEMORY):
            present = [r for r in mine if not r[metric.key].missing]
            if present:
                a, b = present[0], present[-1]
                trend["changes"].append(
                    {
                        "key": metric.key,
                        "from_subjects": a["subjects"],
                        "from": a[metric.key],
                        "to_subjects": b["subjects"],
                        "to": b[metric.key],
                        "factor": units.ratio(b[metric.key], a[metric.key], metric.kind)
                        if len(present) > 1
                        else _na(),
                    }
                )
        trend["na"] = [r["subjects"] for r in mine if unmeasured(r, COHORT_METRICS)]
        out.append(trend)
    return out


def findings(checks: dict[str, dict]) -> list[dict]:
    """What the exact correctness counts say: a recipe that repeats one patch per subject, a
    recipe whose first batch differs from a reference read, or that every first batch matches."""
    out = []
    for recipe, check in checks.items():
        if check["distinct_patches"].number == 1:
            out.append({"recipe": recipe, "finding": "repeats"})
    measured = {r: c["first_batch_mismatches"] for r, c in checks.items()}
    measured = {r: v.number for r, v in measured.items() if not v.missing}
    out += [{"recipe": r, "finding": "mismatch", "voxels": n} for r, n in measured.items() if n > 0]
    if measured and all(n == 0 for n in measured.values()):
        out.append({"recipes": list(measured), "finding": "all match"})
    return out


def agreement(loader_table: dict, rows: list[dict]) -> list[dict]:
    """The study's recipes at 0 workers appear twice, in the loaders' throughput and in the
    recipe rows (other processes, minutes apart): where their intervals do not overlap, say so."""
    throughput = loader_table.get("throughput", {}).get("values", {})
    out = []
    for row in _at(rows, 0):
        if row["set"] != "study" or row["recipe"] not in throughput:
            continue
        a, b = throughput[row["recipe"]], row["samples_per_s"]
        if not a.missing and not b.missing:
            out.append(
                {
                    "recipe": row["recipe"],
                    "loaders": a,
                    "recipes": b,
                    "agree": not units.differs(a, b, "rate"),
                }
            )
    return out


# The 99% half-width of a median of n normal samples, in standard deviations times sqrt(n):
# 2.576 (99% two-sided) x 1.2533 (the median's standard error over the mean's).
MEDIAN_HALF_WIDTH_99 = 2.576 * 1.2533
SPREAD_TARGET = 0.10  # the half-width, relative, that the process count is judged against


def process_spread(run: Run) -> dict | None:
    """How much one fresh process's seconds per sample differs from the next's for the same
    recipe and workers (recipes.Recipes), from the samples asv recorded: the log-scale standard
    deviation (relative) pooled over the configurations, the widest one's, the median's 99%
    half-width at the processes used, and the processes a SPREAD_TARGET half-width needs. None
    without recorded samples (`asv run --record-samples`)."""
    bench = find(run, "recipes", "track_seconds_per_sample", ("recipe", "workers"), "Recipes")
    groups = {
        combo: [math.log(x) for x in value.sample_values]
        for combo, value in (bench.values.items() if bench else ())
        if len(value.sample_values) >= 2 and min(value.sample_values) > 0
    }
    if not groups:
        return None

    def squares(logs: list[float]) -> float:
        mean = sum(logs) / len(logs)
        return sum((x - mean) ** 2 for x in logs)

    variance = {combo: squares(g) / (len(g) - 1) for combo, g in groups.items()}
    dof = {combo: len(g) - 1 for combo, g in groups.items()}
    pooled = math.sqrt(sum(variance[c] * dof[c] for c in groups) / sum(dof.values()))
    widest = max(variance, key=variance.get)
    processes = sorted(len(g) for g in groups.values())[len(groups) // 2]
    return {
        "benchmark": bench.name,
        "configurations": len(groups),
        "processes": processes,
        "pooled_sd": pooled,
        "widest": {
            "recipe": str(widest[0]),
            "workers": widest[1],
            "sd": math.sqrt(variance[widest]),
        },
        "half_width": MEDIAN_HALF_WIDTH_99 * pooled / math.sqrt(processes),
        "target": SPREAD_TARGET,
        "needed": math.ceil((MEDIAN_HALF_WIDTH_99 * pooled / SPREAD_TARGET) ** 2),
    }


def summarize(run: Run) -> dict:
    """Everything report.md and the charts show, as plain data (also written as summary.json)."""
    missing: list[str] = []
    sources: list[str] = []
    loader_table = loaders(run, missing)
    rows, checks = recipe_rows(run, missing, sources)
    cohorts = cohort_rows(run, missing, sources)
    util = utilisation_rows(run, missing, sources, rows)
    cold = training_rows(run, missing, sources, "regimes", "ColdCache")
    return {
        "machine": run.machine,
        "commit": run.commit,
        "date": _iso(run.date),
        "env_name": run.env_name,
        "results_file": f"{run.machine}/{run.path.name}",
        "frameworks": loader_table,
        "relative_cost": relative_cost(run, missing),
        "storage": storage(run, missing),
        "recipes": {
            "rows": rows,
            "checks": checks,
            "ladder": ladder(rows),
            "headline": headline(rows),
            "regimes": regimes(rows),
            "cohorts": cohorts,
            "cohort_trends": cohort_trends(cohorts),
            "findings": findings(checks),
            "agreement": agreement(loader_table, rows),
            "cold": {"rows": cold, "regimes": regimes(cold)},
            "utilisation": util,
            "keeping_busy": keeping_busy(util),
            "spread": process_spread(run),
            "sources": list(dict.fromkeys(sources)),
        },
        "missing": missing,
    }


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).isoformat()
