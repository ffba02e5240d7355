"""One real `asv run`: a fresh virtualenv, RadiObject built from the PyPI-release history, every
benchmark of the quick profile executed. --dry-run, so nothing is written to results/."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from radibench.tools import source

ROOT = Path(__file__).resolve().parent.parent
# The study's suite and ingest. The other modules (storage, scaling: spawned workers; access:
# ~75 processes) cost many minutes here; tests/test_{s3,netem,access,scaling}.py cover them.
SUITE = r"^(loaders|ingest)\."


@pytest.mark.slow
def test_asv_runs_the_suite_on_the_newest_release(
    tmp_path, quick, data_root, keeps_the_chosen_source
):
    prepared = source.prepare(pypi=True, say=lambda m: None)
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "HOME": str(tmp_path),  # asv's machine file goes here, not into the user's home
        "RADIBENCH_PROFILE": "quick",
        "RADIBENCH_DATA": str(data_root),
        "RADIBENCH_MACHINE": "radibench-test",
    }
    subprocess.run([str(bin_dir / "radibench"), "machine"], env=env, check=True, cwd=ROOT)
    before = sorted(p.relative_to(ROOT) for p in (ROOT / "results").rglob("*"))
    proc = subprocess.run(
        [
            str(bin_dir / "asv"),
            "--config",
            prepared.config,
            "run",
            "--quick",
            "--dry-run",
            "--show-stderr",
            "-b",
            SUITE,
            "--machine",
            "radibench-test",
            f"{prepared.newest()}^!",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-5000:]
    assert "failed" not in output, output[-5000:]
    for name in [
        "TrainingLoader.track_seconds_per_sample",
        "WarmBatch.time_warm_batch",
        "ColdStart.time_first_batch",
        "Memory.peakmem_training",
        "TrainingLoader.track_peak_memory_hwm",
        "RadiObjectVersusPeers.track_relative_cost",
    ]:
        assert name in output  # asv shortens a long name from the left: "...rs.RadiObject..."
    assert sorted(p.relative_to(ROOT) for p in (ROOT / "results").rglob("*")) == before
