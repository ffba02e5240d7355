"""The committed results/ on the dashboard, read at a glance, in headless Chromium.

Why: RadiObject is measured at every commit, its peers (MONAI, TorchIO) only at HEAD and the
releases. In one benchmark the peers made the grid's thumbnail (asv's mean over parameters) step
at HEAD and set the graph's y axis (~0.7 s) with RadiObject's ~20 ms line flat along the bottom;
and no release was marked. This publishes a copy of the committed results with the suite's
current benchmark list (as `asv run` then `asv publish` would) and the offline dashboard plugin,
over RadiObject's history as `radibench source` prepares it (release tags included), serves it on
127.0.0.1 and checks: (a) the grid's training-throughput thumbnail is RadiObject's own values,
no parameter measured only at HEAD feeding it; (b) that graph's y axis is set by RadiObject's
values; (c) the release commits are tagged on the graph; (d) each benchmark measured at one
commit (the recipes) is drawn in the grid: a tick per measured value, where asv's line through
one point left an empty box. Screenshots of the grid and the graph go to artifacts/, which CI
uploads.

Without RadiObject's history (no asv mirror, upstream unreachable: offline CI), the results are
published over a stand-in history: one empty commit per measured commit, same order and dates,
the releases tagged on the commits standing in for theirs. The values are the committed ones.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import serving

from radibench import suite
from radibench.asv_plugins.results_history import measured_commits, result_files
from radibench.tools import source

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
CHROMIUM_ARGS += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]
THROUGHPUT = "loaders.TrainingLoader.track_seconds_per_sample"
RADIOBJECT = ("'radiobject'",)  # its parameter combination, as asv stores it
# How far above RadiObject's largest value the y axis may reach (asv draws up to 1.3 x the
# largest plotted value; a peer's dot would put it ~40 x higher).
AXIS_FACTOR = 1.5
# What the suite's current benchmark list is made of, as `asv run` writes benchmarks.json.
DISCOVER = """
import sys
import asv.plugin_manager  # noqa: F401 - registers asv's environment types
from asv import environment
from asv.benchmarks import Benchmarks
from asv.config import Config
from asv.repo import get_repo

conf = Config.load(sys.argv[1])
conf.dvcs = "none"
envs = list(environment.get_environments(conf, ["existing:same"]))
Benchmarks.discover(conf, get_repo(conf), envs, []).save()
"""


def committed_results(dest: Path) -> None:
    """Copy results/'s machine folders as committed (git's list; every file without git), not
    benchmarks.json: discovery writes the suite's current one."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", "results"], cwd=ROOT, capture_output=True, text=True
    )
    if listed.returncode == 0 and listed.stdout:
        files = [ROOT / p for p in listed.stdout.split("\0") if p]
    else:
        files = [p for p in RESULTS.rglob("*") if p.is_file()]
    for path in files:
        relative = path.relative_to(RESULTS)
        if len(relative.parts) == 2 and path.suffix == ".json" and path.is_file():
            (dest / relative.parent).mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest / relative)


def profile_of(results: Path) -> str:
    """The profile the results were measured on, from the dataset their versions end with."""
    for path in result_files(results):
        data = json.loads(path.read_text())
        column = data["result_columns"].index("version")
        row = data["results"].get(THROUGHPUT)
        if row is not None:
            found = suite.DATASET_ID.search(row[column])
            if found and not found["id"].startswith("custom"):
                return found["id"]
    pytest.skip(f"no committed {THROUGHPUT} result measured on a generated profile")


def has_commits(git_dir: Path, commits) -> bool:
    return all(
        subprocess.run(
            ["git", "--git-dir", str(git_dir), "cat-file", "-e", f"{c}^{{commit}}"],
            capture_output=True,
        ).returncode
        == 0
        for c in commits
    )


