"""`radibench status` counts measured, n/a and failed results per commit and benchmark."""

import json
import shutil
from pathlib import Path

from radibench.tools import status

FIXTURE = Path(__file__).parent / "fixtures" / "asv_results" / "fixture-machine"


def test_counts_outcomes_per_commit_and_benchmark(tmp_path, capsys):
    folder = tmp_path / "machine"
    shutil.copytree(FIXTURE, folder)
    victim = next(p for p in folder.glob("*-*.json"))
    data = json.loads(victim.read_text())
    row = data["results"]["loaders.TrainingLoader.track_seconds_per_sample"]
    row[0] = [0.01, None, float("nan"), None]  # ok, failed, n/a, failed
    victim.write_text(json.dumps(data))

    statuses = {s.commit: s for s in status.read(folder)}
    assert len(statuses) == 4
    edited = statuses[data["commit_hash"]]
    counts = edited.counts["loaders.TrainingLoader.track_seconds_per_sample"]
    assert counts == {"ok": 1, "n/a": 1, "failed": 2}
    # the fixture's storage benchmarks have one n/a parameter combination (real S3, not set up)
    assert edited.counts["storage.S3VersusLocal.time_warm_batch"] == {
        "ok": 5,
        "n/a": 1,
        "failed": 0,
    }

    assert status.main([str(folder), "-b", "TrainingLoader"]) == 1  # a failure: exit 1
    out = capsys.readouterr().out
    assert "1 ok · 1 n/a · 2 failed" in out and "storage" not in out
    assert status.main([str(folder), "-b", "storage"]) == 0
    assert status.main([str(tmp_path / "missing")]) == 2
