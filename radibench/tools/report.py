"""`radibench report`: the study's charts, tables and JSON summary from asv's stored results.

Why not the asv dashboard: it shows history per benchmark, while the study's question is "at this
commit, on this machine, which loader wins and by how much". This reads one results file (one
machine, one commit; the newest by default) and writes docs/report/ for the README: PNG charts
(matplotlib, Agg, Okabe-Ito colours), report.md with the winner per metric, and summary.json.
The recipe comparison (benchmarks/recipes.py: every recipe's table, the ladder per framework, the
headline and the regimes) is report_recipes.py's; older results without it still report.

asv treats every benchmark as lower-is-better; throughput is derived here as 1 / seconds per sample
so that the chart reads the natural way round. Missing benchmarks and n/a values (asv writes NaN
for skipped and null for failed) are reported, never fatal.

Call ``main(argv)`` (the CLI) or ``build_report(...)``; the helpers are pure for the tests.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from radibench.tools import asv_results, report_recipes

# Benchmarks are found by module, method and first parameter name, not by class: the suite may
# move a method to another class (e.g. loaders.ColdStart.time_first_batch) without breaking this.
LOADERS = ("loaders", "framework")
STORAGE = ("storage", "storage")
PEERS = ("loaders", "peer", "track_relative_cost")
# The study's peers, in graphs of their own (loaders.StudyPeers), joined to the loaders tables.
STUDY_PEERS = ("loaders", "peer")

# Okabe & Ito's colour-blind-safe palette; each framework keeps its colour across charts.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
FRAMEWORK_COLOURS = {
    "radiobject": "#0072B2",
    "monai": "#E69F00",
    "torchio": "#009E73",
    "torchio_queue": "#CC79A7",
}
FIGSIZE = (8.0, 4.5)  # inches; at DPI this makes every chart 800 x 450 pixels
DPI = 100
MIB = 1024**2


@dataclass(frozen=True)
class Point:
    """One measured value with its error interval (asv's 99% CI, else quartiles), if recorded."""

    value: float | None
    low: float | None = None
    high: float | None = None

    @property
    def missing(self) -> bool:
        return self.value is None


@dataclass
class Benchmark:
    """One benchmark's results in one results file, keyed by its parameter combination."""

    name: str
    param_names: list[str]
    unit: str
    points: dict[tuple[Any, ...], Point]


@dataclass
class Run:
    """The results of one machine at one commit (one asv results file)."""

    machine: str
    commit: str
    date: int | None  # commit date, ms since the epoch (asv's "date")
    env_name: str
    path: Path
    benchmarks: dict[str, Benchmark] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricSpec:
    """One metric: which benchmark methods may hold it (first found wins) and how to read it."""

    key: str
    title: str
    methods: tuple[str, ...]
    kind: str  # "time", "memory", "rate" or "count"
    better: str  # "lower" or "higher"
    reciprocal: bool = False  # throughput = 1 / seconds per sample


# asv-timed methods come before the single-run track_ twins: they carry confidence intervals.
FRAMEWORK_METRICS = (
    MetricSpec("throughput", "Throughput", ("track_seconds_per_sample",), "rate", "higher", True),
    MetricSpec(
        "cold_start",
        "Cold start (first batch)",
        ("time_first_batch", "track_cold_start"),
        "time",
        "lower",
    ),
    MetricSpec(
        "warm_batch", "Warm batch", ("time_warm_batch", "track_warm_batch"), "time", "lower"
    ),
    MetricSpec("epoch", "Epoch", ("track_epoch_seconds",), "time", "lower"),
    MetricSpec("peak_memory", "Peak memory (RSS)", ("peakmem_training",), "memory", "lower"),
    MetricSpec(
        "rss_delta",
        "RSS added by loader (one sample after the batches)",
        ("track_rss_delta",),
        "memory",
        "lower",
    ),
)
STORAGE_METRICS = (
    MetricSpec("throughput", "Throughput", ("track_seconds_per_sample",), "rate", "higher", True),
    MetricSpec("cold_start", "Cold start (first batch)", ("time_first_batch",), "time", "lower"),
    MetricSpec("warm_batch", "Warm batch", ("time_warm_batch",), "time", "lower"),
    MetricSpec("requests", "Requests per batch", ("track_requests_per_batch",), "count", "lower"),
    MetricSpec("bytes", "Bytes read per batch", ("track_bytes_per_batch",), "memory", "lower"),
)


def find_benchmark(run: Run, module: str, param: str, methods: tuple[str, ...]):
    """The first benchmark named module.<Class>.<method> whose first parameter is param."""
    for method in methods:
        for name in sorted(run.benchmarks):
            bench = run.benchmarks[name]
            parts = name.split(".")
            if (
                len(parts) == 3
                and parts[0] == module
                and parts[2] == method
                and bench.param_names[:1] in ([param], ["p0"])  # p0: not in benchmarks.json
            ):
                return bench
    return None


def wanted(module: str, methods: tuple[str, ...]) -> str:
    return " or ".join(f"{module}.*.{m}" for m in methods)


# --- reading asv's results --------------------------------------------------------------------


def _number(value: Any) -> float | None:
    """asv writes NaN for skipped and null for failed benchmarks: both are n/a here."""
    if value is None or isinstance(value, bool):
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def _param(text: str) -> Any:
    """asv stores parameter values as their repr ("'monai'", "2"); turn them back into values."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_result_file(data: dict, benchmarks_json: dict, path: Path, machine: str) -> Run:
    """Turn one asv (results format version 2) file into a Run.

    Stricter than asv_results.results: a parametrized benchmark whose values are not one per
    combination (asv's lone null for "all failed" included) is left out, so it is listed as not
    in these results and the next method of its metric, if any, is used instead.
    """
    run = Run(
        machine=machine,
        commit=data["commit_hash"],
        date=data.get("date"),
        env_name=data.get("env_name", ""),
        path=path,
    )
    for row in asv_results.rows(data):
        values = row.column("result")
        params = row.params
        info = benchmarks_json.get(row.name, {})
        if not params:  # an unparametrized benchmark stores one value, not a list
            values = [values]
        combos = [tuple(_param(v) for v in combo) for combo in row.combinations()]
        if not isinstance(values, list) or len(values) != len(combos):
            continue  # malformed or from another asv: skip rather than mislabel numbers
        stats = {
            key: row.column(key) or [None] * len(combos)
            for key in ("stats_ci_99_a", "stats_ci_99_b", "stats_q_25", "stats_q_75")
        }
        points = {}
        for i, combo in enumerate(combos):
            low, high = _pick(stats, "stats_ci_99_a", "stats_ci_99_b", i)
            if low is None:
                low, high = _pick(stats, "stats_q_25", "stats_q_75", i)
            value = _number(values[i])
            points[combo] = Point(value, low, high) if value is not None else Point(None)
        run.benchmarks[row.name] = Benchmark(
            name=row.name,
            param_names=list(info.get("param_names") or [f"p{i}" for i in range(len(params))]),
            unit=info.get("unit", ""),
            points=points,
        )
    return run


def _pick(stats: dict, a: str, b: str, i: int) -> tuple[float | None, float | None]:
    lows, highs = stats[a], stats[b]
    if not isinstance(lows, list) or not isinstance(highs, list) or i >= min(len(lows), len(highs)):
        return None, None
    low, high = _number(lows[i]), _number(highs[i])
    return (low, high) if low is not None and high is not None else (None, None)


def machines(results_dir: Path) -> list[str]:
    return sorted(p.parent.name for p in Path(results_dir).glob("*/machine.json"))


def load_run(results_dir: Path, machine: str | None = None, commit: str | None = None) -> Run:
    """The results file to report on: the given (or first) machine, the given (or newest) commit.

    With several files for one commit (several environments), the one with most results wins.
    """
    results_dir = Path(results_dir)
    known = machines(results_dir)
    if not known:
        raise SystemExit(f"no asv results (no */machine.json) under {results_dir}")
    machine = machine or known[0]
    if machine not in known:
        raise SystemExit(f"no results for machine {machine!r}; present: {', '.join(known)}")
    bench_path = results_dir / "benchmarks.json"
    benchmarks_json = json.loads(bench_path.read_text()) if bench_path.is_file() else {}
    runs = []
    for path in sorted((results_dir / machine).glob("*.json")):
        if path.name == "machine.json":
            continue
        data = json.loads(path.read_text())
        if commit and not data.get("commit_hash", "").startswith(commit):
            continue
        runs.append(parse_result_file(data, benchmarks_json, path, machine))
    if not runs:
        raise SystemExit(f"no results for commit {commit!r} on machine {machine!r}")
    newest = max(r.date or 0 for r in runs)
    candidates = [r for r in runs if (r.date or 0) == newest]
    if len({r.commit for r in candidates}) > 1 and not commit:
        candidates.sort(key=lambda r: r.commit)  # same date: be deterministic
        candidates = [r for r in candidates if r.commit == candidates[0].commit]
    return max(candidates, key=lambda r: len(r.benchmarks))


# --- metrics ------------------------------------------------------------------------------------


def transformed(point: Point, reciprocal: bool) -> Point:
    """Throughput from seconds per sample: 1/x, with the interval's ends swapped."""
    if not reciprocal or point.value is None:
        return point
    if point.value <= 0:
        return Point(None)
    low = 1 / point.high if point.high else None
    high = 1 / point.low if point.low else None
    return Point(1 / point.value, low, high)


def winners(values: dict[str, Point], better: str) -> list[str]:
    """The label(s) with the best value: ties all win, n/a never does, all-equal is no win."""
    present = {k: p.value for k, p in values.items() if p.value is not None}
    best = max(present.values(), default=None) if better == "higher" else None
    best = min(present.values(), default=None) if better == "lower" else best
    won = [k for k, v in present.items() if v == best]
    return [] if len(present) > 1 and len(won) == len(present) else won


def metric(
    run: Run, spec: MetricSpec, where=LOADERS, label=lambda combo: str(combo[0])
) -> dict | None:
    """One metric of one run: {label: Point}, the winner, and where it came from; None if absent.
    The loaders' RadiObject benchmark is joined with the study's peers (StudyPeers) measured by
    the same method, so every framework in one table comes from one way of measuring."""
    benches = _loaders_and_peers(run, spec) if where == LOADERS else []
    if not benches:
        bench = find_benchmark(run, *where, spec.methods)
        benches = [bench] if bench is not None else []
    if not benches:
        return None
    points = {label(c): (b, c, p) for b in benches for c, p in b.points.items()}
    values = {k: transformed(p, spec.reciprocal) for k, (_, _, p) in points.items()}
    return {
        "params": {k: dict(zip(b.param_names, c, strict=False)) for k, (b, c, _) in points.items()},
        "key": spec.key,
        "title": spec.title,
        "benchmark": " + ".join(b.name for b in benches),
        "kind": spec.kind,
        "better": spec.better,
        "unit": base_unit(spec.kind),
        "values": values,
        "winner": winners(values, spec.better),
    }


def _loaders_and_peers(run: Run, spec: MetricSpec) -> list[Benchmark]:
    """[the loaders benchmark, StudyPeers'] for the first method both have; [] when the results
    hold no StudyPeers (older results kept the peers under the loaders' own parameter)."""
    if not any(name.startswith("loaders.StudyPeers.") for name in run.benchmarks):
        return []
    for method in spec.methods:
        ours = find_benchmark(run, *LOADERS, (method,))
        theirs = find_benchmark(run, *STUDY_PEERS, (method,))
        if ours is not None and theirs is not None:
            return [ours, theirs]
    return []


def base_unit(kind: str) -> str:
    return {"time": "s", "memory": "bytes", "rate": "samples/s", "count": "requests"}[kind]


def display_scale(kind: str, values: list[float]) -> tuple[float, str]:
    """(divisor, unit) that keeps a row's numbers readable, e.g. 0.012 s -> 12 ms."""
    top = max((abs(v) for v in values), default=0.0)
    if kind == "time":
        for divisor, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
            if top >= divisor or divisor == 1e-6:
                return divisor, unit
    if kind == "memory":
        for divisor, unit in ((1024**3, "GiB"), (MIB, "MiB"), (1024, "KiB"), (1, "bytes")):
            if top >= divisor or divisor == 1:
                return divisor, unit
    return 1.0, base_unit(kind)


def fmt(value: float | None, divisor: float = 1.0) -> str:
    """Four significant digits; n/a for missing values."""
    if value is None:
        return "n/a"
    return f"{value / divisor:.4g}"


def storage_label(combo: tuple[Any, ...]) -> str:
    storage, workers = (combo + (None,))[:2]
    return f"{storage} ({workers} workers)" if workers is not None else str(storage)


def summarize(run: Run) -> dict:
    """Everything report.md and the charts show, as plain data (also written as summary.json)."""
    missing = []
    frameworks = {}
    for spec in FRAMEWORK_METRICS:
        found = metric(run, spec)
        if found is None:
            missing.append(wanted(LOADERS[0], spec.methods))
        else:
            frameworks[spec.key] = found
    storage = {}
    for spec in STORAGE_METRICS:
        found = metric(run, spec, STORAGE, storage_label)
        if found is None:
            missing.append(wanted(STORAGE[0], spec.methods))
        else:
            storage[spec.key] = found
    recipes = report_recipes.summarize(run)
    missing += recipes.pop("missing")
    peers = {}
    bench = find_benchmark(run, PEERS[0], PEERS[1], PEERS[2:])
    if bench is None:
        missing.append(wanted(PEERS[0], PEERS[2:]))
    else:
        for combo, point in bench.points.items():
            speedup = transformed(point, True)
            peers[str(combo[0])] = {"relative_cost": point, "speedup": speedup}
    return {
        "machine": run.machine,
        "commit": run.commit,
        "date": _iso(run.date),
        "env_name": run.env_name,
        "results_file": f"{run.machine}/{run.path.name}",
        "frameworks": frameworks,
        "relative_cost": peers,
        "storage": storage,
        "recipes": recipes,
        "missing": missing,
    }


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).isoformat()


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Point):
        return {"value": obj.value, "low": obj.low, "high": obj.high}
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    return obj


