"""`radibench gate` reads asv's compare table: worse, newly failed, newly n/a and measured at
neither commit all fail."""

import json
import subprocess
from pathlib import Path

import pytest

from radibench.suite import ADVISORY, GATES
from radibench.tools import gate

COMPARE = """
| Change   | Before [3062b8e1]   | After [84edab60]   |   Ratio | Benchmark (Parameter)                                      |
|----------|---------------------|--------------------|---------|------------------------------------------------------------|
|          | 51.9±7ms            | 53.0±10ms          |    1.02 | loaders.WarmBatch.time_warm_batch('radiobject')            |
| +        | 16.6M               | 20.7M              |    1.25 | loaders.BytesRead.track_bytes_per_batch('radiobject')      |
|          | 2.2e+08             | 2.2e+08            |    1.00 | counts.PerBatch.track_instructions_per_batch('radiobject') |
|          | 28                  | n/a                |     n/a | counts.PerBatch.track_tiles_per_batch('radiobject')        |
| !        | 4                   | failed             |     n/a | counts.PerBatch.track_array_opens_per_batch('radiobject')  |
"""  # noqa: E501


def verdict(**kwargs):
    rows = [(row, "1.02") for row in gate.compare_rows(COMPARE)]
    return gate.Verdict("base", "head", rows, **kwargs)


def test_rows_are_read_with_their_marks():
    rows = gate.compare_rows(COMPARE)
    assert [r.mark for r in rows] == ["", "+", "", "", "!"]
    assert rows[1].benchmark == "loaders.BytesRead.track_bytes_per_batch"


def test_worse_failed_and_newly_na_fail_the_check_and_nothing_else():
    failures = verdict().failures
    assert len(failures) == 3, failures
    assert any("track_bytes_per_batch" in f and "1.25x" in f for f in failures)
    assert any("track_tiles_per_batch" in f and "n/a at the head" in f for f in failures)
    assert any("track_array_opens_per_batch" in f and "failed at the head" in f for f in failures)
    text = verdict().markdown("https://example.invalid/dashboard")
    assert text.startswith("## RadiObject performance check: FAILED")
    assert "| worse | `loaders.BytesRead" in text and "| broken | `counts.PerBatch" in text
    assert "https://example.invalid/dashboard" in text


WALL_WORSE = """
| Change   | Before [3062b8e1]   | After [84edab60]   |   Ratio | Benchmark (Parameter)                                      |
|----------|---------------------|--------------------|---------|------------------------------------------------------------|
| +        | 51.9±1ms            | 64.9±1ms           |    1.25 | loaders.WarmBatch.time_warm_batch('radiobject')            |
|          | 16.6M               | 16.6M              |    1.00 | loaders.BytesRead.track_bytes_per_batch('radiobject')      |
"""  # noqa: E501


def test_a_worse_wall_time_is_reported_but_fails_no_check():
    rows = [(row, "1.18") for row in gate.compare_rows(WALL_WORSE)]
    worse = gate.Verdict("base", "head", rows)
    assert worse.failures == []
    text = worse.markdown()
    assert text.startswith("## RadiObject performance check: passed")
    assert "- Reported, not gated: `loaders.WarmBatch.time_warm_batch('radiobject')` 1.25x" in text
    assert "| worse (reported, not gated) | `loaders.WarmBatch" in text


def test_asv_failing_to_run_a_benchmark_fails_the_check():
    quiet = gate.Verdict("base", "head", [], asv_exit=2)
    assert quiet.failures == ["`asv continuous` exited 2: a benchmark failed to run"]
    assert not gate.Verdict("base", "head", [], asv_exit=1).failures  # its own table says why


