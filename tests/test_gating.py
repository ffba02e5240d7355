"""The pull-request gate catches each kind of regression with the metric made for it, and passes
identical code.

A local RadiObject history is built from the real 0.1.1 release plus commits to its source whose
effect is known: a comment only; a patch loader that reads one patch in four twice (an I/O
increase, about +25% bytes, as a careless validation would); a loader that computes an unused
statistic of every patch (CPU only: no byte more is read); one that copies every patch
needlessly (the verdict must name the copy: where the instructions went); and a renamed
training-loader function (an API break). Each pair runs as pr-check.yml runs it: `asv
continuous` at the suite's wall-time factor, then `radibench gate`, which judges every gated
metric at its own factor (radibench.suite.GATES). Quick profile, RadiObject only; to bound CI
time each comparison runs the gated benchmarks that matter to it. The no-op is judged on every
noise-free count; whether the wall time raises false alarms is a rate, measured by the precision
study (docs/precision.md), not something one A/A comparison can pass or fail.
"""

import re
import subprocess

import pytest

from radibench.suite import (
    COUNT_FACTOR,
    GATE_FACTOR,
    GATE_PROCESSES,
    GATED,
    GATES,
    INSTRUCTIONS_FACTOR,
    WORKER_PATH_FACTOR,
)
from radibench.tools.local_history import (
    BIN,
    LOADER,
    ML,
    READ,
    Workspace,
    branch,
    copies,
    cpu_work,
    release_with_noop,
    rename_training_loader,
    reread,
)

WALL = r"loaders\.WarmBatch\.time_warm_batch"
BYTES = r"loaders\.BytesRead\.track_bytes_per_batch"
TILES = r"counts\.PerBatch\.track_tiles_per_batch"
INSTRUCTIONS = r"counts\.PerBatch\.track_instructions_per_batch"
S3_GETS = r"counts\.S3PerBatch\.track_get_requests_per_batch"
COUNTS = [p for p in GATES if p != WALL]


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    repo = tmp_path_factory.mktemp("radiobject-history")
    commits = release_with_noop(repo)  # checks that 0.1.1's loader reads as READ says
    release = commits["release"]
    for name, message, path, edit in [
        ("io", "Validate patches", LOADER, lambda t: t.replace(READ, reread(4))),
        ("cpu", "Patch statistics", LOADER, lambda t: t.replace(READ, cpu_work(1))),
        ("copy", "Copy each patch", LOADER, lambda t: t.replace(READ, copies(1))),
        ("api", "Rename the training loader", ML, rename_training_loader),
    ]:
        commits[name] = branch(repo, release, name, message, path, edit)
    return repo, commits


@pytest.fixture(scope="module")
def check(history, tmp_path_factory, quick, data_root):
    """`asv continuous` then `radibench gate`, as pr-check.yml runs them, each pair in a results
    folder of its own (both commits measured with the same benchmarks, as in a PR check), the
    instruction count's profiles kept in its profiles/; the gate judges the gated metrics that
    asv ran (`--bench`): one it did not run would fail it."""
    repo, commits = history

    def run(base, head, *gates):
        work = tmp_path_factory.mktemp("gate")
        profiles = str(work / "profiles")
        workspace = Workspace(
            repo,
            work,
            data_root,
            "gate",
            RADIBENCH_PROFILES=profiles,
            RADIBENCH_PROCESSES=GATE_PROCESSES,
        )
        bench = "|".join(gates) or GATED
        proc = workspace.asv(
            "continuous",
            "--factor",
            GATE_FACTOR,
            "--split",
            "--show-stderr",
            "--machine",
            "gate",
            "-b",
            bench,
            commits[base],
            commits[head],
        )
        verdict = subprocess.run(
            [
                str(BIN / "radibench"),
                "gate",
                "--machine",
                "gate",
                "--asv-exit",
                str(proc.returncode),
                "--bench",
                bench,
                "--profiles",
                profiles,
                commits[base],
                commits[head],
            ],
            cwd=workspace.work,
            env=workspace.env,
            capture_output=True,
            text=True,
        )
        assert verdict.returncode in (0, 1), verdict.stdout + verdict.stderr
        return verdict.returncode, verdict.stdout, proc.stdout[-4000:]

    return run


