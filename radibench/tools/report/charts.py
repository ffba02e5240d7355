"""The report's charts (matplotlib, Agg, no global state): every bar and point with the interval
of its value where one was measured. Okabe & Ito's colour-blind-safe palette; each framework
keeps its colour across charts."""

from __future__ import annotations

import math
from pathlib import Path

from radibench import frameworks
from radibench.tools.asv_results import Value
from radibench.tools.report import units
from radibench.tools.report.summary import (
    COHORT_METRICS,
    in_order,
    unmeasured,
    workers_counts,
)

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
FRAMEWORK_COLOURS = {
    "radiobject": "#0072B2",
    "monai": "#E69F00",
    "torchio": "#009E73",
    "torchio_queue": "#CC79A7",
}
FIGSIZE = (8.0, 4.5)  # inches; at DPI this makes every chart 800 x 450 pixels
DPI = 100
WIDE = 10.0  # an axis whose values span more than this factor is drawn on a log scale
MARKERS = ["o", "s", "^", "D", "v"]  # one per worker count
LINESTYLES = ["-", "--", ":", "-."]  # one per recipe within a framework


def _figure():
    """A pyplot-free Agg figure: no global state, no display needed."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _colour(label: str, index: int) -> str:
    return FRAMEWORK_COLOURS.get(label, OKABE_ITO[(index + 4) % len(OKABE_ITO)])


def _framework_colour(framework: str) -> str:
    families = list(dict.fromkeys([*FRAMEWORK_COLOURS, framework]))
    return FRAMEWORK_COLOURS.get(framework, OKABE_ITO[families.index(framework) % len(OKABE_ITO)])


def _interval_bars(values: list[Value], divisor: float) -> list[list[float]]:
    """errorbar's [below, above] for each value's interval: none (nan) without one, or where
    the interval has no upper end (the table prints that as "≥")."""
    below, above = [], []
    for v in values:
        bounded = v.has_interval and not math.isinf(v.high)
        below.append((v.number - v.low) / divisor if bounded else math.nan)
        above.append((v.high - v.number) / divisor if bounded else math.nan)
    return [below, above]


def _bars(ax, labels, points: list[Value], divisor: float, colours: list[str], x=None, width=0.6):
    """Bars with asymmetric error bars where an interval was measured; n/a written in place."""
    x = list(range(len(labels))) if x is None else x
    heights = [p.number / divisor if not p.missing else math.nan for p in points]
    has_err = any(p.has_interval for p in points)
    ax.bar(
        x,
        heights,
        width=width,
        color=colours,
        yerr=_interval_bars(points, divisor) if has_err else None,
        capsize=4 if has_err else 0,
        error_kw={"ecolor": "#000000", "elinewidth": 1},
    )
    for xi, p, h in zip(x, points, heights, strict=True):
        ax.annotate(
            units.number(p, "count" if p.missing else "time", divisor).split(" (")[0],
            (xi, 0.0 if p.missing else h),
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
    divisor, unit = units.scale(found["kind"], [p.number for p in points])
    fig = _figure()
    ax = fig.add_subplot()
    _bars(ax, labels, points, divisor, [_colour(k, i) for i, k in enumerate(labels)])
    better = "higher is better" if found["higher"] else "lower is better"
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
        groups: dict[str, dict[str, Value]] = {}
        for label, point in found["values"].items():
            where, _, workers = label.partition(" (")
            groups.setdefault(workers.rstrip(")") or "-", {})[where] = point
        stores = list(dict.fromkeys(k for g in groups.values() for k in g))
        divisor, unit = units.scale(found["kind"], [p.number for p in found["values"].values()])
        width = 0.8 / max(len(groups), 1)
        handles = []
        for i, (workers, points) in enumerate(groups.items()):
            x = [j + (i - (len(groups) - 1) / 2) * width for j in range(len(stores))]
            colour = OKABE_ITO[(i + 4) % len(OKABE_ITO)]
            pts = [points.get(s, Value(None)) for s in stores]
            _bars(ax, stores, pts, divisor, [colour] * len(stores), x=x, width=width)
            handles.append(Patch(facecolor=colour, label=workers))
        better = "higher is better" if found["higher"] else "lower is better"
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


def throughput_memory_chart(rows, path: Path) -> Path | None:
    """samples/s against peak memory: colour per framework, marker per worker count, filled for
    a best recipe, hollow for a study recipe."""
    from matplotlib.lines import Line2D

    points = [
        r for r in rows if not r["epoch_samples_per_s"].missing and not r["peak_memory"].missing
    ]
    if not points:
        return None
    divisor, unit = units.scale("memory", [r["peak_memory"].number for r in points])
    counts = workers_counts(points)
    fig = _figure()
    ax = fig.add_subplot()
    for r in points:
        colour = _framework_colour(r["framework"])
        x, y = r["peak_memory"], r["epoch_samples_per_s"]
        if x.has_interval or y.has_interval:
            ax.errorbar(
                x.number / divisor,
                y.number,
                xerr=_interval_bars([x], divisor) if x.has_interval else None,
                yerr=_interval_bars([y], 1.0) if y.has_interval else None,
                fmt="none",
                ecolor=colour,
                elinewidth=1,
                zorder=2,
            )
        ax.scatter(
            x.number / divisor,
            y.number,
            marker=MARKERS[counts.index(r["workers"]) % len(MARKERS)],
            s=55,
            facecolors="none" if r["set"] == "study" else colour,
            edgecolors=colour,
            linewidths=1.5,
            zorder=3,
        )
    if _wide([r["peak_memory"].number for r in points]):
        _log(ax, "x")
    if _wide([r["epoch_samples_per_s"].number for r in points]):
        _log(ax, "y")
    handles = [
        Line2D(
            [],
            [],
            color=_framework_colour(f),
            marker="o",
            ls="",
            label=frameworks.FRAMEWORKS.get(f, f),
        )
        for f in dict.fromkeys(r["framework"] for r in points)
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
        (
            r["peak_memory"].number / divisor,
            r["epoch_samples_per_s"].number,
            f"{r['recipe']} ({r['workers']})",
        )
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


def cohort_chart(cohorts, path: Path) -> Path | None:
    """Two panels against subjects: samples/s and peak memory, one line per recipe with each
    figure's interval as a bar; an n/a cohort is a gap, and the recipe's legend entry says
    where."""
    present = [
        r for r in cohorts if not r["epoch_samples_per_s"].missing or not r["peak_memory"].missing
    ]
    if not present:
        return None
    subjects = sorted(dict.fromkeys(r["subjects"] for r in cohorts), key=in_order)
    divisor, unit = units.scale("memory", [r["peak_memory"].number for r in cohorts])
    fig = _figure()
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
        fam = frameworks.recipe(recipe).framework
        style = LINESTYLES[styles.setdefault(fam, 0) % len(LINESTYLES)]
        styles[fam] += 1
        na = [s for s in subjects if s in mine and unmeasured(mine[s], COHORT_METRICS)]
        label = recipe + (f" (n/a at {', '.join(map(str, na))})" if na else "")
        for ax, key, div, _ in panels:
            values = [mine[s][key] if s in mine else Value(None) for s in subjects]
            ax.errorbar(
                subjects,
                [v.number / div if not v.missing else math.nan for v in values],
                yerr=_interval_bars(values, div),
                capsize=2,
                ls=style,
                marker="o",
                ms=4,
                color=_framework_colour(fam),
                label=label,
            )
    for ax, key, _, title in panels:
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("subjects")
        ax.set_xticks(subjects, [str(s) for s in subjects])
        if _wide([r[key].number for r in cohorts if not r[key].missing]):
            _log(ax, "y")
        ax.grid(alpha=0.3, which="both")
        ax.set_axisbelow(True)
    panels[0][0].legend(fontsize=7, loc="best", handlelength=3)
    fig.suptitle("Cohort scaling (recipes.Cohorts)")
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    return path


CHARTS = {  # section -> (summary key or metric key, file name, title)
    "frameworks": (
        ("throughput", "framework_throughput.png", "Training throughput"),
        (
            "cold_start",
            "framework_cold_start.png",
            "Cold start: build a loader, get its first batch",
        ),
        ("peak_memory", "framework_peak_memory.png", "Peak memory during training"),
    ),
}


def write(summary: dict, out: Path) -> dict[str, dict[str, str]]:
    """Every chart that has data, written to `out`: {section: {title: file name}}."""
    written: dict[str, dict[str, str]] = {"recipes": {}, "frameworks": {}, "storage": {}}
    section = summary["recipes"]
    if throughput_memory_chart(section["rows"], out / "recipes_throughput_memory.png"):
        written["recipes"]["Throughput against peak memory"] = "recipes_throughput_memory.png"
    if cohort_chart(section["cohorts"], out / "recipes_cohorts.png"):
        written["recipes"]["Cohort scaling"] = "recipes_cohorts.png"
    for key, name, title in CHARTS["frameworks"]:
        if key in summary["frameworks"]:
            framework_chart(summary["frameworks"][key], out / name, title)
            written["frameworks"][title] = name
    if storage_chart(summary["storage"], out / "storage_s3_vs_local.png"):
        written["storage"]["S3 versus local storage"] = "storage_s3_vs_local.png"
    return written