# --- markdown -----------------------------------------------------------------------------------


def _winner_text(found: dict) -> str:
    if found["winner"]:
        return "; ".join(found["winner"])
    present = [p for p in found["values"].values() if p.value is not None]
    return "all equal" if present else "n/a"


def _cells(found: dict, labels: list[str]) -> tuple[str, list[str]]:
    """(unit, formatted values) of one metric, the best value in bold."""
    present = [p.value for p in found["values"].values() if p.value is not None]
    divisor, unit = display_scale(found["kind"], present)
    cells = []
    for label in labels:
        text = fmt(found["values"].get(label, Point(None)).value, divisor)
        cells.append(f"**{text}**" if label in found["winner"] else text)
    return unit, cells


def _labels(metrics: dict[str, dict]) -> list[str]:
    labels: list[str] = []
    for found in metrics.values():
        labels += [k for k in found["values"] if k not in labels]
    return labels


def metric_table(metrics: dict[str, dict]) -> list[str]:
    """Markdown: one row per metric, one column per framework, and the winner."""
    if not metrics:
        return []
    labels = _labels(metrics)
    lines = [
        f"| metric | better | unit | {' | '.join(labels)} | winner |",
        "|---|---|---|" + "---:|" * len(labels) + "---|",
    ]
    for found in metrics.values():
        unit, cells = _cells(found, labels)
        lines.append(
            f"| {found['title']} | {found['better']} | {unit} | {' | '.join(cells)} "
            f"| {_winner_text(found)} |"
        )
    return lines


