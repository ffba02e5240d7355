"""`make html` rebuilds the dashboard from results/ alone; `radibench check-html` fails when it
is stale. The fixture results (tests/fixtures/asv_results: 4 commits, one machine) are published
with the committed asv.html.conf.json by asv itself, with no RadiObject history anywhere; then
copies of results/ are changed the ways a stale html/ comes about."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from radibench import cli
from radibench.asv_plugins.html_check import check_html
from radibench.asv_plugins.results_history import ResultsHistory
from radibench.tools.source import RELEASE_COMMITS

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "asv_results"
MACHINE = "fixture-machine"
BENCHMARK = "loaders.TrainingLoader.track_seconds_per_sample"  # parametrised by framework
FIX = "make html"


def make_html(where: Path) -> subprocess.CompletedProcess[str]:
    """What `make html` runs, in a folder holding asv.html.conf.json and results/."""
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "0"}
    asv = Path(sys.executable).with_name("asv")
    return subprocess.run(
        [str(asv), "--config", str(where / "asv.html.conf.json"), "publish"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """A folder with the committed asv.html.conf.json, the fixture results and html/ made
    from them; nothing else (no git repository)."""
    where = tmp_path_factory.mktemp("make-html")
    shutil.copy(ROOT / "asv.html.conf.json", where)
    shutil.copytree(FIXTURE, where / "results", ignore=shutil.ignore_patterns("*.py"))
    done = make_html(where)
    assert done.returncode == 0, done.stdout + done.stderr
    return where


@pytest.fixture
def copy(published, tmp_path) -> Path:
    shutil.copytree(published / "results", tmp_path / "results")
    shutil.copytree(published / "html", tmp_path / "html")
    return tmp_path


def result_files(results: Path) -> list[Path]:
    return sorted((results / MACHINE).glob("*-*.json"))


def test_make_html_shows_every_commit_in_date_order_without_a_history(published):
    index = json.loads((published / "html" / "index.json").read_text())
    dated = {}
    for path in result_files(published / "results"):
        data = json.loads(path.read_text())
        dated[data["commit_hash"]] = data["date"]
    by_revision = [index["revision_to_hash"][r] for r in sorted(index["revision_to_hash"], key=int)]
    assert by_revision == sorted(dated, key=dated.get)
    assert index["revision_to_date"] == {str(i): dated[c] for i, c in enumerate(by_revision)}
    assert index["tags"] == {}  # the fixture's commits are no RadiObject release
    assert check_html(published / "results", published / "html") == []


def test_check_html_command_passes_on_a_fresh_publish(published, capsys):
    argv = ["check-html", "--results", str(published / "results"), "--html"]
    assert cli.main([*argv, str(published / "html")]) == 0
    assert "shows exactly" in capsys.readouterr().out


def test_a_new_results_file_makes_html_stale(copy, capsys):
    newest = result_files(copy / "results")[-1]
    data = json.loads(newest.read_text())
    data["commit_hash"] = "abcdef01" * 5
    data["date"] += 86_400_000
    (newest.parent / newest.name.replace(newest.name[:8], "abcdef01")).write_text(json.dumps(data))
    argv = ["check-html", "--results", str(copy / "results"), "--html", str(copy / "html")]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert "does not show 1 commits of" in err and "abcdef01" in err and FIX in err


def test_a_changed_value_makes_html_stale(copy):
    path = result_files(copy / "results")[0]
    data = json.loads(path.read_text())
    at = data["result_columns"].index("result")
    data["results"][BENCHMARK][at][0] *= 2  # re-measured: same commits, same benchmarks
    path.write_text(json.dumps(data))
    (problem,) = check_html(copy / "results", copy / "html")
    assert "graphs do not hold the values" in problem and BENCHMARK in problem
    assert data["commit_hash"][:8] in problem and FIX in problem


def test_a_removed_benchmark_makes_html_stale(copy):
    for path in result_files(copy / "results"):
        data = json.loads(path.read_text())
        del data["results"][BENCHMARK]
        path.write_text(json.dumps(data))
    (problem,) = check_html(copy / "results", copy / "html")
    assert f"shows 1 benchmarks that {copy / 'results'} does not hold: {BENCHMARK}" in problem


def test_a_renamed_unit_makes_html_stale(copy):
    listing = copy / "results" / "benchmarks.json"
    benchmarks = json.loads(listing.read_text())
    benchmarks[BENCHMARK]["unit"] = "samples/s"
    listing.write_text(json.dumps(benchmarks))
    (problem,) = check_html(copy / "results", copy / "html")
    assert "older results/benchmarks.json" in problem and BENCHMARK in problem


def test_a_dashboard_needing_the_internet_fails(copy):
    page = copy / "html" / "index.html"
    page.write_text(
        page.read_text().replace(
            "<head>", '<head><script src="https://cdn.example/jquery.min.js"></script>', 1
        )
    )
    (problem,) = check_html(copy / "results", copy / "html")
    assert "https://cdn.example/jquery.min.js from the internet" in problem


def test_no_html_fails_naming_the_command(tmp_path):
    (problem,) = check_html(FIXTURE, tmp_path / "html")
    assert "index.json cannot be read" in problem and FIX in problem


def literal_results(folder: Path, dates: dict[str, int]) -> Path:
    """A results folder of empty results files, one per {commit: date}."""
    (folder / "m").mkdir(parents=True)
    for commit, date in dates.items():
        (folder / "m" / f"{commit[:8]}-env.json").write_text(
            json.dumps({"commit_hash": commit, "date": date, "params": {"machine": "m"}})
        )
    return folder


def test_results_history_orders_by_date_and_tags_measured_releases(tmp_path):
    v011 = RELEASE_COMMITS["v0.1.1"]
    older, newer = "1" * 40, "2" * 40
    repo = ResultsHistory(str(literal_results(tmp_path, {newer: 30, v011: 20, older: 10})), "x")
    assert repo.get_revisions({older, newer, v011}) == {older: 0, v011: 1, newer: 2}
    assert repo.get_tags() == {"v0.1.1": v011}  # v0.1.0's commit was not measured
    assert repo.get_date_from_name(v011) == 20 == repo.get_date_from_name("v0.1.1")
    assert repo.get_branch_commits("main") == [newer, v011, older]
    # A step between two measured commits is never narrowed to one commit: results cannot tell
    # whether unmeasured commits lie between.
    assert repo.get_hashes_from_range(repo.get_range_spec(v011, newer)) == [newer, v011]
