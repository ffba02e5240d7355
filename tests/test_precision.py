"""The gate's calibration (radibench/tools/precision.py): its statistics, its judging, and the
committed docs/precision.md being exactly what its recorded data renders."""

import json
import math
from pathlib import Path

import pytest

from radibench import suite
from radibench.tools import precision

DOCS = Path(__file__).parents[1] / "docs"
WALL = "loaders.WarmBatch.time_warm_batch('radiobject')"
BYTES = "loaders.BytesRead.track_bytes_per_batch('radiobject')"


def comparison(head: str, wall_ratio: float, flagged_at: dict, bytes_ratio=1.0, broken=False):
    wall = {
        "base": 0.05,
        "head": None if broken else 0.05 * wall_ratio,
        "ratio": None if broken else wall_ratio,
        "broken": broken,
        "flagged": broken,
        "factor": suite.GATE_FACTOR,
        "flagged_at": {f: broken or flagged_at.get(f, False) for f in precision.LADDER},
    }
    counted = {
        "base": 100.0,
        "head": None if broken else 100.0 * bytes_ratio,
        "ratio": None if broken else bytes_ratio,
        "broken": broken,
        "flagged": broken or bytes_ratio > float(suite.COUNT_FACTOR),
        "factor": suite.COUNT_FACTOR,
        "flagged_at": None,
    }
    return {
        "head": head,
        "asv_exit": 0,
        "failed": False,
        "seconds": 100.0,
        "metrics": {WALL: wall, BYTES: counted},
    }


def summary(aa_ratios):
    comparisons = [comparison("noop", r, {"1.05": r > 1.05}) for r in aa_ratios]
    comparisons += [
        comparison("cpu5", 1.04, {}),
        comparison("cpu10", 1.11, {"1.05": True, "1.08": True, "1.10": True}),
        comparison("io10", 1.09, {"1.05": True, "1.08": True}, bytes_ratio=1.1),
        comparison("api", 1.0, {}, broken=True),
    ]
    return {
        "machine": "test",
        "profile": "quick",
        "asv_factor": suite.GATE_FACTOR,
        "sizing": {
            "warm_batch_seconds": 0.05,
            "statistic_seconds": 0.0005,
            "rounds": 3,
            "regressions": {
                "cpu5": {"repeats": 1, "slowdown": 0.04},
                "cpu10": {"repeats": 3, "slowdown": 0.12},
            },
        },
        "commits": {},
        "comparisons": comparisons,
    }


def test_the_regressions_are_spread_among_the_aa_runs():
    order = precision.schedule(20, 1)
    assert order.count("noop") == 20 and len(order) == 24
    positions = [order.index(r) for r in precision.REGRESSIONS]
    assert positions == sorted(positions) and positions[0] > 2 and positions[-1] < 21


def test_upper_bound_of_a_rate():
    assert precision.upper_bound(0, 20) == pytest.approx(1 - 0.05 ** (1 / 20), abs=1e-6)
    assert precision.upper_bound(20, 20) == 1.0
    assert 0.05 < precision.upper_bound(1, 20) < 0.25


def test_the_wall_factor_follows_the_aa_spread():
    tight = [1.0, 1.01, 0.99, 1.005, 0.995]
    wide = [1.0, 1.06, 0.94, 1.04, 0.96]
    assert precision.chosen_wall_factor(tight) == "1.05"
    assert float(precision.chosen_wall_factor(wide)) > 1.08
    sd = precision.log_ratio_spread(wide)[1]
    expected = math.exp(precision.Z_ONE_PERCENT * sd)
    assert precision.factor_for(wide, 1.0) == pytest.approx(math.ceil(expected * 100) / 100)
    assert precision.alarm_probability([1.0, 1.0], 1.02) == 0.0


def test_analysis_judges_each_metric_as_the_gate_does():
    result = precision.analyse(summary([1.0, 1.01, 0.99, 1.02, 0.98]))
    wall = next(m for m in result["metrics"] if m["wall"])
    counted = next(m for m in result["metrics"] if not m["wall"])
    assert result["wall_factor"] == "1.05" and wall["factor"] == 1.05
    assert wall["alarms"] == 0 and wall["aa_runs"] == 5
    assert {r: d["caught"] for r, d in wall["detections"].items()} == {
        "cpu5": 0,
        "cpu10": 1,
        "io10": 1,
        "api": 1,
    }
    assert counted["detections"]["io10"]["caught"] == 1 and counted["log_sd"] == 0
    assert result["aa_failed"] == 0
    # the whole check: the counts (the wall time, which alone saw cpu10, is reported, not gated)
    assert result["caught"] == {"cpu5": [False], "cpu10": [False], "io10": [True], "api": [True]}
    text = precision.markdown(summary([1.0, 1.01, 0.99, 1.02, 0.98]))
    assert "0 of 5 A/A" in text and "`cpu5` 0/1" in text


