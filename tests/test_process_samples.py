"""A recipe's timings reach asv as one sample per fresh process, and asv stores their median with
its 99% interval, as it does for a time_ benchmark: checked with a real `asv run` on a tiny
project whose benchmark returns what radibench.prepare.recipes.result gives a track_ method."""

import json
import os
import subprocess
import sys
from pathlib import Path

from radibench.tools import asv_results

# Five processes' runs of one recipe, as setup_cache records them (only what result() reads).
RUN = {"first_batch_mismatches": 0, "distinct_patches": 8.0, "subjects": 4, "hwm_unread": 0}
SECONDS = [0.010, 0.012, 0.011, 0.013, 0.009]
BENCHMARK = f"""
from radibench.prepare import recipes

RUNS = [dict({RUN!r}, **{{k: s for k in recipes.TIMED}}) for s in {SECONDS!r}]
CACHE = {{"subjects": 4, "problems": {{}}, "runs": {{"radiobject-0-4": RUNS}}}}


class Recipes:
    def track_seconds_per_sample(self):
        return recipes.result(CACHE, "radiobject", 0)["seconds_per_sample"]

    def track_first_batch_mismatches(self):
        return recipes.result(CACHE, "radiobject", 0)["first_batch_mismatches"]
"""


def test_per_process_samples_become_a_median_with_an_interval(tmp_path):
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "__init__.py").write_text("")
    (tmp_path / "benchmarks" / "bench_recipes.py").write_text(BENCHMARK)
    config = {"version": 1, "project": "t", "repo": ".", "environment_type": "virtualenv"}
    config.update(benchmark_dir="benchmarks", results_dir="results", html_dir="html")
    (tmp_path / "asv.conf.json").write_text(json.dumps(config))
    git = ["git", "-c", "user.email=t@example.org", "-c", "user.name=t"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "tiny project"]):
        subprocess.run([*git, *args], cwd=tmp_path, check=True)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tmp_path, check=True, capture_output=True, text=True
    ).stdout.strip()
    asv = str(Path(sys.executable).parent / "asv")
    env = {**os.environ, "HOME": str(tmp_path)}
    subprocess.run([asv, "machine", "--yes", "--machine", "m"], cwd=tmp_path, env=env, check=True)
    proc = subprocess.run(
        [asv, "run", "--python=same", "--machine", "m", "--set-commit-hash", head],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run,) = asv_results.read_folder(tmp_path / "results" / "m")
    timing = run.benchmarks["bench_recipes.Recipes.track_seconds_per_sample"].value()
    assert timing.number == sorted(SECONDS)[2] and timing.samples == len(SECONDS)
    assert timing.low < min(SECONDS) and timing.high > max(SECONDS)  # 5 processes: wide
    count = run.benchmarks["bench_recipes.Recipes.track_first_batch_mismatches"].value()
    assert (count.number, count.has_interval) == (0, False)
