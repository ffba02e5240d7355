"""asv plugin that makes `asv publish` write a dashboard that works with no internet.

asv 0.6.6's index.html loads jQuery, flot, bootstrap and friends from CDNs; offline it shows its
error page and no graph. Enabled with ``"plugins": [".radibench.asv_plugins.dashboard"]`` in
asv.conf.json, this module adds an output publisher that runs inside `asv publish`: it fetches
the same library versions from the npm registry with `npm pack`, checks each tarball against the
sha512 pinned below, caches it outside git (.radibench/assets/), copies the needed files into
html/vendor/ and points the published html at them. If the assets cannot be fetched, publish
still succeeds and warns that the html needs internet.

It also makes the dashboard read at a glance: it leaves off the benchmarks that have no results
(asv 0.6.6 lists every benchmark of benchmarks.json: a suite larger than its results opened on
rows of empty tiles), draws each grid thumbnail from the values measured at each commit (see
summaries_by_commit) and writes the git tags' labels (RadiObject's releases) downwards beside
their lines, where asv's overlapped for releases one commit apart.

Also a small command line: ``python -m radibench.asv_plugins.dashboard fetch`` fills the cache
(for CI images) and ``python -m radibench.asv_plugins.dashboard offline HTML_DIR`` post-processes
an already published folder.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

try:  # Imported by asv as a plugin; the helpers below also work without asv.
    from asv.console import log as _asv_log
    from asv.graph import Graph, make_summary_graph
    from asv.publishing import OutputPublisher
except ImportError:  # pragma: no cover - asv is in requirements/dev.txt
    _asv_log = None
    OutputPublisher = object

VENDOR = "vendor"
NPM_TIMEOUT = 300  # seconds for the one `npm pack` call that fetches every package


@dataclass(frozen=True)
class Asset:
    """One npm package the dashboard needs, pinned by version and by npm's dist.integrity."""

    package: str
    version: str
    integrity: str
    files: tuple[str, ...]  # paths inside the package (or folders ending in "/") to publish

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"

    @property
    def tarball(self) -> str:
        return f"{self.package}-{self.version}.tgz"


# The versions asv 0.6.6's www/index.html asks for, except stupidtable: cdnjs' 1.0.1 is not on
# npm, and stupid-table-plugin 1.1.3 has the same API. The npm builds of jQuery, orderBars,
# blueimp-md5 and bootstrap are byte-identical to the CDN files (their SRI hashes in asv's
# index.html match); flot 0.8.3 ships unminified sources only.
ASSETS: tuple[Asset, ...] = (
    Asset(
        "jquery",
        "3.3.1",
        "sha512-Ubldcmxp5np52/ENotGxlLe6aGMvmF4R8S6tZjsP6Knsaxd/xp3Zrh50cG93lR6nPXyUFwzN3ZSOQI0wRJNdGg==",
        ("dist/jquery.min.js", "LICENSE.txt"),
    ),
    Asset(
        "flot",
        "0.8.3",
        "sha512-xg2otcTJDvS+ERK+my4wxG/ASq90QURXtoM4LhacCq0jQW2jbyjdttbRNqU2cPykrpMvJ6b2uSp6SAgYAzj9tQ==",
        (
            "jquery.flot.js",
            "jquery.flot.time.js",
            "jquery.flot.selection.js",
            "jquery.flot.categories.js",
            "LICENSE.txt",
        ),
    ),
    Asset(
        "flot-orderbars",
        "1.0.0",
        "sha512-Jv51fvzevUjNXEeozpwEKfPjhiZhfiJddv0WHjduUTCmSF+7T5K7C9c9Y1wIVmUhDBv5fLMjgbwKecT0GIKPZA==",
        ("js/jquery.flot.orderBars.js",),
    ),
    Asset(
        "stupid-table-plugin",
        "1.1.3",
        "sha512-2Vk7XouQPxUQPRe9w0Fu7ZZ8kHLK7rDoLMsCgtKxRNJ7f4dSOGvW9CkHsq5wD6QsaEnWoyLBYH3xOEsrK3yWBg==",
        ("stupidtable.min.js", "LICENSE"),
    ),
    Asset(
        "blueimp-md5",
        "2.19.0",
        "sha512-DRQrD6gJyy8FbiE4s+bDoXS9hiW3Vbx5uCdwvcCf3zLHL+Iv7LtGHLpr+GZV8rHG8tK766FGYBwRbu8pELTt+w==",
        ("js/md5.min.js", "LICENSE.txt"),
    ),
    Asset(
        "bootstrap",
        "3.1.1",
        "sha512-TAzqS8E/ISpVHP29gYhy+1NSV+FJwApDVQhDfgLYsIuUDJiqJzH2DfORN5tiu+Ie2iBLrzEG34t4Rf465cigqg==",
        # The css loads its glyph fonts from ../fonts/, so the folder layout is kept.
        ("dist/js/bootstrap.min.js", "dist/css/bootstrap.min.css", "dist/fonts/", "LICENSE"),
    ),
)

