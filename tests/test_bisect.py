"""radibench bisect: the first commit at which a count steps, on literal histories and results."""

from __future__ import annotations

import pytest
from results_files import write_results

from radibench.tools.asv_results import FAILED, NA, Value
from radibench.tools.bisect import BisectError, first_step, recorded, steps

HISTORY = [f"{i:02d}" + "0" * 38 for i in range(1, 41)]  # 40 commits, oldest first
HEAD = "counts.S3PerBatch.track_head_requests_per_batch"


def counting(values: dict[int, Value]):
    """measure(commit) reading a literal table (position from 1 -> value), recording each call."""
    calls = []

    def measure(commit: str) -> Value:
        calls.append(commit)
        return values[HISTORY.index(commit) + 1]

    return measure, calls


def step_at(position: int, before=4.0, after=8.0, missing=()) -> dict[int, Value]:
    table = {}
    for p in range(1, len(HISTORY) + 1):
        table[p] = Value(after if p >= position else before)
        if p in missing:
            table[p] = Value(None, outcome=FAILED)
    return table


@pytest.mark.parametrize("position", [3, 20, 29, 40])
def test_finds_the_first_commit_of_the_new_level_in_about_log2_n_measurements(position):
    measure, calls = counting(step_at(position))
    found = first_step(HISTORY, HISTORY[1], HISTORY[-1], measure, HEAD)
    assert found.found
    assert found.culprits[0].position == position
    assert found.culprits[0].commit == HISTORY[position - 1]
    assert len(found.probes) <= 6  # 37 commits between the ends: ceil(log2 38)
    assert len(calls) == len(found.probes) + 2  # and the two ends


def test_noise_below_the_step_is_not_a_step():
    table = step_at(11, before=20_937_862.0, after=16_581_227.75)
    table[5] = Value(20_937_861.625)  # bytes per batch, a mean over batches: sub-byte jitter
    measure, _ = counting(table)
    found = first_step(HISTORY, HISTORY[0], HISTORY[-1], measure, "bytes")
    assert found.culprits[0].position == 11


def test_commits_that_cannot_be_measured_are_skipped_and_the_answer_is_a_range():
    measure, _ = counting(step_at(20, missing=(19, 18)))
    found = first_step(HISTORY, HISTORY[0], HISTORY[-1], measure, HEAD)
    assert not found.found
    assert [p.position for p in found.culprits] == [18, 19, 20]
    assert "one of commits 18" in found.lines()[-1]


def test_a_skipped_commit_beside_the_step_does_not_hide_it_when_neighbours_decide():
    measure, _ = counting(step_at(20, missing=(10,)))
    found = first_step(HISTORY, HISTORY[0], HISTORY[-1], measure, HEAD)
    assert found.found and found.culprits[0].position == 20


def test_refuses_what_it_cannot_bisect():
    measure, _ = counting(step_at(41))  # no step at all
    with pytest.raises(BisectError, match="does not step"):
        first_step(HISTORY, HISTORY[0], HISTORY[-1], measure, HEAD)
    measure, _ = counting(step_at(10))
    with pytest.raises(BisectError, match="must come before"):
        first_step(HISTORY, HISTORY[-1], HISTORY[0], measure, HEAD)
    with pytest.raises(BisectError, match="not on the history"):
        first_step(HISTORY, "f" * 40, HISTORY[0], measure, HEAD)
    measure, _ = counting(step_at(10, missing=(1,)))
    with pytest.raises(BisectError, match="failed at GOOD"):
        first_step(HISTORY, HISTORY[0], HISTORY[-1], measure, HEAD)


def _results(tmp_path, series: dict[int, object]):
    """A results folder with HEAD requests per batch at the given history positions."""
    for position, cell in series.items():
        benchmarks = {
            HEAD: {
                "param_names": ["framework"],
                "values": {("radiobject",): cell},
                "unit": "requests",
            }
        }
        write_results(tmp_path, benchmarks, commit=HISTORY[position - 1], date=position)
    return tmp_path


def test_steps_of_a_machines_results_name_adjacent_steps_and_mark_gaps(tmp_path):
    results = _results(tmp_path, {1: 4.0, 2: 4.0, 3: "n/a", 4: 4.0, 5: 8.0, 9: 8.0, 12: 12.0})
    found = steps(results, "test-machine", HISTORY)
    assert [(s.before.position, s.after.position, s.adjacent) for s in found] == [
        (4, 5, True),
        (9, 12, False),  # commits 10 and 11 unmeasured: bisect between 9 and 12
    ]
    assert found[0].after.value.number == 8.0


def test_recorded_reads_the_value_of_one_commit_and_says_none_without_one(tmp_path):
    results = _results(tmp_path, {1: 4.0, 2: "n/a"})
    assert recorded(results, "test-machine", HISTORY[0], HEAD, None).number == 4.0
    assert recorded(results, "test-machine", HISTORY[1], HEAD, None).outcome == NA
    assert recorded(results, "test-machine", HISTORY[2], HEAD, None) is None
    with pytest.raises(BisectError, match="no combination"):
        recorded(results, "test-machine", HISTORY[0], HEAD, ("monai",))


def test_asv_selects_the_benchmark_alone_by_its_selection_regex():
    """asv's own filter: a parameterized benchmark is matched as `name(params)`."""
    from types import SimpleNamespace

    from asv.benchmarks import Benchmarks

    from radibench.tools.bisect import selection

    def benchmark(name, params):
        return {"name": name, "params": params, "param_names": ["framework"] * bool(params)}

    listed = [
        benchmark("counts.S3PerBatch.track_head_requests_per_batch", [["'radiobject'"]]),
        benchmark("counts.S3PerBatch.track_head_requests_per_batch_total", [["'radiobject'"]]),
        benchmark("ingest.DiskSpace.track_bytes", []),
    ]
    conf = SimpleNamespace(benchmark_dir="benchmarks")
    for name in ("counts.S3PerBatch.track_head_requests_per_batch", "ingest.DiskSpace.track_bytes"):
        assert list(Benchmarks(conf, listed, regex=selection(name))) == [name]
