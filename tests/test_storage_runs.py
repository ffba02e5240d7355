"""The storage benchmark's timings: the study's protocol per storage and worker count in fresh
processes, interleaved, each child reading S3 through its own storage's settings
(radibench.prepare.storage.run_protocols), and what asv then shows per parameter."""

import pickle
from pathlib import Path

import pytest

from benchmarks.storage import S3VersusLocal
from radibench.prepare import storage as prepare_storage


def serving(data_dir: str) -> list[str]:
    """Command lines of the live processes that name `data_dir` (the local S3 server's)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if data_dir in text:
            found.append(text)
    return found


def test_each_storage_is_timed_in_fresh_processes_and_real_s3_stays_na(storage_cache):
    cache = pickle.loads(storage_cache.read_bytes())
    prepare_storage.run_protocols(cache, ["local", "s3-lan", "s3-real"], workers=[0], rounds=2)

    assert sorted(cache["runs"]) == ["local-0", "s3-lan-0"]
    assert cache["problems"].keys() == {"s3-real"}  # n/a as before: no bucket named
    bench = S3VersusLocal()
    for storage in ("local", "s3-lan"):
        seconds = bench.track_seconds_per_sample(cache, storage, 0)
        assert seconds["number"] == 1 and len(seconds["samples"]) == 2  # one per process
        assert all(0 < s < 60 for s in seconds["samples"])
        assert len(bench.track_warm_batch(cache, storage, 0)["samples"]) == 2
    with pytest.raises(NotImplementedError, match="RADIBENCH_S3_URI"):
        bench.setup(cache, "s3-real", 0)
    assert serving(cache["s3_data_dir"]) == []  # the runs' server and proxy are gone


def test_a_storage_whose_runs_failed_fails_its_timings_only(storage_cache):
    cache = pickle.loads(storage_cache.read_bytes())
    cache["bucket"] = "no-such-bucket"  # the children read a bucket the server does not hold
    prepare_storage.run_protocols(cache, ["local", "s3-lan"], workers=[0], rounds=2)

    assert len(cache["runs"]["local-0"]) == 2
    assert len(cache["runs"]["s3-lan-0"]) == 1  # failed once, not run again
    kind, message = cache["problems"]["s3-lan-0"]
    assert kind == "failed" and "protocol for radiobject failed" in message
    bench = S3VersusLocal()
    bench.setup(cache, "s3-lan", 0)  # the storage itself is readable: counts still run
    with pytest.raises(RuntimeError, match="protocol for radiobject failed"):
        S3VersusLocal.track_seconds_per_sample.setup(cache, "s3-lan", 0)


def test_a_server_that_does_not_start_fails_the_s3_timings_only(storage_cache, monkeypatch):
    cache = pickle.loads(storage_cache.read_bytes())
    monkeypatch.setenv("RADIBENCH_WEED", "/bin/false")  # a "server" that exits at once
    prepare_storage.run_protocols(cache, ["local", "s3-lan"], workers=[0], rounds=1)

    assert len(cache["runs"]["local-0"]) == 1 and "s3-lan-0" not in cache["runs"]
    kind, message = cache["problems"]["s3-lan"]
    assert kind == "failed" and "starting the local S3 failed" in message
    with pytest.raises(RuntimeError, match="starting the local S3 failed"):
        S3VersusLocal.track_seconds_per_sample.setup(cache, "s3-lan", 0)
    assert S3VersusLocal().track_seconds_per_sample(cache, "local", 0) > 0
