"""Numbers as people read them: each with its interval, no more digits than the interval
supports, and a difference inside the intervals called a tie.

A value comes from the results model (radibench.tools.asv_results.Value): a median with asv's 99%
confidence interval where asv recorded one. A timing from a single process has no measured
interval; it is compared as if it spread by SPREAD either way, the process-to-process spread
measured for identical code on these machines, and it is marked as such wherever it is printed.
Exact counts (bytes, requests, voxels) need no interval.
"""

from __future__ import annotations

import math

from radibench.tools.asv_results import Value

SPREAD = 0.20  # one process against the next, identical code (docs/status.md): the assumed interval
ASSUMED = "†"  # marks a figure from one process, whose interval is assumed (SPREAD), not measured
MIB = 1024**2
GIB = 1024**3
KINDS = ("time", "memory", "rate", "count", "ratio")


def interval(value: Value, kind: str = "time") -> tuple[float, float] | None:
    """The interval a comparison uses: the measured one, else +-SPREAD; exact for a count."""
    if value.missing:
        return None
    if kind == "count":
        return value.number, value.number
    if value.has_interval:
        return value.low, value.high
    return value.number * (1 - SPREAD), value.number * (1 + SPREAD)


def assumed(value: Value, kind: str) -> bool:
    """A timing without a measured interval (one process, or a track_ of one round)."""
    return not value.missing and kind != "count" and not value.has_interval


def reciprocal(value: Value) -> Value:
    """Throughput from seconds per sample: 1/x, the interval's ends swapped."""
    if value.missing or value.number <= 0:
        return value if value.missing else Value(None, outcome=value.outcome)
    if not value.has_interval:
        return Value(1 / value.number, samples=value.samples)
    high = 1 / value.low if value.low > 0 else math.inf  # a time that may be 0: no upper rate
    return Value(1 / value.number, 1 / value.high, high, value.samples)


def ratio(a: Value, b: Value, kind: str = "time") -> Value:
    """a / b with the interval its ends allow (a's low over b's high .. a's high over b's low),
    assumed ends included: a ratio is a tie when that interval holds 1."""
    if a.missing or b.missing or b.number == 0:
        return Value(None)
    ia, ib = interval(a, kind), interval(b, kind)
    if ib[0] <= 0:
        return Value(a.number / b.number)
    return Value(a.number / b.number, ia[0] / ib[1], ia[1] / ib[0])


def differs(a: Value, b: Value, kind: str) -> bool:
    """The intervals do not overlap: a measurable difference."""
    ia, ib = interval(a, kind), interval(b, kind)
    return ia is not None and ib is not None and (ia[1] < ib[0] or ib[1] < ia[0])


def ranking(values: dict[str, Value], kind: str, higher: bool) -> tuple[list[str], list[str]]:
    """(winners, tied): the best label(s), and every other label whose interval overlaps the
    best one's. A single winner with no one tied is a measurable win; n/a never wins."""
    present = {k: v for k, v in values.items() if not v.missing}
    if not present:
        return [], []
    pick = max if higher else min
    top = pick(v.number for v in present.values())
    best = [k for k, v in present.items() if v.number == top]
    tied = [
        k for k, v in present.items() if k not in best and not differs(v, present[best[0]], kind)
    ]
    return best, tied


def scale(kind: str, numbers: list[float | None]) -> tuple[float, str]:
    """(divisor, unit) that keeps a column readable, chosen from its largest number."""
    top = max((abs(v) for v in numbers if v is not None), default=0.0)
    if kind == "time" and top == 0:
        return 1.0, "s"
    if kind == "time":
        for divisor, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
            if top >= divisor or divisor == 1e-6:
                return divisor, unit
    if kind == "memory":
        for divisor, unit in ((GIB, "GiB"), (MIB, "MiB"), (1024, "KiB"), (1, "bytes")):
            if top >= divisor or divisor == 1:
                return divisor, unit
    return 1.0, {"rate": "samples/s", "ratio": "x"}.get(kind, "")


def _decimals(spread: float) -> int:
    """Decimal places that show an uncertainty of `spread` with one significant digit, two
    when it starts with 1 or 2 (so 0.14 keeps 0.14, not 0.1)."""
    exponent = math.floor(math.log10(spread))
    lead = spread / 10**exponent
    return -(exponent - (1 if lead < 3 else 0))


def _round(x: float, decimals: int) -> str:
    return (
        f"{round(x, decimals):.{max(decimals, 0)}f}"
        if decimals > 0
        else f"{round(x, decimals):.0f}"
    )


def number(value: Value, kind: str, divisor: float = 1.0) -> str:
    """One figure for a table cell or a sentence: "62 (55–86)" with a measured interval, "62†"
    without one (two significant digits), the exact number for a count, n/a when missing."""
    if value.missing:
        return "n/a"
    x = value.number / divisor
    if kind == "count":
        return f"{x:.4g}" if x != int(x) else f"{int(x)}"
    if x == 0 and not (value.has_interval and value.high > 0):
        return "0"  # nothing to do (a recipe without a cache): exactly zero, not a timing
    if not value.has_interval:
        return f"{_sig(x, 2)}{ASSUMED}"
    low, high = value.low / divisor, value.high / divisor
    if math.isinf(high):  # an interval with no upper end: the figure and its lower end
        d = _decimals(x - low) if x > low else 0
        return f"{_kept(x, d)} (≥{_kept(low, d)})"
    spread = max(high - x, x - low)
    if spread <= 0:
        return _sig(x, 3)
    d = _decimals(spread)
    return f"{_kept(x, d)} ({_kept(low, d)}–{_kept(high, d)})"


def _kept(x: float, decimals: int) -> str:
    """x at the interval's decimals, but never rounded away to 0 when it is not: a lopsided
    interval's small end keeps one significant digit of its own (4000–200000, not 0–200000)."""
    shown = _round(x, decimals)
    return _sig(x, 1) if x != 0 and float(shown) == 0 else shown


def _sig(x: float, digits: int) -> str:
    if x == 0:
        return "0"
    d = digits - 1 - math.floor(math.log10(abs(x)))
    return _round(x, d)


def with_unit(value: Value, kind: str) -> str:
    """A figure with its unit, scaled to itself: "12 (11–13) ms", "1.4 (1.3–1.5) GiB"."""
    if value.missing:
        return "n/a"
    divisor, unit = scale(kind, [value.number])
    unit = {"ratio": "x", "count": ""}.get(kind, unit)
    text = number(value, kind, divisor)
    return f"{text} {unit}".rstrip() if kind != "ratio" else f"{text}x"


def count(x: float) -> str:
    """A count as people read it: thousands separated; a mean over batches below 1000 keeps
    two decimals at most ("28.5"), above it is shown to the unit ("20,937,862")."""
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.2f}".rstrip("0").rstrip(".")
