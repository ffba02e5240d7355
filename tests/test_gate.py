"""`radibench gate` reads asv's compare table: worse, newly failed and newly n/a all fail."""

from radibench.tools import gate

COMPARE = """
| Change   | Before [3062b8e1]   | After [84edab60]   |   Ratio | Benchmark (Parameter)                                      |
|----------|---------------------|--------------------|---------|------------------------------------------------------------|
|          | 51.9±7ms            | 53.0±10ms          |    1.02 | loaders.WarmBatch.time_warm_batch('radiobject')            |
|          | n/a                 | n/a                |     n/a | loaders.WarmBatch.time_warm_batch('monai')                 |
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
    assert [r.mark for r in rows] == ["", "", "+", "", "", "!"]
    assert rows[2].benchmark == "loaders.BytesRead.track_bytes_per_batch"


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


def test_asv_failing_to_run_a_benchmark_fails_the_check():
    quiet = gate.Verdict("base", "head", [], asv_exit=2)
    assert quiet.failures == ["`asv continuous` exited 2: a benchmark failed to run"]
    assert not gate.Verdict("base", "head", [], asv_exit=1).failures  # its own table says why