def radiobject_history(where: Path, commits) -> Path | None:
    """RadiObject's history holding `commits`, prepared (and tagged) by `radibench source` in
    `where`: from asv's mirror when it has them, else from upstream when it answers."""
    layout = source.Layout(where)
    mirror = ROOT / "radiobject"
    attempts = []
    if (mirror / "HEAD").is_file() and has_commits(mirror, commits):
        attempts.append(lambda: source.prepare(local=mirror, say=print, layout=layout))
    attempts.append(
        lambda: (
            source.prepare(say=print, layout=layout) if source.reachable(source.UPSTREAM) else None
        )
    )
    for attempt in attempts:
        try:
            prepared = attempt()
        except source.SourceError as exc:
            print(f"history: {exc}")
            continue
        if (
            prepared is not None
            and prepared.kind != "pypi"
            and has_commits(prepared.git_dir, commits)
        ):
            return prepared.git_dir
    return None


def stand_in_history(repo: Path, results: Path) -> Path:
    """One empty commit per measured commit, in date order and with its date; the results copy
    rewritten onto them and the releases tagged on the commits standing in for theirs."""
    git = functools.partial(source.git, cwd=repo)
    repo.mkdir()
    git("init", "--quiet", "--initial-branch", source.BRANCH)
    stand_in = {}
    for commit, date in sorted(measured_commits(results).items(), key=lambda item: item[1]):
        stamp = f"@{date // 1000} +0000"
        env = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
        env |= {
            f"GIT_{who}_{what}": "stand-in"
            for who in ("AUTHOR", "COMMITTER")
            for what in ("NAME", "EMAIL")
        }
        git(
            "-c",
            "commit.gpgsign=false",
            "commit",
            "--quiet",
            "--allow-empty",
            "-m",
            f"stand-in for {commit}",
            env=env,
        )
        stand_in[commit] = git("rev-parse", "HEAD").strip()
    for path in result_files(results):
        data = json.loads(path.read_text())
        old = data["commit_hash"]
        data["commit_hash"] = stand_in[old]
        path.unlink()
        (path.parent / path.name.replace(old[:8], stand_in[old][:8], 1)).write_text(
            json.dumps(data)
        )
    releases = {t: stand_in[c] for t, c in source.RELEASE_COMMITS.items() if c in stand_in}
    source.tag_releases(repo / ".git", releases)
    return repo / ".git"


def asv_config(where: Path, repo: Path) -> Path:
    """asv.conf.json with the suite's benchmarks, over `repo`, writing into `where`."""
    text = re.sub(r"^\s*//.*$", "", (ROOT / "asv.conf.json").read_text(), flags=re.MULTILINE)
    conf = json.loads(text)
    conf.update(
        repo=str(repo),
        benchmark_dir=str(ROOT / "benchmarks"),
        env_dir=str(where / "env"),
        results_dir=str(where / "results"),
        html_dir=str(where / "html"),
        plugins=[".radibench.asv_plugins.dashboard"],
    )
    path = where / "asv.conf.json"
    path.write_text(json.dumps(conf, indent=1))
    return path


