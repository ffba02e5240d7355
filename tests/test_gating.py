"""`asv continuous` catches a real slowdown of RadiObject's patch reads and nothing else.

A local RadiObject history is built from the real 0.1.1 release plus three commits to its source:
(b) a comment only, (a) a patch loader that reads one patch of every four twice (about +25% reads,
as a careless validation would), (c) the fix of (a). Each pair is gated exactly as the PR check
gates (same factor, same benchmarks), on the quick profile with RadiObject only.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from radibench import source

ROOT = Path(__file__).resolve().parent.parent
FACTOR = "1.1"
GATED = "loaders.WarmBatch.time_warm_batch|loaders.TrainingLoader.track_seconds_per_sample"
LOADER = "src/radiobject/ml/datasets/collection_dataset.py"
READ = """            patch = vol.slice(
                slice(start[0], start[0] + patch_size[0]),
                slice(start[1], start[1] + patch_size[1]),
                slice(start[2], start[2] + patch_size[2]),
            )
"""
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


def git(repo, *args):
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    return source.git(*args, cwd=repo, env=env).strip()


def commit(repo, message, edit=None):
    if edit:
        path = repo / LOADER
        path.write_text(edit(path.read_text()))
    git(repo, "commit", "-qam", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    repo = tmp_path_factory.mktemp("radiobject-history")
    git(repo, "init", "-q", "-b", "main")
    with tempfile.TemporaryDirectory() as tmp:
        source._add_release(repo, source._download_sdist("0.1.1", Path(tmp)), "0.1.1")
    assert READ in (repo / LOADER).read_text(), "0.1.1's patch loader is not as expected"
    commits = {"base": git(repo, "rev-parse", "HEAD")}
    commits["noop"] = commit(
        repo,
        "Reword a comment",
        lambda t: t.replace(
            '"""Load a random patch from the volume."""', '"""Load one random patch."""'
        ),
    )
    commits["slow"] = commit(repo, "Validate patches", lambda t: t.replace(READ, SLOW_READ))
    commits["fixed"] = commit(repo, "Drop the re-read", lambda t: t.replace(SLOW_READ, READ))
    return repo, commits


@pytest.fixture(scope="module")
def continuous(history, tmp_path_factory, quick, data_root):
    repo, commits = history
    work = tmp_path_factory.mktemp("gate")
    text = re.sub(r"^\s*//.*$", "", (ROOT / "asv.conf.json").read_text(), flags=re.MULTILINE)
    conf = json.loads(text)
    conf.update(
        repo=str(repo),
        benchmark_dir=str(ROOT / "benchmarks"),
        env_dir=str(ROOT / ".asv" / "env"),
        results_dir=str(work / "results"),
        html_dir=str(work / "html"),
        plugins=[],
    )
    (work / "asv.conf.json").write_text(json.dumps(conf))
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "HOME": str(work),
        "RADIBENCH_PROFILE": "quick",
        "RADIBENCH_DATA": str(data_root),
        "RADIBENCH_FRAMEWORKS": "radiobject",
        "RADIBENCH_MACHINE": "gate",
    }
    subprocess.run([str(bin_dir / "radibench"), "machine"], env=env, check=True)

    def run(base, head):
        proc = subprocess.run(
            [
                str(bin_dir / "asv"),
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
            ],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        print(proc.stdout[-3000:])
        return proc.returncode, proc.stdout + proc.stderr

    return run


def decreased(output):
    """The benchmarks asv marks `+` (a significant slowdown) in its compare table."""
    rows = [line for line in output.splitlines() if re.match(r"\s*\|\s*\+\s*\|", line)]
    return {name for row in rows for name in re.findall(r"loaders\.\w+\.\w+", row)}


@pytest.mark.slow
def test_a_real_slowdown_fails_the_check(continuous):
    code, output = continuous("base", "slow")
    assert code == 1, output[-4000:]
    assert "loaders.WarmBatch.time_warm_batch" in decreased(output), output[-4000:]


@pytest.mark.slow
def test_a_change_that_costs_nothing_passes(continuous):
    code, output = continuous("base", "noop")
    assert code == 0, output[-4000:]
    assert not decreased(output)


@pytest.mark.slow
def test_a_speedup_never_fails(continuous):
    code, output = continuous("slow", "fixed")
    assert code == 0, output[-4000:]
    assert not decreased(output)