# Every gated metric measured at both commits, none worse (asv compare --split, its "stayed the
# same" table).
ALL_MEASURED = """
Benchmarks that have stayed the same:

| Change   | Before [3062b8e1]   | After [84edab60]   |   Ratio | Benchmark (Parameter)                                          |
|----------|---------------------|--------------------|---------|----------------------------------------------------------------|
|          | 51.9±7ms            | 53.0±10ms          |    1.02 | loaders.WarmBatch.time_warm_batch('radiobject')                |
|          | 16.6M               | 16.6M              |    1.00 | loaders.BytesRead.track_bytes_per_batch('radiobject')          |
|          | 28                  | 28                 |    1.00 | counts.PerBatch.track_tiles_per_batch('radiobject')            |
|          | 4                   | 4                  |    1.00 | counts.PerBatch.track_array_opens_per_batch('radiobject')      |
|          | 2.9e+08             | 2.9e+08            |    1.00 | counts.PerBatch.track_instructions_per_batch('radiobject')     |
|          | 6.6e+10             | 6.6e+10            |    1.00 | counts.WorkerPath.track_instructions('radiobject')             |
|          | 8                   | 8                  |    1.00 | counts.S3PerBatch.track_get_requests_per_batch('radiobject')   |
|          | 8                   | 8                  |    1.00 | counts.S3PerBatch.track_head_requests_per_batch('radiobject')  |
|          | 24                  | 24                 |    1.00 | counts.S3PerBatch.track_list_requests_per_batch('radiobject')  |
|          | 0                   | 0                  |    n/a  | counts.S3PerBatch.track_other_requests_per_batch('radiobject') |
"""  # noqa: E501

# The same runner without valgrind (instructions n/a at both) and without the S3 server binary,
# the S3 benchmarks failing at both; the bytes benchmark was not run at all.
UNMEASURED = """
Benchmarks that have stayed the same:

| Change   | Before [3062b8e1]   | After [84edab60]   |   Ratio | Benchmark (Parameter)                                          |
|----------|---------------------|--------------------|---------|----------------------------------------------------------------|
|          | 51.9±7ms            | 53.0±10ms          |    1.02 | loaders.WarmBatch.time_warm_batch('radiobject')                |
|          | 28                  | 28                 |    1.00 | counts.PerBatch.track_tiles_per_batch('radiobject')            |
|          | 4                   | 4                  |    1.00 | counts.PerBatch.track_array_opens_per_batch('radiobject')      |
|          | n/a                 | n/a                |     n/a | counts.PerBatch.track_instructions_per_batch('radiobject')     |
|          | n/a                 | n/a                |     n/a | counts.WorkerPath.track_instructions('radiobject')             |
|          | failed              | failed             |     n/a | counts.S3PerBatch.track_get_requests_per_batch('radiobject')   |
|          | failed              | failed             |     n/a | counts.S3PerBatch.track_head_requests_per_batch('radiobject')  |
|          | failed              | failed             |     n/a | counts.S3PerBatch.track_list_requests_per_batch('radiobject')  |
|          | failed              | failed             |     n/a | counts.S3PerBatch.track_other_requests_per_batch('radiobject') |
"""  # noqa: E501


def judged(table: str, gates=GATES) -> gate.Verdict:
    """The verdict on one compare table, as if asv printed it at every factor."""
    tables = {factor: table for factor in set(gates.values())}
    return gate.Verdict("base", "head", gate.gated_rows(tables, gates))


def test_every_gated_metric_measured_at_both_commits_and_none_worse_passes():
    verdict = judged(ALL_MEASURED)
    assert len(verdict.rows) == len(GATES) == 10
    assert verdict.failures == []
    assert verdict.markdown().startswith("## RadiObject performance check: passed")


def test_a_gated_metric_measured_at_neither_commit_fails_naming_it():
    verdict = judged(UNMEASURED)
    failures = verdict.failures
    unmeasured = {
        "counts.PerBatch.track_instructions_per_batch('radiobject'): not measured (n/a at the base",
        "counts.WorkerPath.track_instructions('radiobject'): not measured (n/a at the base",
        "counts.S3PerBatch.track_get_requests_per_batch('radiobject'): not measured (failed at",
        "loaders.BytesRead.track_bytes_per_batch: not measured (no result at the base, no result",
    }
    assert len(failures) == 7, failures  # both instruction counts, the 4 S3 kinds, bytes
    assert all(any(f.startswith(u) for f in failures) for u in unmeasured), failures
    assert not any("tiles" in f or "WarmBatch" in f for f in failures)  # measured: unaffected
    assert any("instructions" in f and "valgrind" in f for f in failures)
    assert any("bytes" in f and "asv ran it at neither commit" in f for f in failures)
    text = verdict.markdown()
    assert text.startswith("## RadiObject performance check: FAILED")
    assert "| not measured | `counts.PerBatch.track_instructions_per_batch('radiobject')` |" in text
    assert "| not measured | `loaders.BytesRead.track_bytes_per_batch` | no result |" in text


