"""A newcomer's first run, as a person sees it: a fresh clone, `PROFILE=quick make bench`, then
the published dashboard in headless Chromium.

Why: the main job once exited 0 and showed a dashboard of empty thumbnails and no answer. Here
the clone (`git clone` of this commit, its own `make venv`, offline but for the package
registries: without GitHub, `radibench source` builds RadiObject's history from its PyPI
releases) runs the README's command, and the test reads what a newcomer would: the first view is
the summary page, its sentences are the ones `make bench` printed and its figures the report's
(written beside the dashboard); the release it measured sits beside the committed reference
results or the page says why it cannot; asv's grid (asv.html) has no empty thumbnail. The
screenshots and make's output go to artifacts/, which CI uploads. Each step's duration is
printed (`pytest -s`): `make venv` and `make bench` are what a newcomer waits for.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import serving

from radibench.asv_plugins import summary_page

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
CHROMIUM_ARGS += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]
MACHINE = "newcomer"
BENCH_TIMEOUT = 3 * 3600  # seconds; the quick profile takes far less (see the module docstring)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# asv's grid draws a thumbnail once it scrolls into view; its flot data, as drawn.
SCROLL_TO = """name => {
    document.getElementById('summarygrid-' + name).scrollIntoView({block: 'center'});
    window.dispatchEvent(new Event('scroll'));
}"""
THUMBNAIL = """name => {
    const el = document.getElementById('summarygrid-' + name);
    const plot = el && $(el).data('plot');
    return plot && plot.getData().length ? plot.getData()[0].data : null;
}"""


def timed(step: str, command: list[str], repo: Path, env: dict, timeout: int) -> str:
    """Run one of the newcomer's commands; keep its output in artifacts/; fail on its exit."""
    start = time.monotonic()
    done = subprocess.run(
        command, cwd=repo, env=env, capture_output=True, text=True, timeout=timeout
    )
    minutes = (time.monotonic() - start) / 60
    print(f"newcomer: `{' '.join(command)}` took {minutes:.1f} min (exit {done.returncode})")
    output = done.stdout + done.stderr
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"newcomer-{step}.log").write_text(output)
    assert done.returncode == 0, f"{command}: exit {done.returncode}\n{output[-4000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def benched(tmp_path_factory, data_root) -> dict:
    """A fresh clone after `PROFILE=quick make bench`: its dashboard and what make printed."""
    where = tmp_path_factory.mktemp("newcomer")
    repo = where / "radibench"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(repo)], check=True)
    if (ROOT / ".asv").is_dir():  # asv's environments: a cache, as in test_readme
        (repo / ".asv").symlink_to(ROOT / ".asv")
    (where / "home").mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("RADIBENCH_", "VIRTUAL"))},
        "HOME": str(where / "home"),  # asv's machine file goes here
        "PROFILE": "quick",
        "RADIBENCH_DATA": str(data_root),
        "RADIBENCH_MACHINE": MACHINE,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    timed("venv", ["make", "venv"], repo, env, 3600)
    printed = timed("bench", ["make", "bench"], repo, env, BENCH_TIMEOUT)
    html = subprocess.run(
        [str(repo / ".venv" / "bin" / "radibench"), "source", "--html-dir"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return {"repo": repo, "html": repo / html, "printed": printed}


def report_headline(report: str) -> dict[tuple[str, str, str], str]:
    """{(workers, peer, RadiObject recipe): ratio} of report.md's headline table."""
    lines = report.split("### Headline", 1)[1].split("\n\n")[2].splitlines()
    head = [cell.strip() for cell in lines[0].strip("|").split("|")]
    found = {}
    for line in lines[2:]:
        cells = dict(zip(head, (c.strip() for c in line.strip("|").split("|")), strict=True))
        for column, value in cells.items():
            if column.endswith(" ÷ best"):
                found[(cells["workers"], cells["peer"], column.removesuffix(" ÷ best"))] = value
    return found


HEADLINE = re.compile(
    r"^(?P<ours>\S+) against (?P<peer>.+)'s best \(\S+\) at (?P<workers>\d+) workers: "
    r"(?P<ratio>.+)x samples/s, .+\.$"
)


def test_the_first_view_answers_with_the_reports_figures(benched):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run .ci/install-browser (CI runs it)")
    from playwright.sync_api import sync_playwright

    html = benched["html"]
    report = (html / "report" / "report.md").read_text()
    index = json.loads((html / "index.json").read_text())
    errors, hosts, missing = [], set(), []
    ARTIFACTS.mkdir(exist_ok=True)
    with serving(html) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname))
            page.on("response", lambda r: r.status >= 400 and missing.append(r.url))
            page.goto(url, wait_until="networkidle")
            page.screenshot(path=str(ARTIFACTS / "newcomer-first-view.png"))
            page.wait_for_selector("#summary-report:not([hidden])", timeout=10_000)
            section = page.locator(f"#summary-machine-{MACHINE}")
            lists = section.locator("ul")
            headline = lists.nth(0).locator("li").all_inner_texts()
            regimes = lists.nth(1).locator("li").all_inner_texts()
            reference = page.locator("#summary-reference").inner_text()
            page.screenshot(path=str(ARTIFACTS / "newcomer-summary.png"), full_page=True)

            page.goto(url + summary_page.ASV_PAGE, wait_until="load")
            page.wait_for_selector(".benchmark-container", timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "newcomer-grid.png"))
            thumbnails = {}
            for name in index["benchmarks"]:
                page.evaluate(SCROLL_TO, name)
                page.wait_for_function(THUMBNAIL, arg=name, timeout=30_000)
                thumbnails[name] = page.evaluate(THUMBNAIL, name)
        finally:
            browser.close()
    assert errors == [] and missing == [] and hosts == {"127.0.0.1"}, (errors, missing, hosts)

    # The summary says what make bench printed, and its figures are the report's.
    printed = {line.strip() for line in benched["printed"].splitlines()}
    assert headline and regimes, (headline, regimes)
    for sentence in headline + regimes:
        assert sentence in printed, sentence
    for sentence in regimes:
        assert f"- {sentence}" in report, sentence
    table = report_headline(report)
    for sentence in headline:
        said = HEADLINE.match(sentence)
        assert said, sentence
        key = (said["workers"], said["peer"], said["ours"])
        assert table[key] == said["ratio"], (sentence, table.get(key))

    # The release it measured beside the reference of its upstream commit, or why not: the
    # quick profile's data is not the reference's.
    assert "v0.1.1: commit" in reference and "798d7768 upstream" in reference, reference
    assert "measured on other data (quick here, default there)" in reference, reference

    # asv's grid: every benchmark's thumbnail draws something (one commit: a tick per value).
    empty = [
        n
        for n, data in thumbnails.items()
        if not any(a and b for a, b in zip(data, data[1:], strict=False))
    ]
    assert empty == [], f"empty thumbnails: {empty}"