def setting_table(metrics: dict[str, dict]) -> list[str]:
    """Markdown: one row per setting (storage, workers), one column per metric; winners below."""
    if not metrics:
        return []
    labels = _labels(metrics)
    columns = {key: _cells(found, labels) for key, found in metrics.items()}
    heads = [f"{metrics[k]['title']} ({unit})" for k, (unit, _) in columns.items()]
    lines = [f"| setting | {' | '.join(heads)} |", "|---|" + "---:|" * len(heads)]
    for i, label in enumerate(labels):
        lines.append(f"| {label} | {' | '.join(cells[i] for _, cells in columns.values())} |")
    lines += [""] + [
        f"- {found['title']} ({found['better']} is better): {_winner_text(found)}"
        for found in metrics.values()
    ]
    return lines


def render_markdown(summary: dict, charts: dict[str, str]) -> str:
    """report.md: where the numbers come from, then charts and tables."""
    short = summary["commit"][:8]
    lines = [
        "# RadiObject versus MONAI and TorchIO",
        "",
        f"Machine `{summary['machine']}`, RadiObject commit `{short}` ({summary['date']}), "
        f"asv environment `{summary['env_name']}`; from `{summary['results_file']}`. "
        "Generated by `radibench report`.",
        "",
        "In the loader and storage tables bold marks the best value of each row. Throughput is "
        "1 / the benchmark's seconds per sample. Error bars are asv's 99% confidence interval of "
        "the median where recorded, else its interquartile range; n/a means skipped or failed.",
        "",
    ]
    written = {k: n for k, (n, _) in report_recipes.CHARTS.items() if n in charts.values()}
    lines += report_recipes.render(summary.get("recipes", {}), written)
    if summary["frameworks"]:
        lines += ["## Training loaders (benchmarks/loaders.py)", ""]
        lines += [f"![{title}]({name})" for title, name in _charts(charts, "framework")]
        lines += [""] + metric_table(summary["frameworks"]) + [""]
        lines += [_sources(summary["frameworks"]), ""]
    if summary["relative_cost"]:
        lines += [
            "## RadiObject's cost relative to each peer",
            "",
            "| peer | relative cost (RadiObject / peer) | speedup (peer / RadiObject) |",
            "|---|---:|---:|",
        ]
        for peer, row in summary["relative_cost"].items():
            lines.append(
                f"| {peer} | {fmt(row['relative_cost'].value)} | {fmt(row['speedup'].value)} |"
            )
        lines.append("")
    if summary["storage"]:
        lines += ["## S3 versus local storage (RadiObject)", ""]
        lines += [f"![{title}]({name})" for title, name in _charts(charts, "storage")]
        lines += [""] + setting_table(summary["storage"]) + [""]
        lines += [_sources(summary["storage"]), ""]
    if summary["missing"]:
        lines += ["## Not in these results", ""]
        lines += [f"- `{name}`" for name in summary["missing"]] + [""]
    return "\n".join(lines)


