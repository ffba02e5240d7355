"""`asv publish` with radibench's dashboard plugin, on the committed fixture results.

Why: asv's stock html loads its libraries from CDNs and shows an error page offline; these tests
check that the plugin vendors them (from pinned, verified npm tarballs), that publish degrades to
a warning when they cannot be fetched, and, in a real headless Chromium, that the dashboard renders
with no request leaving loopback.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import serving

from radibench.asv_plugins import dashboard

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "asv_results"
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FRAMEWORKS = ["radiobject", "monai", "torchio", "torchio_queue"]
EXPECTED_BENCHMARKS = {
    f"loaders.TrainingLoader.{m}"
    for m in (
        "time_first_batch",
        "time_warm_batch",
        "track_seconds_per_sample",
        "track_epoch_seconds",
        "peakmem_training",
        "track_rss_delta",
    )
} | {"loaders.RadiObjectVersusPeers.track_relative_cost"}
EXPECTED_BENCHMARKS |= {
    f"storage.S3VersusLocal.{m}"
    for m in (
        "time_first_batch",
        "time_warm_batch",
        "track_seconds_per_sample",
        "track_requests_per_batch",
        "track_bytes_per_batch",
    )
}


@functools.cache
def fixture_generator():
    """The fixture's generate.py, loaded by path so it works whatever tests/ is on sys.path."""
    spec = importlib.util.spec_from_file_location("asv_fixture_generate", FIXTURE / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fixture_commits() -> set[str]:
    return {
        json.loads(path.read_text())["commit_hash"]
        for path in FIXTURE.glob("*/*.json")
        if path.name != "machine.json"
    }


def asv_project(where: Path, **config) -> Path:
    """A throwaway asv project over the fixture repo and a copy of the fixture results."""
    gen = fixture_generator()
    repo = where / "repo"
    if not repo.exists():
        gen.build_repo(repo)
    results = where / "results"
    if not results.exists():
        shutil.copytree(FIXTURE, results, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    plugins = [".radibench.asv_plugins.dashboard"]
    conf = gen.asv_config(repo, results, where / "html", plugins=plugins, **config)
    path = where / "asv.conf.json"
    path.write_text(json.dumps(conf, indent=4))
    return path


def asv_publish(config: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `asv publish` as users do (a subprocess), with radibench importable as the plugin."""
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    asv = Path(sys.executable).with_name("asv")
    return subprocess.run(
        [str(asv), "publish", "--config", str(config), "--no-pull"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> tuple[Path, str]:
    """The fixture results published once with the plugin: (html dir, asv's output)."""
    where = tmp_path_factory.mktemp("publish")
    done = asv_publish(asv_project(where))
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return where / "html", output


def test_fixture_repo_rebuilds_the_committed_commits(tmp_path):
    hashes = fixture_generator().build_repo(tmp_path / "repo")
    assert len(hashes) >= 3
    assert set(hashes) == fixture_commits()


def test_publish_vendors_assets_and_lists_benchmarks(published):
    html, output = published
    assert "needs internet" not in output
    index = json.loads((html / "index.json").read_text())
    assert set(index["benchmarks"]) == EXPECTED_BENCHMARKS
    assert set(index["revision_to_hash"].values()) == fixture_commits()
    assert index["params"]["machine"] == ["fixture-machine"]
    page = (html / "asv.html").read_text()  # asv's page, moved aside for the summary page
    _, remote = dashboard.rewrite_html(page)
    assert remote == []
    assert "integrity=" not in page and "//cdn" not in page
    for name, (package, inner) in dashboard.LOCAL_FILES.items():
        assert f'"vendor/{package}/{inner}"' in page, name
        assert (html / "vendor" / package / inner).stat().st_size > 1000, name
    fonts = html / "vendor" / "bootstrap" / "dist" / "fonts"
    assert (fonts / "glyphicons-halflings-regular.woff").is_file()
    graphs = list((html / "graphs" / "branch-main").rglob("*.json"))
    assert {g.stem for g in graphs} >= EXPECTED_BENCHMARKS
    assert all("machine-fixture-machine" in g.parts for g in graphs)


def test_publish_without_registry_warns_and_succeeds(tmp_path):
    """Offline (registry unreachable, empty cache): publish works and says it needs internet."""
    config = asv_project(tmp_path)
    done = asv_publish(
        config,
        RADIBENCH_ASSET_CACHE=str(tmp_path / "empty-cache"),
        npm_config_registry="http://127.0.0.1:9/",
        npm_config_cache=str(tmp_path / "npm-cache"),
        npm_config_offline="false",
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "needs internet" in output
    html = tmp_path / "html"
    assert (html / "index.json").is_file()
    assert not (html / "vendor").exists()
    assert "integrity=" in (html / "asv.html").read_text()  # left as asv wrote it


def test_rewrite_html_drops_cdn_attributes_and_reports_unknown_urls():
    page = (
        '<script src="https://cdn.example/ajax/libs/flot/0.8.3/jquery.flot.min.js" '
        'integrity="sha512-x" crossorigin="anonymous" referrerpolicy="no-referrer" '
        'onerror="f()"></script>\n'
        '<link rel="stylesheet" href="//cdn.example/bootstrap@3.1.1/dist/css/bootstrap.min.css" '
        "crossorigin>\n"
        '<script src="https://cdn.example/unknown.js"></script>\n'
        '<a href="https://example.org/">a link, not a load</a>\n'
        '<script src="asv.js"></script>'
    )
    text, remote = dashboard.rewrite_html(page, prefix="../vendor")
    assert '<script src="../vendor/flot/jquery.flot.js" onerror="f()"></script>' in text
    assert '<link rel="stylesheet" href="../vendor/bootstrap/dist/css/bootstrap.min.css">' in text
    assert remote == ["https://cdn.example/unknown.js"]
    assert '<a href="https://example.org/">' in text and '<script src="asv.js">' in text


def test_thumbnails_draw_what_was_measured_at_each_commit():
    """One machine measured before and after a kernel update: two graphs of one benchmark
    (asv keys graphs by os). asv's summary blends them; ours draws each commit's own value."""
    from asv.graph import GraphSet, make_summary_graph

    graphs = GraphSet()
    before = graphs.get_graph("loaders.T.track", {"machine": "m", "os": "Linux 6.1"})
    after = graphs.get_graph("loaders.T.track", {"machine": "m", "os": "Linux 6.2"})
    for revision, value in ((1, 20.0), (3, 22.0), (5, 24.0)):
        before.add_data_point(revision, value)
    after.add_data_point(2, 30.0)
    after.add_data_point(4, float("nan"))  # n/a there: nothing measured at revision 4
    blended = {x: y for x, y, _ in make_summary_graph([before, after]).get_data()}
    assert blended[2] != 30.0  # asv: 21.0 (interpolated) averaged with 30.0

    (summary,) = dashboard.summaries_by_commit(graphs)
    assert summary.params == {"summary": ""}
    assert {x: y for x, y, _ in summary.get_data()} == {1: 20.0, 2: 30.0, 3: 22.0, 4: None, 5: 24.0}


def segments(data: list) -> tuple[list, list]:
    """(lines drawn, lone points) of flot line data: runs of points between nulls."""
    runs, run = [], []
    for point in [*data, None]:
        if point is None:
            runs.append(run) if run else None
            run = []
        else:
            run.append((round(point[0], 9), point[1]))  # x: slot arithmetic in floats
    return [tuple(r) for r in runs if len(r) > 1], [r[0] for r in runs if len(r) == 1]


def test_one_commit_thumbnail_draws_each_combination_with_its_interval():
    """Combinations left to right: a tick at the value, a bar over the 99% interval when one
    was recorded, nothing for n/a; two machines side by side in each combination's slot."""
    nan = float("nan")
    one = [[(2.0, 1.5, 2.5), (nan, None, None), (4.0, None, None), (None, None, None)]]
    lines, lone = segments(dashboard.per_parameter_thumbnail(one))
    assert lines == [((-0.3, 2.0), (0.3, 2.0)), ((0.0, 1.5), (0.0, 2.5)), ((1.7, 4.0), (2.3, 4.0))]
    assert [x for x, _ in lone] == [-0.5, 3.5]  # the frame: every slot, failed ones too
    assert [y for _, y in lone] == [4.0 * dashboard.THUMB_HEADROOM] * 2  # room above the top

    two = [[(1.0, None, None)], [(3.0, 2.0, 4.0)]]
    lines, _ = segments(dashboard.per_parameter_thumbnail(two))
    assert lines == [
        ((-0.4, 1.0), (-0.1, 1.0)),
        ((0.1, 3.0), (0.4, 3.0)),
        ((0.25, 2.0), (0.25, 4.0)),
    ]
    assert dashboard.per_parameter_thumbnail([[(None, None, None)]]) == []


def test_make_html_draws_one_commit_benchmarks_from_their_results(tmp_path):
    """The recipes fixture holds one commit: each thumbnail shows every combination's value
    (and 99% interval for the time_ benchmarks), not asv's empty box."""
    from radibench.tools import asv_results

    fixture = ROOT / "tests" / "fixtures" / "asv_results_recipes"
    shutil.copy(ROOT / "asv.html.conf.json", tmp_path)
    shutil.copytree(fixture, tmp_path / "results")
    done = asv_publish(tmp_path / "asv.html.conf.json")
    assert done.returncode == 0, done.stdout + done.stderr
    (run,) = asv_results.read_folder(tmp_path / "results" / "fixture-machine")
    measured = {name: list(bench.values.values()) for name, bench in run.benchmarks.items()}
    summaries = tmp_path / "html" / "graphs" / "summary"
    drawn = {}
    for name in ("loaders.TrainingLoader.time_warm_batch", "recipes.Cohorts.track_cache_build"):
        lines, _ = segments(json.loads((summaries / f"{name}.json").read_text()))
        ticks = [a[1] for a, b in lines if a[1] == b[1]]
        bars = [(a[1], b[1]) for a, b in lines if a[0] == b[0]]
        values = [v.number for v in measured[name] if not v.missing]
        assert ticks == values, name
        assert bars == [(v.low, v.high) for v in measured[name] if v.has_interval]
        drawn[name] = (len(ticks), len(bars))
    assert drawn == {
        "loaders.TrainingLoader.time_warm_batch": (3, 3),  # 3 frameworks, each its interval
        "recipes.Cohorts.track_cache_build": (14, 0),  # track_: none; 1 of 15 n/a
    }
    assert len(json.loads((tmp_path / "html" / "index.json").read_text())["benchmarks"]) > 10


def test_every_cdn_file_maps_to_a_published_asset_file():
    packages = {asset.package: asset for asset in dashboard.ASSETS}
    for package, inner in dashboard.LOCAL_FILES.values():
        assert inner in packages[package].files


def _tarball(path: Path, content: bytes) -> Path:
    member = path.parent / "package.json"
    member.write_bytes(content)
    with tarfile.open(path, "w:gz") as tar:
        tar.add(member, arcname="package/package.json")
    return path


def test_tampered_tarball_is_rejected_and_not_cached(tmp_path, monkeypatch):
    asset = dashboard.Asset("jquery", "3.3.1", dashboard.ASSETS[0].integrity, ("package.json",))

    def fake_pack(specs, dest):
        assert specs == ["jquery@3.3.1"]
        _tarball(dest / asset.tarball, b'{"name": "jquery", "evil": true}')

    monkeypatch.setattr(dashboard, "_npm_pack", fake_pack)
    with pytest.raises(dashboard.AssetError, match="does not match"):
        dashboard.fetch_assets(tmp_path / "cache", (asset,))
    assert not (tmp_path / "cache" / asset.tarball).exists()


def test_verified_tarball_is_cached_and_reused(tmp_path, monkeypatch):
    good = _tarball(tmp_path / "good.tgz", b'{"name": "demo"}')
    asset = dashboard.Asset("demo", "1.0.0", dashboard.sri(good.read_bytes()), ("package.json",))
    calls = []

    def fake_pack(specs, dest):
        calls.append(specs)
        shutil.copy(good, dest / asset.tarball)

    monkeypatch.setattr(dashboard, "_npm_pack", fake_pack)
    first = dashboard.fetch_assets(tmp_path / "cache", (asset,))
    second = dashboard.fetch_assets(tmp_path / "cache", (asset,))
    assert first == second == {"demo": tmp_path / "cache" / asset.tarball}
    assert calls == [["demo@1.0.0"]]
    written = dashboard.install_assets(tmp_path / "html", first, (asset,))
    assert written == [tmp_path / "html" / "vendor" / "demo" / "package.json"]


@pytest.fixture
def served(published):
    """The published html on an ephemeral loopback port (never all interfaces)."""
    html, _ = published
    with serving(html) as url:
        yield url


@pytest.mark.browser
def test_dashboard_renders_offline_in_chromium(served):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run .ci/install-browser (CI runs it)")
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    errors: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            # Recorded above, then refused: a broken plugin must fail this test, not go online.
            page.route(
                "**/*",
                lambda route: (
                    route.continue_()
                    if urlsplit(route.request.url).hostname == "127.0.0.1"
                    else route.abort()
                ),
            )
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            page.goto(served + "asv.html", wait_until="load")
            assert not page.url.endswith("error.html"), "asv's 'failed to load' page was shown"
            page.wait_for_selector(".benchmark-container", timeout=30_000)
            names = page.locator(".benchmark-text").all_inner_texts()
            assert any("time_warm_batch" in name for name in names), names
            assert page.locator(".benchmark-container").count() >= len(EXPECTED_BENCHMARKS)
            page.screenshot(path=str(ARTIFACTS / "dashboard-grid.png"))

            page.goto(served + "asv.html#loaders.TrainingLoader.time_warm_batch", wait_until="load")
            page.wait_for_selector("#main-graph canvas", timeout=30_000)
            page.wait_for_function(
                "() => { const p = $('#main-graph').data('plot');"
                " return p && p.getData().length > 0; }",
                timeout=30_000,
            )
            series = page.evaluate(
                "() => $('#main-graph').data('plot').getData()"
                ".map(s => ({label: s.label || '', xs: s.data.map(d => d[0]),"
                " ys: s.data.map(d => d[1])}))"
            )
            legend = " ".join(page.locator("#main-graph .legendLabel").all_inner_texts())
            page.screenshot(path=str(ARTIFACTS / "dashboard-graph.png"))
        finally:
            browser.close()

    assert errors == [], errors
    for framework in FRAMEWORKS:
        assert framework in legend, legend
    plotted = [s for s in series if any(y is not None for y in s["ys"])]
    assert len(plotted) >= len(FRAMEWORKS), series
    commits = {x for s in plotted for x, y in zip(s["xs"], s["ys"], strict=True) if y is not None}
    assert len(commits) >= 3, series
    hosts = {urlsplit(url).hostname for url in requests if not url.startswith("data:")}
    assert hosts == {"127.0.0.1"}, sorted(requests)
    assert (ARTIFACTS / "dashboard-graph.png").stat().st_size > 10_000


def test_npm_errors_are_reported_by_cause_not_log_path():
    output = (
        "npm error code E404\n"
        "npm error 404 Not Found - GET http://127.0.0.1:9/nope - Not found\n"
        "npm error A complete log of this run can be found in: somewhere.log\n"
    )
    assert (
        dashboard._npm_error(output)
        == "E404 404 Not Found - GET http://127.0.0.1:9/nope - Not found"
    )
    assert dashboard._npm_error("") == "unknown error"
