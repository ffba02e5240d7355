"""Nightly runs survive what real machines do to them (issue 8, items 4 and 5).

One `asv run` over a local RadiObject history (the real 0.1.1 release, a commit whose package
fails to import, a commit that fails to build, the repair) is SIGKILLed in the middle, as a CI
timeout or the OOM killer would. Then: every results file is valid, no benchmark process is left
behind, and the same command with --skip-existing finishes the rest without redoing what was
done. In the finished results, both broken commits show as failed and the range went on past them.
Canary credentials in the environment of both runs appear in no result, log or published page.
"""

import json
import os
import signal
import subprocess
import time

import psutil
import pytest

from radibench.tools import results_check, status
from radibench.tools.local_history import Workspace, commit, release_repo

BENCHMARK = "^loaders.TrainingLoader.track_seconds_per_sample"
MARKER = "RADIBENCH_TEST_INTERRUPTED"  # finds this test's benchmark processes by environment
# Credentials a CI runner might hold; none may reach results/, html/ or the logs.
CANARIES = {
    "AWS_ACCESS_KEY_ID": "AKIA" + "CANARYRUN7Q3XW00",
    "AWS_SECRET_ACCESS_KEY": "canaryRunSecret/DoNotLeak+1b2d3f",
    "AWS_SESSION_TOKEN": "canaryRunSessionToken0123456789abcdef",
    "GITHUB_TOKEN": "ghp_" + "canaryRunToken0123456789abcdefABCD",
}


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    repo = tmp_path_factory.mktemp("radiobject-history")
    commits = {"base": release_repo(repo)}
    init = "src/radiobject/__init__.py"
    commits["no-import"] = commit(
        repo,
        "Import a module that is not there",
        init,
        lambda t: "from radiobject._not_there import helper  # noqa\n" + t,
    )
    commits["no-build"] = commit(
        repo, "Break pyproject.toml", "pyproject.toml", lambda t: t.replace("[project]", "[project")
    )
    git_revert = {
        init: lambda t: t.replace("from radiobject._not_there import helper  # noqa\n", ""),
        "pyproject.toml": lambda t: t.replace("[project\n", "[project]\n"),
    }
    for path, edit in git_revert.items():
        commits["repaired"] = commit(repo, f"Repair {path}", path, edit)
    return repo, commits


def our_processes(marker_value: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get(MARKER) == marker_value:
                found.append(proc)
        except psutil.Error:
            continue
    return found


def benchmark_running(marker_value: str) -> bool:
    """Whether asv is running a benchmark (a `benchmark.py run` process) for this test."""
    for proc in our_processes(marker_value):
        try:
            if "benchmark.py" in " ".join(proc.cmdline()):
                return True
        except psutil.Error:
            continue
    return False


def _kept(path) -> bool:
    """Files of results/, html/ and logs (not the RadiObject sources the test made)."""
    return (
        path.is_file()
        and path.parts[-1] != "asv.conf.json"
        and "radiobject-history" not in str(path)
    )


def result_files(workspace) -> dict[str, dict]:
    files = sorted(workspace.results.glob("*-*.json"))
    return {json.loads(p.read_text())["commit_hash"]: json.loads(p.read_text()) for p in files}


@pytest.mark.slow
def test_killed_run_resumes_and_broken_commits_show_as_failed(history, tmp_path, quick, data_root):
    repo, commits = history
    order = [commits[k] for k in ["base", "no-import", "no-build", "repaired"]]
    (tmp_path / "commits.txt").write_text("\n".join(order) + "\n")
    workspace = Workspace(
        repo, tmp_path, data_root, "interrupted", **{MARKER: str(tmp_path)}, **CANARIES
    )
    run = ["run", "--show-stderr", "--machine", "interrupted", "-b", BENCHMARK]
    run += ["--skip-existing", f"HASHFILE:{tmp_path / 'commits.txt'}"]

    # Kill asv (SIGKILL, no chance to clean up) while a benchmark of the second commit runs.
    log = tmp_path / "killed-run.log"
    with log.open("w") as out:
        asv = subprocess.Popen(
            workspace.command(*run),
            cwd=tmp_path,
            env=workspace.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 900
    try:
        while time.monotonic() < deadline and asv.poll() is None:
            done = result_files(workspace) if workspace.results.is_dir() else {}
            if commits["base"] in done and benchmark_running(str(tmp_path)):
                break
            time.sleep(0.2)
        assert asv.poll() is None, f"asv ended before the kill:\n{log.read_text()[-3000:]}"
        os.killpg(asv.pid, signal.SIGKILL)
    finally:
        asv.wait(30)
    first = workspace.results / next(workspace.results.glob(f"{commits['base'][:8]}-*.json"))
    first_bytes = first.read_bytes()

    # What the benchmark process started dies with asv; results/ is whole and checkable.
    deadline = time.monotonic() + 15
    while our_processes(str(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not our_processes(str(tmp_path)), "benchmark processes outlived the killed asv"
    assert results_check.check_results(workspace.results.parent) == []

    # The same command with --skip-existing finishes the range and leaves the first commit be.
    proc = workspace.asv(*run)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output[-4000:]  # asv run: 2 when a benchmark failed
    assert first.read_bytes() == first_bytes
    assert results_check.check_results(workspace.results.parent) == []
    done = result_files(workspace)
    assert set(done) == set(order), output[-4000:]

    outcomes = {s.commit: s.counts[BENCHMARK.strip("^")] for s in status.read(workspace.results)}
    # RadiObject measured (TrainingLoader is RadiObject's alone; the peers are StudyPeers) ...
    assert outcomes[commits["base"]] == {"ok": 1, "n/a": 0, "failed": 0}
    assert outcomes[commits["repaired"]] == {"ok": 1, "n/a": 0, "failed": 0}
    # ... failed, not n/a, where the package does not import: a broken commit is no API era ...
    assert outcomes[commits["no-import"]] == {"ok": 0, "n/a": 0, "failed": 1}
    # ... and nothing could run where it does not build.
    assert outcomes[commits["no-build"]] == {"ok": 0, "n/a": 0, "failed": 1}
    # What the user reads in the log of either run: the reason, not just "failed".
    logs = log.read_text() + output
    assert "radiobject fails to import at this commit" in logs and "_not_there" in logs
    assert "TOMLDecodeError" in logs  # pip's build error for the commit that does not build

    # The dashboard of these results; no canary anywhere in what a run leaves behind.
    published = workspace.asv("publish")
    assert published.returncode == 0, published.stdout + published.stderr
    texts = [logs, published.stdout + published.stderr]
    texts += [p.read_text(errors="replace") for p in tmp_path.rglob("*") if _kept(p)]
    assert len(texts) > 10
    for name, canary in CANARIES.items():
        assert not any(canary in text for text in texts), f"{name} leaked"
