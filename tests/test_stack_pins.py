"""The stack held fixed: every commit installs under the matrix's pins, or fails saying why.

asv itself runs the real build and install commands of asv.conf.json (the same strings, the real
requirements/bench.txt as constraints) on a throw-away history of a tiny fake "radiobject": a
commit that needs what the pins allow, one that raises its numpy floor past the pin, and one
that needs what the pins allow again. The matrix is cut to the one pinned package the fake needs
(numpy), so the environment builds in seconds. Checked: the floor-raising commit is `failed`
with pip's conflict, naming numpy, in the log, and the pin never moves; the others measure;
beside each measured results file lies what pip listed (radibench/asv_plugins/
installed_versions.py), holding the pins, and `radibench check-results` refuses a list that
does not.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from radibench.tools import results_check

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BENCHMARK = "bench.track_imports"

PYPROJECT = """[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "radiobject"
version = "{version}"
dependencies = ["{dependency}"]

[tool.hatch.build.targets.wheel]
packages = ["src/radiobject"]
"""
SUITE = '''
def track_imports():
    """1 when this commit's radiobject imports (a number means it installed)."""
    import radiobject

    return float(radiobject.OK)
'''


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t"}
    env.update(GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    proc = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()


def fake_commit(repo: Path, version: str, dependency: str) -> str:
    (repo / "pyproject.toml").write_text(PYPROJECT.format(version=version, dependency=dependency))
    package = repo / "src" / "radiobject"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("OK = 1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", f"radiobject {version} needs {dependency}")
    return git(repo, "rev-parse", "HEAD")


def load_conf() -> dict:
    text = (ROOT / "asv.conf.json").read_text()
    return json.loads(re.sub(r"^\s*//.*$", "", text, flags=re.MULTILINE))


@pytest.mark.slow
def test_a_commit_that_needs_another_pinned_version_fails_and_the_pins_hold(tmp_path):
    started = time.monotonic()
    conf = load_conf()
    pin = conf["matrix"]["req"]["numpy"]
    repo = tmp_path / "fake-radiobject"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commits = {
        "fits": fake_commit(repo, "0.0.1", "numpy>=1.20"),
        "floor-raised": fake_commit(repo, "0.0.2", "numpy>99"),
        "fits-again": fake_commit(repo, "0.0.3", "numpy>=1.20"),
    }
    (tmp_path / "commits.txt").write_text("\n".join(commits.values()) + "\n")

    # The real commands and constraints; only the repository, folders and matrix are the test's.
    (tmp_path / "requirements").mkdir()
    shutil.copy(ROOT / "requirements" / "bench.txt", tmp_path / "requirements" / "bench.txt")
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "__init__.py").write_text("")
    (tmp_path / "benchmarks" / "bench.py").write_text(SUITE)
    conf.update(
        repo=str(repo),
        benchmark_dir="benchmarks",
        env_dir=str(tmp_path / "env"),
        results_dir=str(tmp_path / "results"),
        html_dir=str(tmp_path / "html"),
        matrix={"req": {"numpy": pin}},
        plugins=[p for p in conf["plugins"] if not p.endswith(".dashboard")],
    )
    (tmp_path / "asv.conf.json").write_text(json.dumps(conf))
    env = {**os.environ, "HOME": str(tmp_path)}
    asv = [str(BIN / "asv"), "--config", str(tmp_path / "asv.conf.json")]
    subprocess.run(
        [*asv, "machine", "--yes", "--machine", "pins"], env=env, check=True, capture_output=True
    )
    proc = subprocess.run(
        [*asv, "run", "--machine", "pins", "--show-stderr", "-b", BENCHMARK]
        + [f"HASHFILE:{tmp_path / 'commits.txt'}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 2, log[-4000:]  # asv run: 2 when a benchmark failed
    lines = log.splitlines()
    at = next(i for i, line in enumerate(lines) if "conflict is caused by" in line.lower())
    print("\n".join(lines[at - 2 : at + 4]))

    # The floor-raising commit: pip's own reason, naming numpy and the pin it would have moved.
    assert re.search(r"ResolutionImpossible|conflict", log), log[-4000:]
    assert "numpy>99" in log and f"numpy=={pin}" in log, log[-4000:]

    folder = tmp_path / "results" / "pins"
    values = {}
    for path in folder.glob("*-*.json"):
        data = json.loads(path.read_text())
        values[data["commit_hash"]] = data["results"][BENCHMARK][0]
    # A measured number (asv keeps a list of one), and null: failed, not n/a.
    assert values == {
        commits["fits"]: [1.0],
        commits["floor-raised"]: None,
        commits["fits-again"]: [1.0],
    }

    # What was installed, beside each measured results file: the pin held, before and after.
    listed = {}
    for path in folder.glob("*.installed.txt"):
        commit = re.search(r"^# commit (\w+)$", path.read_text(), re.MULTILINE).group(1)
        listed[commit] = dict(
            line.split("==") for line in path.read_text().splitlines() if "==" in line
        )
    assert set(listed) == {commits["fits"], commits["fits-again"]}  # none where install failed
    assert listed[commits["fits"]]["numpy"] == pin == listed[commits["fits-again"]]["numpy"]
    assert listed[commits["fits"]]["radiobject"] == "0.0.1"
    assert listed[commits["fits-again"]]["radiobject"] == "0.0.3"
    assert results_check.check_results(tmp_path / "results") == []

    # A list that contradicts the pins its results claim is refused.
    sidecar = next(folder.glob(f"{commits['fits'][:8]}-*.installed.txt"))
    sidecar.write_text(sidecar.read_text().replace(f"numpy=={pin}", "numpy==9.9.9"))
    (problem,) = results_check.check_results(tmp_path / "results")
    assert f"numpy 9.9.9 was installed, the results claim {pin}" in problem
    print(f"asv over 3 commits: {time.monotonic() - started:.0f} s")