# Last path segment of each CDN url in asv's html -> (package, file inside it). Matching on the
# file name rather than the whole url keeps CDN host names out of this module and survives
# asv moving between CDNs.
LOCAL_FILES: dict[str, tuple[str, str]] = {
    "jquery-3.3.1.min.js": ("jquery", "dist/jquery.min.js"),
    "jquery.flot.min.js": ("flot", "jquery.flot.js"),
    "jquery.flot.time.min.js": ("flot", "jquery.flot.time.js"),
    "jquery.flot.selection.min.js": ("flot", "jquery.flot.selection.js"),
    "jquery.flot.categories.min.js": ("flot", "jquery.flot.categories.js"),
    "jquery.flot.orderBars.js": ("flot-orderbars", "js/jquery.flot.orderBars.js"),
    "stupidtable.min.js": ("stupid-table-plugin", "stupidtable.min.js"),
    "md5.min.js": ("blueimp-md5", "js/md5.min.js"),
    "bootstrap.min.js": ("bootstrap", "dist/js/bootstrap.min.js"),
    "bootstrap.min.css": ("bootstrap", "dist/css/bootstrap.min.css"),
}

NEEDS_INTERNET = (
    "the published dashboard still loads its JavaScript and CSS from CDNs and needs internet "
    "to render"
)


class AssetError(RuntimeError):
    """The dashboard's assets could not be fetched or failed their integrity check."""


def default_cache() -> Path:
    """Where verified tarballs are kept: .radibench/assets/ of the checkout (gitignored).

    RADIBENCH_ASSET_CACHE overrides it; an installed (non-editable) radibench falls back to
    ~/.cache/radibench/assets.
    """
    if os.environ.get("RADIBENCH_ASSET_CACHE"):
        return Path(os.environ["RADIBENCH_ASSET_CACHE"])
    root = Path(__file__).resolve().parents[1]
    if (root / "pyproject.toml").is_file():
        return root / ".radibench" / "assets"
    return Path.home() / ".cache" / "radibench" / "assets"


def sri(data: bytes, algorithm: str = "sha512") -> str:
    """Subresource-integrity string (npm's dist.integrity format) of some bytes."""
    digest = hashlib.new(algorithm, data).digest()
    return f"{algorithm}-{base64.b64encode(digest).decode('ascii')}"


def verify(path: Path, asset: Asset) -> None:
    """Raise AssetError unless the tarball at path is exactly the pinned one."""
    algorithm = asset.integrity.split("-", 1)[0]
    actual = sri(path.read_bytes(), algorithm)
    if actual != asset.integrity:
        raise AssetError(
            f"{path.name}: integrity {actual} does not match the pinned {asset.integrity}"
        )


def _npm_env() -> dict[str, str]:
    """npm quiet and quick to give up, so an offline publish is not held up for minutes."""
    env = dict(os.environ)
    for key, value in {
        "npm_config_update_notifier": "false",
        "npm_config_fund": "false",
        "npm_config_audit": "false",
        "npm_config_loglevel": "error",
        "npm_config_fetch_retries": "1",
        "npm_config_fetch_retry_mintimeout": "2000",
        "npm_config_fetch_retry_maxtimeout": "10000",
        "npm_config_fetch_timeout": "60000",
    }.items():
        env.setdefault(key, value)
    return env


