"""The one fresh-process runner (a real spawned-worker run) and the one n/a-or-failed rule."""

import pytest

from radibench.measure.protocol import exact_peak
from radibench.measure.runner import run_in_fresh_process
from radibench.prepare import outcome, training


def test_a_worker_run_counts_the_workers_memory(quick, radiobject_uri, radiobject_mapping):
    niftis = [s.train_nifti for s in quick.subjects]
    out = run_in_fresh_process(
        "radiobject", niftis, radiobject_uri, 1, warmup=1, timed=4, mapping=radiobject_mapping
    )
    assert "failed" not in out, out.get("failed")
    assert out["num_workers"] == 1
    assert len(out["warm_batches"]) == 4
    # A spawned worker imports torch and radiobject: far more than the main process adds.
    assert out["rss_delta"] > 150e6
    assert exact_peak(out) - out["start_memory_hwm"] > 150e6  # its high-water mark, read


def test_a_broken_run_comes_back_failed_not_raised(tmp_path):
    out = run_in_fresh_process("radiobject", [], tmp_path / "no-such-array", timed=1)
    assert set(out) == {"failed"}, out


def test_results_reach_asv_as_na_or_failed():
    cache = {
        "problems": {"monai": ("n/a", "not selected")},
        "runs": {"radiobject-0": [{"failed": "boom"}], "radiobject-1": [{"unavailable": "old"}]},
    }
    with pytest.raises(NotImplementedError):
        training.protocol(cache, "monai", 0)
    with pytest.raises(RuntimeError, match="boom"):
        training.protocol(cache, "radiobject", 0)
    with pytest.raises(NotImplementedError, match="old"):
        training.protocol(cache, "radiobject", 1)


def test_a_missing_api_is_na_and_a_breakage_is_failed():
    problems = {}

    def missing():
        raise NotImplementedError("no from_images at this commit")

    def broken():
        raise ValueError("bad tile")

    assert not outcome.attempt(problems, "old", missing)
    assert not outcome.attempt(problems, "new", broken)
    assert outcome.attempt(problems, "fine", lambda: None)
    assert problems == {
        "old": ("n/a", "no from_images at this commit"),
        "new": ("failed", "ingest failed: ValueError('bad tile')"),
    }
    with pytest.raises(NotImplementedError):
        outcome.check({"problems": problems}, "old")
    with pytest.raises(RuntimeError, match="bad tile"):
        outcome.check({"problems": problems}, "new")
    outcome.check({"problems": problems}, "fine")


def test_a_run_that_could_not_measure_is_recorded_under_its_key():
    """What later rounds skip (prepare_training, prepare) and asv shows per key."""
    problems = {}
    outcome.record(problems, "monai_cache_threads-2", {"unavailable": "threads at 0 workers"})
    outcome.record(problems, "torchio-0", {"failed": "exit 134"})
    outcome.record(problems, "radiobject-0", {"seconds_per_sample": 0.01})
    assert problems == {
        "monai_cache_threads-2": ("n/a", "threads at 0 workers"),
        "torchio-0": ("failed", "exit 134"),
    }


def test_the_protocols_timings_reach_asv_one_sample_per_process():
    """The history's timings: the study's protocol in several fresh processes, each timing a
    sample list asv summarises (median, 99% interval); the marks exact only if every run's is."""
    runs = [
        {
            "seconds_per_sample": s,
            "cold_start": 1.0,
            "warm_batch": 0.04,
            "epoch_seconds": 9.0,
            "rss_delta": 5,
            "peak_memory_hwm": 7,
            "hwm_unread": 0,
            "num_workers": 0,
        }
        for s in (0.010, 0.012, 0.011)
    ]
    cache = {"problems": {}, "runs": {"radiobject-0": runs}}
    result = training.protocol(cache, "radiobject", 0)
    assert result["seconds_per_sample"] == {"samples": [0.010, 0.012, 0.011], "number": 1}
    assert result["processes"] == 3 and result["num_workers"] == 0
    assert exact_peak(result) == {"samples": [7, 7, 7], "number": 1}
    runs[1]["hwm_unread"] = 1
    with pytest.raises(RuntimeError, match="not exact"):
        exact_peak(training.protocol(cache, "radiobject", 0))


def test_a_ratio_pairs_the_two_frameworks_processes_round_by_round():
    """RadiObjectVersusPeers: one ratio per round (the rounds interleave A B A B), so a slow
    round slows both sides of its ratio; a peer that failed fails the ratio."""
    ours = [{"seconds_per_sample": s} for s in (0.010, 0.020, 0.012)]
    theirs = [{"seconds_per_sample": s} for s in (0.50, 1.00, 0.40)]
    cache = {"problems": {}, "runs": {"radiobject-0": ours, "monai-0": theirs}}
    ratio = training.relative_cost(cache, "radiobject", "monai")
    assert ratio == {"samples": pytest.approx([0.02, 0.02, 0.03]), "number": 1}
    cache["runs"]["monai-0"] = [{"failed": "exit 134"}]
    with pytest.raises(RuntimeError, match="exit 134"):
        training.relative_cost(cache, "radiobject", "monai")


def test_each_selected_framework_runs_once_per_round(quick, data_root, tmp_path, monkeypatch):
    monkeypatch.setenv("RADIBENCH_PROFILE", "quick")
    monkeypatch.setenv("RADIBENCH_DATA", str(data_root))
    monkeypatch.setenv("RADIBENCH_FRAMEWORKS", "monai")
    cache = training.prepare_training(
        ["radiobject", "monai"], cache_dir=tmp_path, rounds=2, timed=2
    )
    assert list(cache["runs"]) == ["monai-0"] and len(cache["runs"]["monai-0"]) == 2
    assert training.protocol(cache, "monai", 0)["cold_start"]["number"] == 1