def test_bench_narrows_the_gate_to_what_asv_ran_and_refuses_a_pattern_that_selects_none():
    tiles = gate.selected_gates(r"counts\.PerBatch\.track_(tiles|array)")
    assert sorted(tiles) == [
        r"counts\.PerBatch\.track_array_opens_per_batch",
        r"counts\.PerBatch\.track_tiles_per_batch",
    ]
    assert judged(UNMEASURED, tiles).failures == []
    assert gate.selected_gates(None) == GATES
    with pytest.raises(ValueError, match="selects no gated metric"):
        gate.selected_gates("storage.Nothing")


def test_the_command_line_refuses_a_bench_that_selects_no_gated_metric(capsys):
    assert gate.main(["--bench", "storage.Nothing", "base", "head"]) == 2
    assert "selects no gated metric" in capsys.readouterr().err


def test_results_holding_no_gated_metric_fail_the_check_naming_each(tmp_path):
    """Through the real `asv compare`, on committed results that hold none of the gated
    benchmarks (tests/fixtures/asv_results): every one is named, none passes as n/a."""
    fixture = Path(__file__).parent / "fixtures" / "asv_results" / "fixture-machine"
    base, head = (
        json.loads((fixture / f"{short}-virtualenv-py3.11.json").read_text())["commit_hash"]
        for short in ("311169b5", "e077ed58")
    )
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    config = tmp_path / "asv.conf.json"
    config.write_text(
        json.dumps(
            {"version": 1, "project": "fixture", "repo": ".", "results_dir": str(fixture.parent)}
        )
    )
    verdict = tmp_path / "verdict.md"
    args = ["--config", str(config), "--machine", "fixture-machine", "--markdown", str(verdict)]
    assert gate.main([*args, base, head]) == 1
    text = verdict.read_text()
    assert text.startswith("## RadiObject performance check: FAILED")
    for pattern in GATES:
        name = pattern.replace("\\", "")
        if pattern in ADVISORY:  # reported, never failing: the wall time
            assert f"- {name}: not measured" not in text
            assert f"| not measured (reported, not gated) | `{name}` | no result |" in text
            continue
        assert f"- {name}: not measured (no result at the base, no result at the head)" in text
        assert f"| not measured | `{name}` | no result | no result |" in text


# The instruction count rose (asv compare's "+"): the verdict says where, from the profiles.
INSTRUCTIONS_ROSE = """
| Change   | Before [3062b8e1]   | After [84edab60]   |   Ratio | Benchmark (Parameter)                                      |
|----------|---------------------|--------------------|---------|------------------------------------------------------------|
| +        | 2.23e+08            | 2.31e+08           |    1.04 | counts.PerBatch.track_instructions_per_batch('radiobject') |
|          | 28                  | 28                 |    1.00 | counts.PerBatch.track_tiles_per_batch('radiobject')        |
"""  # noqa: E501


def test_risen_instructions_are_explained_from_the_kept_profiles_or_say_what_is_missing(tmp_path):
    rose = gate.Verdict("3062b8e1", "84edab60", [(r, "1.02") for r in gate.compare_rows(COMPARE)])
    assert rose.risen(gate.INSTRUCTIONS) == []  # instructions 1.00: nothing to explain
    rose.rows = [(r, "1.02") for r in gate.compare_rows(INSTRUCTIONS_ROSE)]
    assert rose.risen(gate.INSTRUCTIONS) == ["radiobject"] and rose.risen(*gate.BY_ARRAY) == []
    rose.where = gate.explain(rose, tmp_path)
    assert "No profile of `3062b8e1`, `84edab60`" in rose.where
    text = rose.markdown()
    assert "### Where the instructions went" in text and text.startswith("## RadiObject")
    assert rose.to_json()["where"] == rose.where


def test_a_profile_that_cannot_be_read_is_said_and_the_verdict_still_written(tmp_path):
    for commit in ("3062b8e1", "84edab60"):
        (tmp_path / commit).mkdir()
        (tmp_path / commit / "radiobject.callgrind").write_text("not a callgrind profile\n")
    rose = gate.Verdict("3062b8e1", "84edab60", [])
    rose.rows = [(r, "1.02") for r in gate.compare_rows(INSTRUCTIONS_ROSE)]
    assert "Could not read the profiles" in gate.explain(rose, tmp_path)