def test_the_committed_doc_is_what_its_data_renders():
    recorded = DOCS / "precision.json"
    data = json.loads(recorded.read_text())
    assert (DOCS / "precision.md").read_text() == precision.markdown(data)
    result = precision.analyse(data)
    assert result["aa_checks"] >= 20
    assert result["wall_factor"] == suite.GATE_FACTOR, "the gate's factor is the calibrated one"
    chosen, _, _ = precision.worker_path_factor(data["worker_path"]["values"])
    assert chosen == suite.WORKER_PATH_FACTOR, "the worker path's factor is the calibrated one"


def test_the_s3_counts_measured_apart_are_rendered_with_their_pairs():
    data = summary([1.0, 1.01, 0.99])
    data["s3_requests"] = {
        "runs": 4,
        "radiobject": "0.1.1",
        "factor": suite.COUNT_FACTOR,
        "values": {"GET": [10.0, 10.0, 10.0, 10.0], "LIST": [0.0, 0.0, 0.0, 0.0]},
    }
    text = precision.markdown(data)
    assert "| GET | all 10 | 0.000% | 0/2 | 1.02 |" in text
    assert "the S3 request counts never moved" in text
    assert precision.disjoint_pairs([10.0, 11.0, 0.0, 1.0]) == [1.1, math.inf]


def test_a_count_that_moves_gets_room_for_its_noise_and_one_that_never_moves_keeps_the_factor():
    assert precision.count_factor([1.0, 1.0, 1.0]) == suite.COUNT_FACTOR
    # twice the largest move (0.16%) beats the fit here: 1.0032 rounded up
    assert precision.count_factor([0.9984, 1.0, 1.0002, 0.9999, 1.0001]) == "1.004"
    wide = [0.99, 1.01, 1.0, 0.995, 1.005]  # the fit's one-in-10,000 point (1.0298) beats 1.02
    assert precision.count_factor(wide) == "1.030"


def test_the_second_set_and_the_smallest_regressions_are_rendered_from_the_data():
    data = summary([1.0, 1.01, 0.99])
    data["count_check"] = {
        "runs": 4,
        "profile": "quick",
        "radiobject": "0.1.1",
        "values": {"bytes per batch": [100.0, 100.0, 100.0, 103.0], "unknown count": [1.0, 2.0]},
    }
    text = precision.markdown(data)
    assert "## The factors checked on a second, disjoint set" in text
    assert "| bytes per batch | 2 | 1.0000-1.0300 | 1/2 |" in text  # 1.03 > 1.02
    assert "unknown count" not in text  # not a gated metric
    assert "a wall time 5% longer" in text  # the fixture's A/A spread gives 1.05
    assert "any change of more than 2% of the count" in text


def test_the_worker_path_factor_is_chosen_on_half_the_runs_and_checked_on_the_rest():
    data = summary([1.0, 1.01, 0.99])
    values = [6.49e10, 6.4901e10, 6.4902e10, 6.4898e10, 6.49e10, 6.4901e10, 6.49e10, 6.4995e10]
    data["worker_path"] = {
        "runs": 8,
        "profile": "default",
        "radiobject": "0.1.1",
        "workers": 4,
        "values": values,
        "batch_instructions": 2.9e8,
    }
    factor, chosen, checked = precision.worker_path_factor(values)
    assert len(chosen) == len(checked) == 2
    assert factor == "1.001"  # twice the first half's largest move (0.02%), rounded up
    text = precision.markdown(data)
    assert "## The worker path" in text
    assert "| 8 | 64,898,000,000 - 64,995,000,000 |" in text
    assert "| 2 pairs | 1.001 (the gate's factor) | 2 pairs | 1/2 |" in text  # 1.0015 > 1.001
    assert "about 0.2 batches' worth" in text  # 64.9 M more instructions over 290 M a batch