def _sources(metrics: dict[str, dict]) -> str:
    """Which asv benchmark each row came from, so a reader can find it on the dashboard."""
    return "Sources: " + "; ".join(
        f"{found['title']}: `{found['benchmark']}`" for found in metrics.values()
    )


def _charts(charts: dict[str, str], group: str) -> list[tuple[str, str]]:
    return [(title, name) for title, name in charts.items() if name.startswith(group)]


# --- charts -------------------------------------------------------------------------------------


def _figure():
    """A pyplot-free Agg figure: no global state, no display needed."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _colour(label: str, index: int) -> str:
    return FRAMEWORK_COLOURS.get(label, OKABE_ITO[(index + 4) % len(OKABE_ITO)])


def _bars(ax, labels, points: list[Point], divisor: float, colours: list[str], x=None, width=0.6):
    """Bars with asymmetric error bars where an interval exists; n/a written in place."""
    x = list(range(len(labels))) if x is None else x
    heights = [p.value / divisor if p.value is not None else math.nan for p in points]
    below = [
        (p.value - p.low) / divisor if p.low is not None and p.value is not None else 0.0
        for p in points
    ]
    above = [
        (p.high - p.value) / divisor if p.high is not None and p.value is not None else 0.0
        for p in points
    ]
    has_err = any(below) or any(above)
    ax.bar(
        x,
        heights,
        width=width,
        color=colours,
        yerr=[below, above] if has_err else None,
        capsize=4 if has_err else 0,
        error_kw={"ecolor": "#000000", "elinewidth": 1},
    )
    for xi, p, h in zip(x, points, heights, strict=True):
        ax.annotate(
            "n/a" if p.value is None else f"{h:.3g}",
            (xi, 0.0 if p.value is None else h),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=9,
            annotation_clip=False,
        )


def framework_chart(found: dict, path: Path, title: str) -> Path:
    """One bar per framework for one metric, units in the title and the axis."""
    labels = list(found["values"])
    points = [found["values"][k] for k in labels]
    divisor, unit = display_scale(found["kind"], [p.value for p in points if p.value is not None])
    fig = _figure()
    ax = fig.add_subplot()
    _bars(ax, labels, points, divisor, [_colour(k, i) for i, k in enumerate(labels)])
    better = "higher is better" if found["better"] == "higher" else "lower is better"
    ax.set_title(f"{title} ({unit}; {better})")
    ax.set_ylabel(unit)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_xlim(-0.5, len(labels) - 0.5)  # n/a bars take no room of their own
    ax.margins(y=0.15)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    return path


def storage_chart(storage: dict, path: Path) -> Path | None:
    """Throughput and warm-batch time per storage, one bar colour per worker count."""
    from matplotlib.patches import Patch

    panels = [storage[k] for k in ("throughput", "warm_batch") if k in storage]
    if not panels:
        return None
    fig = _figure()
    for n, found in enumerate(panels, start=1):
        ax = fig.add_subplot(1, len(panels), n)
        groups: dict[str, dict[str, Point]] = {}
        for label, point in found["values"].items():
            params = found["params"][label]
            workers = params.get("num_workers")
            where = str(params.get("storage", label))
            groups.setdefault("-" if workers is None else f"{workers} workers", {})[where] = point
        stores = list(dict.fromkeys(k for g in groups.values() for k in g))
        present = [p.value for p in found["values"].values() if p.value is not None]
        divisor, unit = display_scale(found["kind"], present)
        width = 0.8 / max(len(groups), 1)
        handles = []
        for i, (workers, points) in enumerate(groups.items()):
            x = [j + (i - (len(groups) - 1) / 2) * width for j in range(len(stores))]
            colour = OKABE_ITO[(i + 4) % len(OKABE_ITO)]
            pts = [points.get(s, Point(None)) for s in stores]
            _bars(ax, stores, pts, divisor, [colour] * len(stores), x=x, width=width)
            handles.append(Patch(facecolor=colour, label=workers))
        better = "higher is better" if found["better"] == "higher" else "lower is better"
        ax.set_title(f"{found['title']} ({unit}; {better})", fontsize=10)
        ax.set_ylabel(unit)
        ax.set_xticks(range(len(stores)), stores)
        ax.set_xlim(-0.5, len(stores) - 0.5)
        ax.margins(y=0.15)
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
        ax.legend(handles=handles, title="DataLoader", fontsize=8, title_fontsize=8)
    fig.suptitle("RadiObject: S3 versus local storage")
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    return path


CHARTS = (  # (metric key, file name, chart title)
    ("throughput", "framework_throughput.png", "Training throughput"),
    ("cold_start", "framework_cold_start.png", "Cold start: build a loader, get its first batch"),
    ("peak_memory", "framework_peak_memory.png", "Peak memory during training"),
)


def build_report(
    results_dir: Path | str = "results",
    out: Path | str = Path("docs") / "report",
    machine: str | None = None,
    commit: str | None = None,
) -> dict:
    """Write the charts, report.md and summary.json to out; return the summary."""
    run = load_run(Path(results_dir), machine, commit)
    summary = summarize(run)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    charts: dict[str, str] = {}
    for key, name, title in CHARTS:
        if key in summary["frameworks"]:
            framework_chart(summary["frameworks"][key], out / name, title)
            charts[title] = name
    if storage_chart(summary["storage"], out / "storage_s3_vs_local.png"):
        charts["S3 versus local storage"] = "storage_s3_vs_local.png"
    written = report_recipes.charts(summary["recipes"], out, _figure, FRAMEWORK_COLOURS, OKABE_ITO)
    for key, name in written.items():
        charts[report_recipes.CHARTS[key][1]] = name
    summary["charts"] = list(charts.values())
    (out / "report.md").write_text(render_markdown(summary, charts))
    (out / "summary.json").write_text(json.dumps(_jsonable(summary), indent=2) + "\n")
    return summary


DESCRIPTION = "Charts, markdown tables and a JSON summary from one machine and commit."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results-dir", type=Path, default=Path("results"))
    parser.add_argument("--machine", help="default: the first (or only) machine in the results")
    parser.add_argument("--commit", help="hash or prefix; default: the newest commit")
    parser.add_argument("--out", type=Path, default=Path("docs") / "report")


def run(args: argparse.Namespace) -> int:
    """Build the report and say where it went and what it lacks."""
    summary = build_report(args.results_dir, args.out, args.machine, args.commit)
    print(
        f"report for {summary['machine']} at {summary['commit'][:8]}: "
        f"{args.out / 'report.md'} ({len(summary['charts'])} charts)"
    )
    for name in summary["missing"]:
        print(f"  not in these results: {name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="radibench report", description=DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
