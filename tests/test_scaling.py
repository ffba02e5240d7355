"""The scaling runs: a real spawned-worker run, and how its results reach asv."""

import pytest

from radibench import scaling


def test_a_worker_run_counts_the_workers_memory(quick, radiobject_uri):
    out = scaling.run("radiobject", [s.train_nifti for s in quick.subjects], radiobject_uri, 1)
    assert "failed" not in out, out.get("failed")
    assert out["num_workers"] == 1
    assert len(out["warm_batches"]) == scaling.TIMED
    # A spawned worker imports torch and radiobject: far more than the main process adds.
    assert out["rss_delta"] > 150e6


def test_results_reach_asv_as_na_or_failed():
    cache = {
        "problems": {"monai": ("n/a", "not selected")},
        "runs": {"radiobject-0": {"failed": "boom"}, "radiobject-1": {"unavailable": "old"}},
    }
    with pytest.raises(NotImplementedError):
        scaling.result(cache, "monai", 0)
    with pytest.raises(RuntimeError, match="boom"):
        scaling.result(cache, "radiobject", 0)
    with pytest.raises(NotImplementedError, match="old"):
        scaling.result(cache, "radiobject", 1)
