"""`asv continuous` catches a real slowdown of RadiObject's patch reads and nothing else.

A local RadiObject history is built from the real 0.1.1 release plus three commits to its source:
(b) a comment only, (a) a patch loader that reads one patch of every four twice (about +25% reads,
as a careless validation would), (c) the fix of (a). Each pair is gated exactly as the PR check
gates (same factor, same benchmarks), on the quick profile with RadiObject only.
"""

import re

import pytest

from radibench.suite import GATED
from radibench.tools.local_history import LOADER, READ, Workspace, commit, release_with_noop

# The PR check's factor (suite.GATE_FACTOR) was chosen on the default profile; this test runs the
# quick one, whose 4x shorter warm batches are relatively noisier, so it proves the mechanism
# with a looser factor.
FACTOR = "1.1"
SLOW_READ = (
    READ
    + """            if idx % 4 == 0:  # re-read to validate the patch: the regression under test
                vol.slice(
                    slice(start[0], start[0] + patch_size[0]),
                    slice(start[1], start[1] + patch_size[1]),
                    slice(start[2], start[2] + patch_size[2]),
                )
"""
)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    repo = tmp_path_factory.mktemp("radiobject-history")
    commits = release_with_noop(repo)  # checks that 0.1.1's loader reads as READ says
    commits["slow"] = commit(repo, "Validate patches", LOADER, lambda t: t.replace(READ, SLOW_READ))
    commits["fixed"] = commit(
        repo, "Drop the re-read", LOADER, lambda t: t.replace(SLOW_READ, READ)
    )
    return repo, commits


@pytest.fixture(scope="module")
def continuous(history, tmp_path_factory, quick, data_root):
    repo, commits = history
    workspace = Workspace(repo, tmp_path_factory.mktemp("gate"), data_root, "gate")

    def run(base, head):
        proc = workspace.asv(
            "continuous",
            "--factor",
            FACTOR,
            "--split",
            "--show-stderr",
            "--machine",
            "gate",
            "-b",
            GATED,
            commits[base],
            commits[head],
        )
        return proc.returncode, proc.stdout + proc.stderr

    return run


def decreased(output):
    """The benchmarks asv marks `+` (a significant slowdown) in its compare table."""
    rows = [line for line in output.splitlines() if re.match(r"\s*\|\s*\+\s*\|", line)]
    return {name for row in rows for name in re.findall(r"loaders\.\w+\.\w+", row)}


@pytest.mark.slow
def test_a_real_slowdown_fails_the_check(continuous):
    code, output = continuous("release", "slow")
    assert code == 1, output[-4000:]
    assert "loaders.WarmBatch.time_warm_batch" in decreased(output), output[-4000:]


@pytest.mark.slow
def test_a_change_that_costs_nothing_passes(continuous):
    code, output = continuous("release", "noop")
    assert code == 0, output[-4000:]
    assert not decreased(output)


@pytest.mark.slow
def test_a_speedup_never_fails(continuous):
    code, output = continuous("slow", "fixed")
    assert code == 0, output[-4000:]
    assert not decreased(output)
