"""The command blocks of README.md and docs/ run as written on a clean clone, offline, on the
quick profile.

A new user copies these blocks; each one is taken from its page and run by bash in a fresh
`git clone` of this repository with its own `make venv`. Only what cannot run unattended in a
test is changed, and each change is listed here:
- placeholders (`/data/LIDC-IDRI-subset`, `<the folder it prints>`, `<name>`) become a DICOM
  folder made from the quick dataset and what `radibench data` printed;
- every `$ASV run` gets `--quick -b <one benchmark>`: the whole suite per commit takes far
  longer than a test may (the suite itself runs for real in test_asv_run and test_gating);
- the dashboard server runs in the background on a free port until its index.html answers.
Every ```sh block of these pages is either run here or listed in NOT_RUN with the reason.
asv's environments come from the main checkout's .asv (a cache, built by the other asv tests).
No network beyond the package registries is used: without GitHub, `radibench source` builds
RadiObject's history from its PyPI releases, and the blocks must still work.
"""

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ONE_BENCHMARK = r"^ingest\.DiskSpace"
PAGES = ["README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))]
# (page, heading) of the blocks the tests below run.
DASHBOARD = ("README.md", "The dashboard")
RUNNING_LOCALLY = ("docs/running.md", "Running locally")
YOUR_OWN_DATA = ("docs/data.md", "Your own data (for example a LIDC-IDRI subset)")
# The blocks no test runs, and what running them would take.
NOT_RUN = {
    ("README.md", "Quick start (a fresh machine)"): "the whole suite, and this test suite itself",
    ("docs/history.md", "Running the whole history"): "every commit of RadiObject's history",
    ("docs/history.md", "Past one machine: shards"): "several runners' results",
    ("docs/gate.md", "Comparing commits, and the pull-request check"): (
        "two branches of a RadiObject clone; tests/test_gating.py runs the check"
    ),
    ("docs/gate.md", "Since which commit: bisecting a count"): (
        "RadiObject's upstream history (offline here: its PyPI releases); tests/test_bisect.py"
    ),
    ("docs/s3.md", "Against a real S3 bucket"): "a real bucket and its keys",
    ("docs/status.md", "Status of the suite over RadiObject's whole history"): (
        "the record of how that table was measured (hours)"
    ),
    ("docs/status.md", "The releases and HEAD: the whole suite but recipes and scaling"): (
        "the record of how those results were measured"
    ),
}
# A fenced block, or a heading outside one.
FENCE_OR_HEADING = re.compile(r"^```(\w*)\n(.*?)^```|^#{1,6} ([^\n]+)$", re.MULTILINE | re.DOTALL)


def sh_blocks(page: str) -> dict[str, list[str]]:
    """{heading: the ```sh blocks under it} of one page."""
    found: dict[str, list[str]] = {}
    heading = ""
    for match in FENCE_OR_HEADING.finditer((ROOT / page).read_text()):
        if match[3] is not None:
            heading = match[3]
        elif match[1] == "sh":
            found.setdefault(heading, []).append(match[2])
    return found


def blocks(page: str, section: str) -> list[str]:
    """The ```sh blocks of one section of a page."""
    return sh_blocks(page).get(section, [])


def test_every_command_block_is_run_or_says_why():
    found = {(page, heading) for page in PAGES for heading in sh_blocks(page)}
    assert found == {DASHBOARD, RUNNING_LOCALLY, YOUR_OWN_DATA, *NOT_RUN}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_test_runs_it(block: str, **values: str) -> str:
    """The block with the listed substitutions (see the module docstring)."""
    for placeholder, value in values.items():
        block = block.replace(placeholder, value)
    out = []
    for line in block.replace("\\\n", " ").splitlines():
        if line.startswith("$ASV run "):
            line = line.replace("$ASV run ", f"$ASV run --quick -b '{ONE_BENCHMARK}' ", 1)
        if " -m http.server " in line:
            port = free_port()
            line = line.replace(" 8080", f" {port}").split("#")[0] + " &"
            line += (
                f"\nfor _ in $(seq 50); do curl -sf http://127.0.0.1:{port}/index.html"
                " >/dev/null && break; sleep 0.2; done"
                f"\ncurl -sf http://127.0.0.1:{port}/index.json >/dev/null; kill $!"
            )
        out.append(line)
    return "set -euo pipefail\n" + "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def clone(tmp_path_factory, data_root):
    """A clean clone of this commit with its own .venv, as a new user makes it."""
    where = tmp_path_factory.mktemp("readme")
    repo = where / "radibench"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(repo)], check=True)
    if (ROOT / ".asv").is_dir():
        (repo / ".asv").symlink_to(ROOT / ".asv")
    env = {
        # The clone's own radibench, not one a PYTHONPATH of this checkout would put first.
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("RADIBENCH_", "VIRTUAL")) and k != "PYTHONPATH"
        },
        "HOME": str(where / "home"),  # asv's machine file goes here
        "RADIBENCH_PROFILE": "quick",
        "RADIBENCH_DATA": str(data_root),
        "RADIBENCH_MACHINE": "readme-test",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    (where / "home").mkdir()
    subprocess.run(["make", "venv"], cwd=repo, env=env, check=True, capture_output=True)
    return repo, env


def run(clone, script: str, timeout: int = 1500) -> str:
    repo, env = clone
    proc = subprocess.run(
        ["bash", "-c", script], cwd=repo, env=env, capture_output=True, text=True, timeout=timeout
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{script}\n--- exit {proc.returncode}\n{out[-4000:]}"
    return out


@pytest.mark.slow
def test_dashboard_block_serves_the_committed_dashboard(clone):
    (block,) = blocks(*DASHBOARD)
    run(clone, as_test_runs_it(block))


@pytest.mark.slow
def test_running_locally_works_offline(clone):
    (block,) = blocks(*RUNNING_LOCALLY)
    out = run(clone, as_test_runs_it(block))
    repo, _ = clone
    config = (repo / ".radibench" / "source.json").read_text()
    results = repo / ("results-pypi" if '"pypi"' in config else "results") / "readme-test"
    assert len(list(results.glob("*-env-*.json"))) >= 1, out[-3000:]
    html = repo / ("html-pypi" if '"pypi"' in config else "html")
    assert (html / "index.html").is_file()
    assert "Traceback" not in out, out[-3000:]


@pytest.mark.slow
def test_your_own_data_block_imports_lists_and_removes(clone, quick, tmp_path):
    folder = tmp_path / "LIDC-IDRI-subset"
    for n, series in enumerate(sorted((quick.root / "dicom").iterdir()), start=1):
        shutil.copytree(series, folder / f"patient{n}")
    (block,) = blocks(*YOUR_OWN_DATA)
    first = block.split("export ", 1)[0]
    out = run(clone, as_test_runs_it(first, **{"/data/LIDC-IDRI-subset": str(folder)}))
    assert "training cohort: 4 subjects" in out and "patient1" in out, out
    dataset = re.search(r"RADIBENCH_DATASET=(\S+)", out)[1]
    name = Path(dataset).name
    out = run(
        clone,
        as_test_runs_it(
            block,
            **{
                "/data/LIDC-IDRI-subset": str(folder),
                "<the folder it prints>": dataset,
                "<name>": name,
            },
        ),
    )
    assert f"removed {name}" in out and name in out.split("removed")[0], out
    assert not Path(dataset).exists()
