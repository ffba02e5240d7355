"""The dashboard's first view: the summary page `asv publish` writes as index.html.

On small literal results (tests/results_files.py): the gated counts' history reads as levels with
each step labelled by its commit; metrics are told apart as counts and timings; a PyPI release's
counts sit beside the reference results of its upstream commit, or the page says why they cannot.
On the recipes fixture published by asv itself (asv.html.conf.json, as `make html` runs it): the
summary's sentences are the ones `make bench` prints and the report writes, asv's dashboard moved
to asv.html links back, and in headless Chromium a link to index.html#<benchmark> reaches asv's
graph and the report link shows once a report sits beside the page.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import serving
from results_files import write_results

from radibench.asv_plugins import summary_page
from radibench.asv_plugins.html_check import check_html
from radibench.tools import asv_results, report
from radibench.tools.asv_results import Value
from radibench.tools.report import history, markdown, summary
from radibench.tools.source import RELEASE_COMMITS

ROOT = Path(__file__).resolve().parents[1]
RECIPES_FIXTURE = ROOT / "tests" / "fixtures" / "asv_results_recipes"
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
TILES = "counts.PerBatch.track_tiles_per_batch"
HEADS = "counts.S3PerBatch.track_head_requests_per_batch"
DAY = 86_400_000  # ms
A, B, C = "a" * 40, "b" * 40, "c" * 40


def text(page: str) -> str:
    """What a reader sees of the page: tags dropped, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page)))


def counts(tiles, heads, version="counts-1-default") -> dict:
    return {
        TILES: {
            "param_names": ["framework"],
            "values": {("radiobject",): tiles},
            "unit": "tiles",
            "version": version,
        },
        HEADS: {
            "param_names": ["framework"],
            "values": {("radiobject",): heads},
            "unit": "requests",
            "version": "s3-" + version,
        },
    }


def test_levels_step_beyond_the_gates_factor_and_where_measuring_starts():
    points = [
        ("c1", Value(100.0)),
        ("c2", Value(101.5)),  # within 2% of 100: the same level
        ("c3", Value(103.0)),  # 3% over the level's first value: a step
        ("c4", Value(None, outcome="n/a")),
        ("c5", Value(None, outcome="n/a")),
        ("c6", Value(103.0)),
    ]
    found = history.levels(points)
    assert [(lv.first, lv.last, lv.commits) for lv in found] == [
        ("c1", "c2", 2),
        ("c3", "c3", 1),
        ("c4", "c5", 2),
        ("c6", "c6", 1),
    ]
    assert (found[0].value, found[0].low, found[0].high) == (100.0, 100.0, 101.5)
    assert found[2].outcome == "n/a" and found[2].value is None
    assert history.levels([("c1", Value(0.0)), ("c2", Value(1.0))])[1].first == "c2"


def test_metrics_are_told_apart_as_counts_timings_memory_and_ratios():
    assert history.kind(TILES, "tiles") == history.COUNT
    assert history.kind("loaders.BytesRead.track_bytes_per_batch", "bytes") == history.COUNT
    assert history.kind("ingest.DiskSpace.track_bytes_per_volume", "bytes") == history.COUNT
    assert history.kind("loaders.WarmBatch.time_warm_batch", "seconds") == history.TIME
    assert history.kind("loaders.Memory.peakmem_training", "bytes") == history.MEMORY
    assert history.kind("storage.S3VersusLocal.track_seconds_per_sample", "seconds") == "time"
    assert history.kind("access.VersusPeers.track_relative_cost", "ratio") == history.RATIO
    assert history.is_gated_count(TILES) and not history.is_gated_count("counts.PerBatch")


def literal_history(results: Path) -> Path:
    """Three commits on one machine: the head requests step from 4 to 8 at the third."""
    write_results(results, counts(30.0, 4.0), A, 10 * DAY)
    write_results(results, counts(30.0, 4.0), B, 11 * DAY)
    write_results(results, counts(30.0, 8.0), C, 12 * DAY)
    return results


def render(results: Path, tags=None, reference=None) -> str:
    return summary_page.render(
        results,
        asv_results.benchmarks_json(results),
        tags=tags or {},
        commit_url="https://github.com/srdsam/RadiObject/commit/",
        reference=reference,
    )


def test_the_counts_history_labels_each_step_with_its_commit(tmp_path):
    page = render(literal_history(tmp_path / "results"), tags={"v9.9": C})
    seen = text(page)
    assert "tiles (radiobject) tiles aaaaaaaa (1970-01-11) – cccccccc (1970-01-13) v9.9 " in seen
    assert "3 commits 30" in seen
    assert "head requests (radiobject) requests aaaaaaaa (1970-01-11) – bbbbbbbb" in seen
    assert "cccccccc (1970-01-13) v9.9 1 commit 8 ×2" in seen
    assert f'href="https://github.com/srdsam/RadiObject/commit/{C}"' in page
    assert f'href="asv.html#{HEADS}?machine=test-machine"' in page  # its graph
    # No recipes: said, not left blank; the legend names both counts as counts.
    assert markdown.NO_RECIPES.capitalize() in seen
    legend = seen.split("what each metric is", 1)[1]
    assert "Counts, not timings" in legend and TILES in legend and HEADS in legend


def reference_and_release(tmp_path: Path, version: str) -> tuple[Path, Path, str]:
    """results/ (the reference) holding upstream's v0.1.1 commit, and results-pypi/ holding
    this history's v0.1.1 (another hash), measured on `version`'s dataset."""
    upstream = RELEASE_COMMITS["v0.1.1"]
    reference = write_results(
        tmp_path / "results", counts(30.0, 8.0), upstream, 5 * DAY, "reference-machine"
    )
    ours = "d" * 40
    pypi = write_results(tmp_path / "results-pypi", counts(30.0, 4.0, version), ours, 6 * DAY)
    return reference, pypi, ours


