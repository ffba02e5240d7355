"""Figures as the report prints them: digits follow the interval, ties are called ties."""

import pytest

from radibench.tools.asv_results import Value
from radibench.tools.report import units


@pytest.mark.parametrize(
    ("value", "kind", "shown"),
    [
        (Value(61.9, 55.2, 85.8, 5), "rate", "62 (55–86)"),  # +-24: whole numbers
        (Value(997.7, 960.0, 1040.0, 5), "rate", "1000 (960–1040)"),  # +-42: tens
        (Value(0.01234, 0.01221, 0.01251, 5), "time", "0.01234 (0.01221–0.01251)"),
        (Value(12074.0, 4332.0, 203470.0, 5), "rate", "10000 (4000–200000)"),  # lopsided
        (Value(61.9), "rate", "62†"),  # one process: two digits, marked
        (Value(0.0), "time", "0"),  # nothing to do: exactly zero
        (Value(16_600_000.0), "count", "16600000"),  # exact
        (Value(7.75), "count", "7.75"),
        (Value(None), "time", "n/a"),
    ],
)
def test_a_figure_has_the_digits_its_interval_supports(value, kind, shown):
    assert units.number(value, kind) == shown


def test_with_unit_scales_to_the_figure():
    assert units.with_unit(Value(0.012, 0.011, 0.013, 5), "time") == "12.0 (11.0–13.0) ms"
    assert units.with_unit(Value(1.5 * units.GIB), "memory") == "1.5† GiB"
    assert units.with_unit(Value(2.0, 1.5, 2.6), "ratio") == "2.0 (1.5–2.6)x"


def test_throughput_is_the_reciprocal_with_its_ends_swapped():
    shown = units.reciprocal(Value(0.02, 0.01, 0.04, 5))
    assert (shown.number, shown.low, shown.high, shown.samples) == (50.0, 25.0, 100.0, 5)


def test_a_time_whose_interval_reaches_zero_has_a_throughput_with_no_upper_end():
    shown = units.reciprocal(Value(0.04, 0.0, 0.08, 5))
    assert (shown.number, shown.low, shown.high) == (25.0, 12.5, float("inf"))
    assert units.number(shown, "rate") == "25 (≥12)"


def test_a_ratio_carries_the_interval_its_ends_allow():
    r = units.ratio(Value(100.0, 90.0, 110.0), Value(50.0, 40.0, 60.0))
    assert (r.number, r.low, r.high) == (2.0, 1.5, 110.0 / 40.0)


def test_one_process_is_compared_as_spreading_by_the_measured_spread():
    # 20% apart from one process each: inside +-20%, a tie
    assert not units.differs(Value(100.0), Value(120.0), "rate")
    # 100 vs 200 from one process each: 120 < 160, a difference
    assert units.differs(Value(100.0), Value(200.0), "rate")
    # counts are exact: one byte apart is a difference
    assert units.differs(Value(100.0), Value(101.0), "count")


def test_ranking_names_a_winner_only_outside_the_intervals():
    apart = {"a": Value(10.0, 9.0, 11.0), "b": Value(20.0, 19.0, 21.0)}
    assert units.ranking(apart, "rate", higher=True) == (["b"], [])
    overlapping = {"a": Value(10.0, 9.0, 15.0), "b": Value(12.0, 11.0, 13.0), "c": Value(None)}
    assert units.ranking(overlapping, "rate", higher=True) == (["b"], ["a"])
    assert units.ranking({"c": Value(None)}, "rate", higher=True) == ([], [])