def _npm_error(output: str) -> str:
    """The informative line of npm's error output (it ends with a log path, not the cause)."""
    lines = [line.removeprefix("npm error").strip() for line in output.splitlines()]
    code = next((line[5:] for line in lines if line.startswith("code ")), "")
    skip = ("code ", "syscall ", "errno ", "A complete log")
    cause = next((line for line in lines if line and not line.startswith(skip)), "")
    return f"{code} {cause}".strip() or "unknown error"


def _npm_pack(specs: list[str], dest: Path) -> None:
    """Download package tarballs into dest from npm's configured registry."""
    npm = shutil.which("npm")
    if npm is None:
        raise AssetError("npm is not installed (Debian: apt-get install npm)")
    try:
        done = subprocess.run(
            [npm, "pack", "--ignore-scripts", *specs],
            cwd=dest,
            env=_npm_env(),
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssetError(f"npm pack timed out after {NPM_TIMEOUT} s") from exc
    if done.returncode != 0:
        raise AssetError(f"npm pack failed: {_npm_error(done.stderr or done.stdout)}")


def fetch_assets(cache: Path | None = None, assets: tuple[Asset, ...] = ASSETS) -> dict[str, Path]:
    """Return package -> verified tarball in the cache, fetching the missing ones with npm."""
    cache = cache or default_cache()
    cache.mkdir(parents=True, exist_ok=True)
    found: dict[str, Path] = {}
    missing: list[Asset] = []
    for asset in assets:
        path = cache / asset.tarball
        try:
            verify(path, asset)
            found[asset.package] = path
        except (OSError, AssetError):
            missing.append(asset)
    if not missing:
        return found
    with tempfile.TemporaryDirectory(dir=cache, prefix=".download-") as tmp:
        _npm_pack([asset.spec for asset in missing], Path(tmp))
        for asset in missing:
            downloaded = Path(tmp) / asset.tarball
            if not downloaded.is_file():
                raise AssetError(f"npm pack did not produce {asset.tarball}")
            verify(downloaded, asset)  # a mismatch never reaches the cache
            os.replace(downloaded, cache / asset.tarball)
            found[asset.package] = cache / asset.tarball
    return found


def _package_path(member: tarfile.TarInfo) -> str | None:
    """Path of a tarball member inside its package (npm tarballs wrap it in one folder)."""
    parts = PurePosixPath(member.name).parts
    if len(parts) < 2 or ".." in parts or not member.isfile():
        return None
    return "/".join(parts[1:])


def install_assets(html_dir: Path, tarballs: dict[str, Path], assets=ASSETS) -> list[Path]:
    """Copy the listed files of each tarball to html_dir/vendor/<package>/; return them."""
    written = []
    for asset in assets:
        target = html_dir / VENDOR / asset.package
        with tarfile.open(tarballs[asset.package], "r:gz") as tar:
            for member in tar.getmembers():
                inner = _package_path(member)
                if inner is None or not any(
                    inner == f or (f.endswith("/") and inner.startswith(f)) for f in asset.files
                ):
                    continue
                out = target / inner
                out.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None  # a regular file, checked above
                out.write_bytes(source.read())
                written.append(out)
        for wanted in asset.files:
            if not wanted.endswith("/") and not (target / wanted).is_file():
                raise AssetError(f"{asset.spec} has no {wanted}")
    return written


_TAG = re.compile(r"<(?:script|link)\b[^>]*>", re.IGNORECASE)
_REMOTE_URL = re.compile(
    r"""\b(?P<attr>src|href)\s*=\s*(?P<q>["'])(?P<url>(?:https?:)?//[^"']+)(?P=q)""",
    re.IGNORECASE,
)
_CDN_ATTRS = re.compile(
    r"""\s+(?:integrity|crossorigin|referrerpolicy)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?""",
    re.IGNORECASE,
)


def rewrite_html(text: str, prefix: str = VENDOR) -> tuple[str, list[str]]:
    """Point CDN <script>/<link> urls at local vendor copies; return (html, urls left remote).

    integrity/crossorigin/referrerpolicy attributes go with the CDN urls: they only make sense
    for cross-origin loads. Tags whose file is not known are left alone and reported.
    """
    remote: list[str] = []

    def replace(tag_match: re.Match[str]) -> str:
        tag = tag_match.group(0)
        url_match = _REMOTE_URL.search(tag)
        if url_match is None:
            return tag
        url = url_match.group("url")
        name = url.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        if name not in LOCAL_FILES:
            if tag.lower().startswith("<script") or "stylesheet" in tag.lower():
                remote.append(url)
            return tag
        package, inner = LOCAL_FILES[name]
        local = f"{prefix}/{package}/{inner}"
        q = url_match.group("q")
        tag = (
            tag[: url_match.start()]
            + f"{url_match.group('attr')}={q}{local}{q}"
            + tag[url_match.end() :]
        )
        return _CDN_ATTRS.sub("", tag)

    return _TAG.sub(replace, text), remote


def remote_loads(text: str) -> list[str]:
    """The urls an html page's <script> and <link> tags load from the internet."""
    found = (_REMOTE_URL.search(tag.group(0)) for tag in _TAG.finditer(text))
    return [match.group("url") for match in found if match]


def make_offline(html_dir: Path, cache: Path | None = None) -> list[str]:
    """Vendor the assets into a published html folder; return warnings (empty on success)."""
    html_dir = Path(html_dir)
    try:
        tarballs = fetch_assets(cache)
        install_assets(html_dir, tarballs)
    except (AssetError, OSError, tarfile.TarError) as exc:
        shutil.rmtree(html_dir / VENDOR, ignore_errors=True)
        return [
            f"radibench: could not fetch the dashboard assets from the npm registry ({exc}): "
            f"{NEEDS_INTERNET}. Run `python -m radibench.asv_plugins.dashboard fetch` where the "
            "registry is reachable, then publish again."
        ]
    warnings = []
    for page in sorted(html_dir.rglob("*.html")):
        if VENDOR in page.relative_to(html_dir).parts:
            continue
        prefix = "/".join([".."] * (len(page.relative_to(html_dir).parts) - 1) + [VENDOR])
        text, remote = rewrite_html(page.read_text(encoding="utf-8"), prefix)
        page.write_text(text, encoding="utf-8")
        warnings.extend(
            f"radibench: {page.relative_to(html_dir)} still loads {url} from the internet"
            for url in remote
        )
    return warnings


def _warn(message: str) -> None:
    if _asv_log is not None:
        _asv_log.warning(message)
    else:  # pragma: no cover
        print(f"warning: {message}", file=sys.stderr)


# asv's graphdisplay.js appends each tag's label to #main-graph as a div styled inline with
# "top: -2ex", written across the top of the graph: labels of tags under ~40 px apart overlap.
TAG_LABELS_CSS = """
/* radibench: git tag labels (RadiObject's releases) written downwards beside their lines,
   inside the graph's empty top (asv's y axis reaches 1.3 x the largest value), so tags of
   neighbouring commits stay legible. */
#main-graph > div[style*="top: -2ex"] {
    writing-mode: vertical-rl;
    top: 0.3em !important;
    background: transparent !important;
    padding: 0 !important;
    line-height: 1;
}
"""


def legible_tags(html_dir: Path) -> None:
    """Add TAG_LABELS_CSS to the published asv.css (once)."""
    css = Path(html_dir) / "asv.css"
    text = css.read_text(encoding="utf-8")
    if TAG_LABELS_CSS not in text:
        css.write_text(text + TAG_LABELS_CSS, encoding="utf-8")


def drop_unmeasured(benchmarks, graphs) -> list[str]:
    """Remove from asv's benchmark list (what index.json, the grid and the list show) those
    without a graph, i.e. without a result in any results file; return their names."""
    measured = {graph.benchmark_name for _, graph in graphs}
    dropped = sorted(name for name in benchmarks if name not in measured)
    for name in dropped:
        del benchmarks[name]
    return dropped


def summaries_by_commit(graphs):
    """The grid's thumbnails (asv's summary graphs), one per benchmark, drawn from what was
    measured at each commit.

    asv keys a graph by the results' machine and environment parameters (os, cpu, python, ...),
    so one machine whose kernel was updated between runs has two graphs of one benchmark; its
    summary interpolates each graph across the other's commits and averages the two, drawing
    at a commit a value no run measured there (21.4 ms where 24.7 ms was measured). Here the
    graphs of a benchmark are pooled first (per commit, the mean of the values measured there),
    then summarised as asv does: per parameter combination, small gaps filled, geometric mean
    over combinations.
    """
    for name in sorted({graph.benchmark_name for _, graph in graphs}):
        pooled = Graph(name, {"pooled": ""})
        for graph in graphs.get_graph_group(name):
            for revision, points in graph.data_points.items():
                pooled.add_data_point(revision, None)  # the commit, even with nothing measured
                for value in points:
                    pooled.add_data_point(revision, list(value))
        yield make_summary_graph([pooled])


def measured_at_one_commit(graphs) -> dict[str, int]:
    """{benchmark: revision} of the benchmarks with values at one commit only (any machine)."""
    found = {}
    for name in sorted({graph.benchmark_name for _, graph in graphs}):
        revisions = {
            revision
            for graph in graphs.get_graph_group(name)
            for revision, points in graph.data_points.items()
            if any(is_value(v) for point in points for v in point)
        }
        if len(revisions) == 1:
            found[name] = revisions.pop()
    return found


def is_value(value) -> bool:
    """A measured number: asv stores None for a failed result and NaN for n/a."""
    return isinstance(value, (int, float)) and value == value


def values_at(results_dir: Path, commit: str, benchmarks: dict, name: str) -> list[list[tuple]]:
    """Per results file measured at `commit` (one per machine and environment), the
    benchmark's (value, 99% CI low, high) per parameter combination, as asv publishes them."""
    from radibench.asv_plugins.results_history import published_results

    return [
        [(v.number, v.low, v.high) if v else (None, None, None) for v in values]
        for run, benchmark, values in published_results(results_dir, benchmarks)
        if benchmark == name and run.commit == commit
    ]


# A thumbnail of one commit: each parameter combination gets a slot of width 1; each series'
# tick takes THUMB_TICK of its share, and the frame leaves THUMB_HEADROOM above the top mark.
THUMB_TICK = 0.6
THUMB_HEADROOM = 1.15


def per_parameter_thumbnail(series: list[list[tuple]]) -> list:
    """The grid's thumbnail of a benchmark measured at one commit, as flot data for asv's grid.

    asv draws a thumbnail as a line through the commits: one commit makes no line and the box
    stays empty. Here each parameter combination gets, from left to right, a horizontal tick at
    its value and a vertical bar over its 99% interval when one was recorded (track_ results
    carry none); several series (machines) sit side by side in a combination's slot. asv's grid
    draws lines and breaks them at null, so these marks are short lines between nulls; two lone
    points (no line) frame the slots and leave room above the top mark. Nothing is drawn for a
    failed or n/a combination. The y axis starts at 0, as asv's thumbnails do.
    """
    marks: list = []
    top = 0.0
    slots = max((len(values) for values in series), default=0)
    share = 1.0 / max(len(series), 1)
    for g, values in enumerate(series):
        for i, (value, low, high) in enumerate(values):
            if not is_value(value):
                continue
            x = i + (g + 0.5) * share - 0.5
            half = THUMB_TICK * share / 2
            marks += [[x - half, value], [x + half, value], None]
            top = max(top, value)
            if is_value(low) and is_value(high) and high > low:
                marks += [[x, low], [x, high], None]
                top = max(top, high)
    if not marks:
        return []
    top = top * THUMB_HEADROOM if top > 0 else 1.0
    return [[-0.5, top], None, [slots - 0.5, top], None] + marks


def write_single_commit_thumbnails(conf, benchmarks, graphs, revisions) -> list[str]:
    """Replace the empty thumbnails of benchmarks measured at one commit; return their names."""
    revision_to_hash = {revision: commit for commit, revision in revisions.items()}
    drawn = []
    for name, revision in measured_at_one_commit(graphs).items():
        if name not in benchmarks:
            continue
        commit = revision_to_hash[revision]
        data = per_parameter_thumbnail(values_at(Path(conf.results_dir), commit, benchmarks, name))
        if data:
            path = Path(conf.html_dir) / (Graph.get_file_path({"summary": ""}, name) + ".json")
            path.write_text(json.dumps(data), encoding="utf-8")
            drawn.append(name)
    return drawn


class AtAGlance(OutputPublisher):
    """Runs before asv writes index.json (asv 0.6.6 calls the output publishers first) and
    after asv's SummaryGrid (order 0), whose thumbnails it redraws."""

    name = None
    button_label = None
    description = "Benchmarks with results only; thumbnails of measured values; legible tags"
    order = math.inf

    @classmethod
    def publish(cls, conf, repo, benchmarks, graphs, revisions):
        legible_tags(Path(conf.html_dir))
        for summary in summaries_by_commit(graphs):
            summary.save(conf.html_dir)
        once = write_single_commit_thumbnails(conf, benchmarks, graphs, revisions)
        dropped = drop_unmeasured(benchmarks, graphs)
        if _asv_log is not None:
            if once:
                _asv_log.info(f"radibench: {len(once)} benchmarks measured at one commit drawn")
            if dropped:
                _asv_log.info(
                    f"radibench: {len(dropped)} benchmarks without results left off the dashboard"
                )


class SummaryPage(OutputPublisher):
    """Runs after AtAGlance (which leaves off the benchmarks without results) and before
    OfflineAssets (which vendors the assets of every page, asv's moved one included)."""

    name = None
    button_label = None
    description = "A summary page as the first view (index.html); asv's dashboard at asv.html"
    order = math.inf

    @classmethod
    def publish(cls, conf, repo, benchmarks, graphs, revisions):
        from radibench.asv_plugins import summary_page

        results_dir = Path(conf.results_dir)
        page = summary_page.render(
            results_dir,
            dict(benchmarks),
            tags=repo.get_tags(),
            order=dict(revisions),
            commit_url=conf.show_commit_url or None,
            reference=summary_page.reference_results(results_dir),
        )
        if not summary_page.publish(Path(conf.html_dir), page):
            _warn(f"radibench: asv's menu not found; {summary_page.ASV_PAGE} has no link back")
        if _asv_log is not None:
            _asv_log.info(
                f"radibench: summary page written ({summary_page.SUMMARY}); asv's dashboard "
                f"moved to {summary_page.ASV_PAGE}"
            )


class OfflineAssets(OutputPublisher):
    """Runs last in `asv publish` (asv calls every OutputPublisher subclass it has imported)."""

    name = None
    button_label = None
    description = "Local copies of the dashboard's JavaScript and CSS"
    order = math.inf

    @classmethod
    def publish(cls, conf, repo, benchmarks, graphs, revisions):
        warnings = make_offline(Path(conf.html_dir))
        for message in warnings:
            _warn(message)
        if not warnings and _asv_log is not None:
            _asv_log.info(f"radibench: dashboard assets vendored into {VENDOR}/ (works offline)")


def main(argv: list[str] | None = None) -> int:
    """`fetch` fills the asset cache; `offline HTML_DIR` vendors assets into a published folder."""
    parser = argparse.ArgumentParser(
        prog="python -m radibench.asv_plugins.dashboard", description=__doc__
    )
    sub = parser.add_subparsers(dest="command", required=True)
    fetch = sub.add_parser("fetch", help="download and verify the dashboard assets")
    fetch.add_argument("--cache", type=Path, default=None)
    offline = sub.add_parser("offline", help="make a published html folder work offline")
    offline.add_argument("html_dir", type=Path)
    offline.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.command == "fetch":
        try:
            tarballs = fetch_assets(args.cache)
        except AssetError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        for package, path in sorted(tarballs.items()):
            print(f"{package}: {path}")
        return 0
    warnings = make_offline(args.html_dir, args.cache)
    for message in warnings:
        print(f"warning: {message}", file=sys.stderr)
    return 1 if warnings else 0


if __name__ == "__main__":
    sys.exit(main())