def flagged(verdict: str) -> set[str]:
    """Benchmarks the verdict lists as worse, failed or broken."""
    return {
        name for mark, name in re.findall(r"^\| (worse|failed|broken) \| `([\w.]+)", verdict, re.M)
    }


def test_the_gate_uses_the_suites_factors():
    assert GATES[WALL] == GATE_FACTOR and GATES[BYTES] == COUNT_FACTOR
    assert GATES[INSTRUCTIONS] == INSTRUCTIONS_FACTOR
    assert GATES[r"counts\.WorkerPath\.track_instructions"] == WORKER_PATH_FACTOR


@pytest.mark.slow
def test_an_io_increase_is_caught_by_the_counters(check):
    code, verdict, log = check("release", "io", WALL, BYTES, TILES)
    assert code == 1, verdict + log
    assert {"loaders.BytesRead.track_bytes_per_batch", TILES.replace("\\", "")} <= flagged(
        verdict
    ), verdict


@pytest.mark.slow
def test_an_io_increase_on_s3_is_traced_to_the_volume_arrays(check):
    """The re-read reopens a volume array on S3: more GETs per batch, and the verdict says
    they, and the bytes, went to the collection's volume arrays."""
    code, verdict, log = check("release", "io", S3_GETS)
    assert code == 1, verdict + log
    assert flagged(verdict) == {S3_GETS.replace("\\", "")}, verdict
    assert "### Which arrays" in verdict and "No S3 request counts" not in verdict, verdict
    (volumes,) = [r for r in verdict.splitlines() if r.startswith("| `") and "/volumes/<n>`" in r]
    get, _head, _list, other, read = volumes.split(" | ")[1:6]
    assert "→" in get and "→" in read and other == "0", volumes  # more GETs, more bytes


@pytest.mark.slow
def test_a_cpu_only_slowdown_is_caught_by_the_instruction_count(check):
    code, verdict, log = check("release", "cpu", BYTES, INSTRUCTIONS)
    assert code == 1, verdict + log
    assert flagged(verdict) == {INSTRUCTIONS.replace("\\", "")}, verdict  # not one byte more


@pytest.mark.slow
def test_a_needless_copy_is_caught_by_instructions_and_the_verdict_names_it(check):
    """One copy of each 64^3 patch (about 1% of a batch; the earlier factor 1.02 let it pass):
    the verdict says the instructions went to libc's memcpy through numpy's np.array
    (array_array), called from RadiObject's _get_patch_item, read from both commits' kept
    profiles."""
    code, verdict, log = check("release", "copy", INSTRUCTIONS)
    assert code == 1, verdict + log
    assert flagged(verdict) == {INSTRUCTIONS.replace("\\", "")}, verdict
    assert "### Where the instructions went" in verdict and "No profile" not in verdict, verdict
    where = verdict.split("### Where the instructions went", 1)[-1]
    c_functions, python_calls = where.split("Python calls per batch", 1)
    first = c_functions.split("|---|---|---|---|---|", 1)[1].strip().splitlines()[0]
    assert "memcpy" in first or "memmove" in first, where
    assert "`array_array` < `Python`" in first, where
    numpy_array = next(r for r in python_calls.splitlines() if "numpy.array" in r)
    assert "| +4 |" in numpy_array, where  # a copy of each of the batch's 4 patches
    assert "radiobject/ml/datasets/collection_dataset.py" in numpy_array, where
    assert "_get_patch_item` (+4)" in numpy_array, where


@pytest.mark.slow
def test_an_api_break_is_not_a_pass(check):
    code, verdict, log = check("release", "api", WALL, BYTES)
    assert code == 1, verdict + log
    assert "loaders.BytesRead.track_bytes_per_batch" in flagged(verdict), verdict
    assert "| broken (reported, not gated) | `loaders.WarmBatch" in verdict, verdict
    assert "at the head" in verdict


@pytest.mark.slow
def test_a_change_that_costs_nothing_passes(check):
    """Needs valgrind and the S3 server binary: a count measured at neither commit fails."""
    code, verdict, log = check("release", "noop", *COUNTS)
    assert code == 0, verdict + log
    assert not flagged(verdict)
    assert "passed" in verdict.splitlines()[0]