def run(command: list[str], **env: str) -> None:
    environ = {k: v for k, v in os.environ.items() if k != suite.DATASET_ENV}
    environ |= {"PYTHONPATH": str(ROOT), **env}
    done = subprocess.run(command, env=environ, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
    assert "needs internet" not in done.stdout + done.stderr, done.stdout + done.stderr


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> dict:
    """The committed results published into a temporary html dir: paths and what was used."""
    where = tmp_path_factory.mktemp("glance")
    (where / "results").mkdir()
    committed_results(where / "results")
    if not result_files(where / "results"):
        pytest.skip("no committed results")
    profile = profile_of(where / "results")
    commits = measured_commits(where / "results")
    git_dir = radiobject_history(where, commits)
    stand_in = git_dir is None
    if stand_in:
        git_dir = stand_in_history(where / "stand-in", where / "results")
    config = asv_config(where, git_dir)
    run([sys.executable, "-c", DISCOVER, str(config)], RADIBENCH_PROFILE=profile)
    run(
        [
            str(Path(sys.executable).with_name("asv")),
            "publish",
            "--config",
            str(config),
            "--no-pull",
        ]
    )
    from asv.results import iter_results

    stored = list(iter_results(str(where / "results")))
    return {"where": where, "git_dir": git_dir, "stand_in": stand_in, "results": stored}


@functools.cache
def _benchmark_list(path: Path) -> dict:
    return json.loads(path.read_text())


def benchmark_list(published) -> dict:
    """The suite's benchmarks as discovery wrote them (benchmarks.json)."""
    return _benchmark_list(published["where"] / "results" / "benchmarks.json")


def values(published, name: str) -> dict[tuple[str, str, tuple], float]:
    """{(machine, commit, parameter combination): value} of one benchmark, as asv publishes
    them: the stored results mapped onto the benchmark's current parameters."""
    benchmarks = benchmark_list(published)
    params = benchmarks[name]["params"]
    found = {}
    for result in published["results"]:
        if name not in result.get_result_keys(benchmarks):
            continue
        for combo, value in zip(
            itertools.product(*params), result.get_result_value(name, params), strict=True
        ):
            if value is not None and value == value:  # asv: None failed, NaN n/a
                found[(result.params["machine"], result.commit_hash, combo)] = value
    return found


def test_no_parameter_joins_a_history_at_its_newest_commit(published):
    """What steps a thumbnail at HEAD: a parameter combination with a value at a machine's
    newest commit and at none of its earlier ones, in a benchmark that has earlier values."""
    dates = measured_commits(published["where"] / "results")
    for name in benchmark_list(published):
        if name == "version":
            continue
        series = defaultdict(lambda: defaultdict(set))  # machine -> commit date -> combos
        for (machine, commit, combo), _ in values(published, name).items():
            series[machine][dates[commit]].add(combo)
        for machine, by_date in series.items():
            newest, *earlier = sorted(by_date, reverse=True)
            before = set().union(*(by_date[d] for d in earlier)) if earlier else None
            if before:
                assert by_date[newest] <= before, (name, machine, by_date[newest] - before)


@pytest.fixture
def served(published):
    with serving(published["where"] / "html") as url:
        yield url


THUMBNAIL = """name => {
    const el = document.getElementById('summarygrid-' + name);
    const plot = el && $(el).data('plot');
    return plot && plot.getData().length ? plot.getData()[0].data : null;
}"""
SCROLL_TO = """name => {
    document.getElementById('summarygrid-' + name).scrollIntoView({block: 'center'});
    window.dispatchEvent(new Event('scroll'));  // the grid draws the thumbnails in view
}"""
GRAPH = """() => {
    const plot = $('#main-graph').data('plot');
    if (!plot || !plot.getData().length) return null;
    const y = plot.getAxes().yaxis;
    const tags = Object.keys($.asv.main_json.tags);
    const labels = $('#main-graph > div').filter((i, e) => tags.includes(e.textContent)).get();
    return {min: y.min, max: y.max, tags: labels.map(e => e.textContent),
            boxes: labels.map(e => { const r = e.getBoundingClientRect();
                                     return [r.left, r.top, r.right, r.bottom]; })};
}"""


@pytest.mark.browser
def test_the_dashboard_reads_at_a_glance(published, served):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run .ci/install-browser (CI runs it)")
    from playwright.sync_api import sync_playwright

    html = published["where"] / "html"
    index = json.loads((html / "index.json").read_text())
    measured = values(published, THROUGHPUT)
    ours = {key: value for key, value in measured.items() if key[2] == RADIOBJECT}
    by_commit = defaultdict(list)  # RadiObject's values per commit (one per machine)
    for (_, commit, _), value in ours.items():
        by_commit[commit].append(value)
    assert len(by_commit) >= 3, by_commit

    one_commit = {}  # {benchmark measured at one commit: its values there}
    for name in index["benchmarks"]:
        measured_once = values(published, name)
        if len({commit for _, commit, _ in measured_once}) == 1:
            one_commit[name] = sorted(measured_once.values())

    errors, requests, missing = [], [], []
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:

            def new_page():
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.on("request", lambda request: requests.append(request.url))
                page.on("response", lambda r: r.status >= 400 and missing.append(r.url))
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                page.route(  # recorded above, then refused: nothing may leave loopback
                    "**/*",
                    lambda route: (
                        route.continue_()
                        if urlsplit(route.request.url).hostname == "127.0.0.1"
                        else route.abort()
                    ),
                )
                return page

            page = new_page()
            page.goto(served + "asv.html", wait_until="load")  # asv's grid (index.html: summary)
            page.wait_for_selector(".benchmark-container", timeout=30_000)
            page.evaluate(SCROLL_TO, THROUGHPUT)
            page.wait_for_function(THUMBNAIL, arg=THROUGHPUT, timeout=30_000)
            thumbnail = page.evaluate(THUMBNAIL, THROUGHPUT)
            tiles = page.locator(".benchmark-text").all_inner_texts()
            page.wait_for_timeout(500)  # the other thumbnails in view
            page.screenshot(path=str(ARTIFACTS / "results-grid.png"))
            once = {}  # (d) the thumbnails of the benchmarks measured at one commit
            for name in one_commit:
                page.evaluate(SCROLL_TO, name)
                page.wait_for_function(THUMBNAIL, arg=name, timeout=30_000)
                once[name] = page.evaluate(THUMBNAIL, name)
            if one_commit:
                page.screenshot(path=str(ARTIFACTS / "results-grid-one-commit.png"))
            page.close()
            grid_missing = list(missing)

            page = new_page()  # a fresh load, as a link to the graph opens it
            page.goto(served + "asv.html#" + THROUGHPUT, wait_until="load")
            page.wait_for_function(GRAPH, timeout=30_000)
            page.wait_for_timeout(500)  # the tag labels follow the plot
            graph = page.evaluate(GRAPH)
            page.screenshot(path=str(ARTIFACTS / "results-graph.png"))
        finally:
            browser.close()
    assert errors == [], errors
    # Every tile has results to draw (the plugin leaves off the benchmarks that have none; a
    # graph page may still ask for a machine that did not measure its benchmark).
    assert grid_missing == [], f"the grid asked for files publish did not write: {grid_missing}"
    assert len(tiles) == len(index["benchmarks"]), tiles  # each benchmark with results, once
    assert {urlsplit(u).hostname for u in requests if not u.startswith("data:")} == {"127.0.0.1"}

    # (a) The grid's thumbnail: at every commit RadiObject's own value, HEAD's included; and
    # the benchmark measures nothing else (the peers have StudyPeers).
    others = {key[2] for key in measured} - {RADIOBJECT}
    assert not others, f"{THROUGHPUT} also measures {others}: its graphs are RadiObject's"
    revision_to_hash = {int(r): h for r, h in index["revision_to_hash"].items()}
    drawn = {revision_to_hash[int(x)]: y for x, y in thumbnail if y is not None}
    assert set(drawn) == set(by_commit), (sorted(drawn), sorted(by_commit))
    for commit, y in drawn.items():
        low, high = min(by_commit[commit]), max(by_commit[commit])
        assert low * (1 - 1e-9) <= y <= high * (1 + 1e-9), (commit, y, by_commit[commit])

    # (b) The graph's y axis is set by RadiObject's values.
    largest = max(ours.values())
    assert graph["min"] <= min(ours.values()), graph
    assert largest <= graph["max"] <= AXIS_FACTOR * largest, (graph, largest)

    # (c) The release commits are tagged, in index.json and on the graph.
    git_dir = published["git_dir"]
    assert set(source.RELEASE_COMMITS) <= set(source.git("tag", "--list", git_dir=git_dir).split())
    for tag, upstream in source.RELEASE_COMMITS.items():
        commit = source.git("rev-parse", f"{tag}^{{commit}}", git_dir=git_dir).strip()
        assert published["stand_in"] or commit == upstream, (tag, commit)
        assert revision_to_hash.get(index["tags"].get(tag)) == commit, (tag, index["tags"])
        assert tag in graph["tags"], graph["tags"]
    for a, b in itertools.combinations(graph["boxes"], 2):  # legible: no label over another
        assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], graph

    # (d) A benchmark measured at one commit is drawn, not an empty box: a tick at each
    # measured value (asv's line through one commit draws nothing).
    for name, measured_once in one_commit.items():
        points = once[name]
        ticks = [
            a[1]
            for a, b in zip(points, points[1:], strict=False)
            if a is not None and b is not None and a[1] == b[1] and a[0] < b[0]
        ]
        assert sorted(ticks) == measured_once, name

    for name in ("results-grid.png", "results-graph.png"):
        assert (ARTIFACTS / name).stat().st_size > 10_000, name
