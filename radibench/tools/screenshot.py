"""The picture of the dashboard's first view that the README shows (`make screenshot`).

asv's pages do not work from file://, so the published folder is served on 127.0.0.1 (never all
interfaces) and its index.html opened in headless Chromium at 1400x1000, as a visitor's browser
would show it. No picture is written of a broken page: asv's error page, a script error, a file
that did not load, or a request leaving this machine (the dashboard must work offline) stops it
with the reason, and the old picture stays.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from radibench.atomic import write_atomically

CHROMIUM = Path("/usr/bin/chromium")  # Debian's, as .ci/install-browser installs it
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
CHROMIUM_ARGS += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 1000}
LOOPBACK = "127.0.0.1"


class DashboardError(RuntimeError):
    """The dashboard could not be shown as a visitor would see it."""


@contextlib.contextmanager
def serving(directory) -> Iterator[str]:
    """`directory` over HTTP on an ephemeral loopback port, quietly; yields its base URL."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 - the base class's signature
            pass

    server = ThreadingHTTPServer((LOOPBACK, 0), functools.partial(Quiet, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def screenshot(html: Path, out: Path, timeout_s: float = 60) -> None:
    """Write `out` (PNG) of `html`/index.html's first view, or raise DashboardError."""
    if not (html / "index.html").is_file():
        raise DashboardError(f"{html / 'index.html'} does not exist: publish the dashboard first")
    if not CHROMIUM.exists():
        raise DashboardError(f"{CHROMIUM} is missing: run .ci/install-browser")
    from playwright.sync_api import sync_playwright

    problems: list[str] = []

    def only_this_machine(route):
        if urlsplit(route.request.url).hostname == LOOPBACK:
            route.continue_()
        else:
            problems.append(f"request off this machine: {route.request.url}")
            route.abort()

    # A HEAD request is the page asking whether an optional file is there (the summary page's
    # link to the report make bench writes beside it), not a resource the page needs.
    def on_response(response):
        if response.request.method == "HEAD" or response.url.endswith("/favicon.ico"):
            return
        if response.status >= 400:
            problems.append(f"HTTP {response.status}: {response.url}")

    def on_failed(request):
        if urlsplit(request.url).hostname == LOOPBACK and request.method != "HEAD":
            problems.append(f"did not load: {request.url} ({request.failure})")

    with serving(html) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.route("**/*", only_this_machine)
            page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
            page.on("response", on_response)
            page.on("requestfailed", on_failed)
            # networkidle: asv fetches index.json, then each visible thumbnail's data.
            page.goto(url + "index.html", wait_until="networkidle", timeout=timeout_s * 1000)
            if page.url.endswith("error.html"):
                problems.append("asv's error page was shown")
            if page.locator("#error").is_visible():
                problems.append(f"asv's error dialog: {page.locator('#error').inner_text()}")
            if problems:
                raise DashboardError(
                    f"{html / 'index.html'} did not render, no picture written:\n  "
                    + "\n  ".join(problems)
                )
            png = page.screenshot()
        finally:
            browser.close()
    write_atomically(out, lambda tmp: Path(tmp).write_bytes(png))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=Path("html"), help="the published dashboard")
    parser.add_argument("--out", type=Path, default=Path("docs/dashboard.png"))
    args = parser.parse_args(argv)
    try:
        screenshot(args.html, args.out)
    except DashboardError as exc:
        print(f"screenshot: error: {exc}", file=sys.stderr)
        return 1
    size = f"{VIEWPORT['width']}x{VIEWPORT['height']}"
    print(f"screenshot: wrote {args.out} ({args.html / 'index.html'} at {size})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