def test_a_release_sits_beside_the_reference_of_its_upstream_commit(tmp_path):
    reference, pypi, ours = reference_and_release(tmp_path, "counts-1-default")
    assert summary_page.reference_results(pypi) == reference.resolve()
    assert summary_page.reference_results(reference) is None
    seen = text(render(pypi, tags={"v0.1.1": ours}, reference=reference))
    assert "v0.1.1: commit dddddddd here, 798d7768 upstream" in seen
    assert "different hashes in different histories" in seen
    assert "their timings are not joined: timings compare only on one host" in seen
    assert "Yours: test-machine (Linux). Reference: reference-machine (Linux)." in seen
    assert "tiles (radiobject) tiles 30 30 the same" in seen
    assert "head requests (radiobject) requests 4 8 differs: ×0.5" in seen


def test_a_release_on_other_data_says_why_it_cannot_be_joined(tmp_path):
    reference, pypi, ours = reference_and_release(tmp_path, "counts-1-quick")
    seen = text(render(pypi, tags={"v0.1.1": ours}, reference=reference))
    assert (
        "None of the counts can be compared: measured on other data (quick here, default "
        "there)." in seen
    )
    assert "tiles (radiobject) tiles 30 30 not comparable" in seen
    assert "30 30 the same" not in seen


def test_no_reference_section_without_a_release_of_another_history(tmp_path):
    reference, pypi, _ = reference_and_release(tmp_path, "counts-1-default")
    assert "beside the reference" not in render(pypi, tags={}, reference=reference)
    upstream = RELEASE_COMMITS["v0.1.1"]  # the same hash: the graphs already join them
    assert "beside the reference" not in render(pypi, {"v0.1.1": upstream}, reference)


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
    """The recipes fixture published as `make html` does; its html/."""
    where = tmp_path_factory.mktemp("summary")
    shutil.copy(ROOT / "asv.html.conf.json", where)
    shutil.copytree(RECIPES_FIXTURE, where / "results", ignore=shutil.ignore_patterns("*.py"))
    done = make_html(where)
    assert done.returncode == 0, done.stdout + done.stderr
    return where / "html"


def test_the_summary_says_what_make_bench_prints(published):
    page = (published / "index.html").read_text()
    seen = text(page)
    run = asv_results.newest_run(published.parent / "results")
    said = markdown.answer(summary.summarize(run))
    assert len(said) > 5  # the fixture has recipes: a headline and regimes
    for line in said[1:]:
        assert line.strip() in seen, line
    assert "Headline: RadiObject against each peer's best recipe" in seen
    assert f"RadiObject {run.commit[:8]}" in seen


def test_asv_dashboard_moves_to_asv_html_and_links_back(published):
    asv_page = (published / "asv.html").read_text()
    assert summary_page.BACK_LINK in asv_page
    assert 'src="vendor/jquery/dist/jquery.min.js"' in asv_page  # its assets vendored
    assert summary_page.GENERATOR in (published / "index.html").read_text()
    assert check_html(published.parent / "results", published) == []


def test_a_summary_not_of_these_results_makes_html_stale(published, tmp_path):
    shutil.copytree(published.parent / "results", tmp_path / "results")
    shutil.copytree(published, tmp_path / "html")
    page = tmp_path / "html" / "index.html"
    page.write_text(page.read_text().replace("RadiObject faster", "the peer faster", 1))
    (problem,) = check_html(tmp_path / "results", tmp_path / "html")
    assert "index.html is not the summary page of" in problem and "make html" in problem


@pytest.mark.browser
def test_the_summary_in_chromium(published):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run .ci/install-browser (CI runs it)")
    from playwright.sync_api import sync_playwright

    report.build_report(published.parent / "results", published / "report")
    benchmark = "recipes.Recipes.track_epoch_seconds_per_sample"
    errors, hosts = [], set()
    ARTIFACTS.mkdir(exist_ok=True)
    with serving(published) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname))
            page.goto(url, wait_until="networkidle")
            assert page.locator("h1").inner_text() == "RadiObject versus MONAI and TorchIO"
            page.wait_for_selector("#summary-report:not([hidden])", timeout=10_000)
            page.screenshot(path=str(ARTIFACTS / "summary-fixture.png"), full_page=True)
            headline = page.locator("#summary-machine-fixture-machine ul").first.inner_text()

            page.goto(f"{url}#{benchmark}", wait_until="load")  # an old link to asv's graph
            page.wait_for_url(f"{url}{summary_page.ASV_PAGE}#{benchmark}", timeout=10_000)
            page.wait_for_function("() => $('#main-graph').data('plot')", timeout=30_000)
            page.click("#nav-li-summary-page a")  # asv's menu leads back
            page.wait_for_selector("h1")
            assert urlsplit(page.url).path == "/index.html"
        finally:
            browser.close()
    assert errors == [] and hosts == {"127.0.0.1"}, (errors, hosts)
    summary_json = json.loads((published / "report" / "summary.json").read_text())
    first = summary_json["recipes"]["headline"][0]
    assert f"{first['peer_best']}) at {first['workers']} workers" in headline


def test_the_worker_paths_instructions_are_not_named_as_the_per_batch_ones():
    from radibench.asv_plugins.summary_page import _count_name

    assert _count_name("counts.PerBatch.track_instructions_per_batch") == "instructions"
    assert _count_name("counts.WorkerPath.track_instructions") == "instructions, worker path"
