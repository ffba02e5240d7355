"""The dashboard's first view: a summary page at index.html, asv's own dashboard at asv.html.

asv's grid opens on thumbnails; after one `make bench` they hold one commit each, and nowhere
does it say which loader won. Every `asv publish` with the dashboard plugin (make bench's and
make html's) therefore writes, per machine: the newest commit's headline and regimes (the
sentences `make bench` prints and the report writes, from the same functions, so the figures
are identical), the gated counts' history with each step labelled by its commit, and links
into asv's graphs; then a legend of which metrics are counts and which timings (with an
interval where one was recorded). Results of the PyPI-release history (results-pypi/) are set
beside the committed reference results of the upstream commit each release was made from.

Why asv's page moves instead of getting a panel: asv 0.6.6's index.html is one JavaScript app
that shows and hides its views by the URL's hash; a panel in it would have to be hidden by
hooking that app. Its code never names its own file (graph links are hashes, data paths are
relative), so it runs unchanged as asv.html, with a link back here added to its menu. Links
to index.html#<benchmark> (asv's regressions feed, bookmarks) are sent on to asv.html.
"""

from __future__ import annotations

import datetime
import os
import re
from html import escape
from pathlib import Path
from urllib.parse import quote

from radibench import suite
from radibench.tools import asv_results, source
from radibench.tools.asv_results import Run
from radibench.tools.report import history, markdown, summary, units

SUMMARY = "index.html"
ASV_PAGE = "asv.html"
REPORT = "report/report.md"  # where `make bench` writes the report, beside the dashboard
GENERATOR = '<meta name="generator" content="radibench summary page">'
# asv 0.6.6's first menu entry; the link back to the summary goes before it.
ASV_MENU = '<li id="nav-li-" class="active">'
BACK_LINK = f'<li id="nav-li-summary-page"><a href="{SUMMARY}">Summary</a></li>'
# The summary's ids all start with "summary-": any other hash is one of asv's pages.
SCRIPT = f"""<script>
(function () {{
  function toAsv() {{
    var wanted = location.hash.slice(1);
    if (wanted && wanted.indexOf("summary-") !== 0) location.replace("{ASV_PAGE}" + location.hash);
  }}
  toAsv();
  window.addEventListener("hashchange", toAsv);
  document.addEventListener("DOMContentLoaded", function () {{
    fetch("{REPORT}", {{method: "HEAD"}}).then(function (answer) {{
      if (answer.ok) document.getElementById("summary-report").hidden = false;
    }}).catch(function () {{}});
  }});
}})();
</script>"""
STYLE = """<style>
body { padding: 1em 2em 3em; max-width: 80em; }
nav a { margin-right: 1.2em; }
h2 small { font-size: 55%; }
.summary-counts td, .summary-counts th { padding: 0.2em 0.8em 0.2em 0; vertical-align: top; }
.summary-counts tr.step td { border-top: 1px solid #ccc; }
.summary-tag { background: #5bc0de; color: #fff; border-radius: 3px; padding: 0 0.3em; }
.summary-legend dd { margin: 0 0 0.8em 1.5em; }
code { white-space: nowrap; }
</style>"""
COUNTS_EXPLAINED = (
    "Counted per training batch of RadiObject's loader (the worker path: over the loader's whole "
    "life at its default workers, every process), not timed: no machine noise. Each row is "
    "a run of commits holding one value; a new row starts where the count moves by more than "
    f"{history.STEP:.0%}, the factor the pull-request gate fails an exact count at (it fails "
    f"instructions at {float(suite.INSTRUCTIONS_FACTOR) - 1:.1%}: identical code moves them by "
    "at most 0.2%)."
)
KIND_WORDS = {
    history.COUNT: "Counts, not timings: bytes, tiles, array opens, S3 requests, instructions, "
    "patches, voxels, bytes on disk. No interval: counted, not sampled. Exact run to run, but "
    "instructions (~0.05%) and S3 requests with DataLoader workers (worker timing decides the "
    "prefetches).",
    history.TIME: "Timings (seconds) of a noisy machine: the median over samples, with asv's "
    "99% interval where one was recorded; one value per round otherwise (no interval).",
    history.MEMORY: "Memory peaks and resident-memory deltas (bytes): measured, one value per "
    "round, no interval.",
    history.RATIO: "Ratios of two timings or sizes taken in one process.",
    history.OTHER: "Other metrics.",
}
INTERVAL_MARK = "±"  # beside a metric whose newest results hold a 99% interval


def reference_results(results_dir: Path) -> Path | None:
    """The committed reference results (asv.conf.json's results/) beside a results folder of
    another history (results-pypi/); None when results_dir is that folder or it is absent."""
    results_dir = Path(results_dir).resolve()
    reference = results_dir.parent / source.RESULTS_DIRS["asv.conf.json"]
    if reference == results_dir or not (reference / "benchmarks.json").is_file():
        return None
    return reference


def graph_link(benchmark: str, machine: str | None = None, text: str | None = None) -> str:
    """A link to asv's graph of a benchmark (on one machine)."""
    target = f"{ASV_PAGE}#{benchmark}" + (f"?machine={quote(machine)}" if machine else "")
    return f'<a href="{escape(target)}">{escape(text or benchmark)}</a>'


class _Commits:
    """How a commit is labelled: short hash (linked when the history is upstream's), its date,
    and its release tag."""

    def __init__(self, tags: dict[str, str], commit_url: str | None):
        self.tag_of = {commit: tag for tag, commit in tags.items()}
        # asv's default show_commit_url is "#": no page to link to.
        self.url = commit_url if commit_url and commit_url.startswith("http") else None

    def label(self, commit: str, date: int | None) -> str:
        short = escape(commit[:8])
        text = f'<a href="{escape(self.url + commit)}">{short}</a>' if self.url else short
        if date:
            day = datetime.datetime.fromtimestamp(date / 1000, datetime.UTC).date()
            text += f" ({day.isoformat()})"
        if commit in self.tag_of:
            text += f' <span class="summary-tag">{escape(self.tag_of[commit])}</span>'
        return text


def _machine_words(run: Run) -> str:
    found = [run.params.get(key) for key in ("cpu", "ram", "os")]
    return ", ".join(escape(str(v)) for v in found if v)


def _answer(run: Run) -> tuple[list[str], list[str], list[str]]:
    """(headline sentences, regime sentences, benchmarks they come from) of one run, by the
    functions `make bench` and the report use."""
    found = summary.summarize(run)
    section = found["recipes"]
    return (
        markdown.headline_sentences(section),
        markdown.regime_sentences(section),
        section["sources"],
    )


def _sentences(title: str, lines: list[str], css: str) -> list[str]:
    if not lines:
        return []
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return [f"<h3>{title}</h3>", f'<ul class="{css}">{items}</ul>']


def _combination(combo: tuple) -> str:
    return ", ".join(str(part) for part in combo)


def _count_name(name: str) -> str:
    """`tiles` for counts.PerBatch.track_tiles_per_batch; the class too where the method alone
    would repeat another's name (`instructions, worker path`)."""
    cls, method = name.split(".")[-2:]
    words = method.removeprefix("track_").removesuffix("_per_batch").replace("_", " ")
    return words if method.endswith("_per_batch") else f"{words}, {_spaced(cls)}"


def _spaced(cls: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", " ", cls).lower()


def _level_value(level: history.Level) -> str:
    if level.value is None:
        return escape(level.outcome)
    if level.low == level.high:
        return units.count(level.value)
    return f"{units.count(level.low)}–{units.count(level.high)}"


def _count_table(series: list[history.CountSeries], runs: list[Run], machine, commits) -> list:
    if not series:
        return ["<p>No gated counts in these results.</p>"]
    dates = {run.commit: run.date for run in runs}
    rows = [
        '<table class="summary-counts">',
        "<tr><th>count</th><th>unit</th><th>commits</th><th></th><th>value</th><th>step</th></tr>",
    ]
    for s in series:
        before = None
        for i, level in enumerate(s.levels):
            name = ""
            if i == 0:
                what = f"{_count_name(s.benchmark)} ({_combination(s.combination)})"
                name = graph_link(s.benchmark, machine, what)
            step = ""
            if before is not None and before.value and level.value is not None:
                step = f"×{level.value / before.value:.3g}"
            span = commits.label(level.first, dates.get(level.first))
            if level.commits > 1:
                span += " – " + commits.label(level.last, dates.get(level.last))
            css = ' class="step"' if i == 0 else ""
            rows.append(
                f"<tr{css}><td>{name}</td><td>{escape(s.unit) if i == 0 else ''}</td>"
                f"<td>{span}</td><td>{level.commits} commit{'s' if level.commits > 1 else ''}</td>"
                f"<td><b>{_level_value(level)}</b></td><td>{step}</td></tr>"
            )
            before = level
    return rows + ["</table>"]


def _machine_section(results_dir: Path, machine: str, order, commits: _Commits) -> list[str]:
    runs = history.in_history_order(asv_results.read_folder(results_dir / machine), order)
    newest = asv_results.newest_run(results_dir, machine)
    headline, regimes, sources = _answer(newest)
    out = [
        f'<section id="summary-machine-{escape(machine)}">',
        f"<h2>{escape(machine)} <small>{_machine_words(newest)}</small></h2>",
        f"<p>Newest results: RadiObject {commits.label(newest.commit, newest.date)}; "
        f"{len(runs)} commit{'s' if len(runs) != 1 else ''} measured on this machine.</p>",
    ]
    if headline or regimes:
        out += _sentences("Headline: RadiObject against each peer's best recipe", headline, "")
        out += _sentences("Regimes", regimes, "")
        links = ", ".join(graph_link(name, machine) for name in sources)
        out.append(f"<p>Graphs of these figures: {links}.</p>")
    else:
        out.append(f"<p>{escape(markdown.NO_RECIPES.capitalize())}</p>")
    out += [
        "<h3>Exact counts, commit by commit</h3>",
        f"<p>{escape(COUNTS_EXPLAINED)}</p>",
        *_count_table(history.count_history(runs), runs, machine, commits),
        "</section>",
    ]
    return out


def _comparison_rows(found: list[history.Comparison]) -> list[str]:
    rows = [
        '<table class="summary-counts">',
        "<tr><th>count per batch</th><th>unit</th><th>yours</th><th>reference</th><th></th></tr>",
    ]
    for c in found:
        if not c.comparable:
            verdict = f"not comparable: {_why_not(c)}"
        elif c.yours.missing or c.reference.missing:
            verdict = "not measured in both"
        else:
            verdict = (
                "the same" if c.same else f"differs: ×{c.yours.number / c.reference.number:.3g}"
            )
        cells = [
            graph_link(
                c.benchmark, None, f"{_count_name(c.benchmark)} ({_combination(c.combination)})"
            ),
            escape(c.unit),
            "n/a" if c.yours.missing else units.count(c.yours.number),
            "n/a" if c.reference.missing else units.count(c.reference.number),
            escape(verdict),
        ]
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    return rows + ["</table>"]


def _why_not(c: history.Comparison) -> str:
    if c.your_data != c.reference_data:
        return (
            f"measured on other data ({c.your_data or '?'} here, {c.reference_data or '?'} there)"
        )
    return "another version of the benchmark"


def _reference_section(results_dir: Path, reference: Path, tags: dict[str, str]) -> list[str]:
    """Each release this history measured, beside the reference results of its upstream commit."""
    out = []
    for tag, upstream in source.RELEASE_COMMITS.items():
        ours = tags.get(tag)
        if ours is None or ours == upstream:
            continue  # not in this history, or the same commit (then the graphs join it)
        mine = [
            run
            for m in asv_results.machines(results_dir)
            for run in asv_results.read_folder(results_dir / m)
            if run.commit == ours
        ]
        if not mine:
            continue
        theirs = [
            asv_results.newest_run(reference, m, upstream)
            for m in asv_results.machines(reference)
            if any(r.commit == upstream for r in asv_results.read_folder(reference / m, {}))
        ]
        here, there = escape(ours[:8]), escape(upstream[:8])
        out.append(f"<h3>{escape(tag)}: commit {here} here, {there} upstream</h3>")
        out.append(
            f"<p>This history's {escape(tag)} (commit {here}, built from the release's sdist) is "
            f"the same code as upstream commit {there}, which the committed reference results "
            f"({escape(reference.name)}/) measured. asv cannot draw them on one graph: the two "
            "commits have different hashes in different histories. Their gated counts are set "
            "side by side below; their timings are not joined: timings compare only on one "
            "host, and each side's machine is named below.</p>"
        )
        if not theirs:
            out.append(f"<p>The reference results hold nothing at {there}: nothing to compare.</p>")
        for run in sorted(mine, key=lambda r: r.machine):
            for ref in theirs:
                found = history.compare_counts(run, ref)
                out.append(
                    f"<p>Yours: {escape(run.machine)} ({_machine_words(run)}). Reference: "
                    f"{escape(ref.machine)} ({_machine_words(ref)}).</p>"
                )
                if found and not any(c.comparable for c in found):
                    out.append(
                        f"<p>None of the counts can be compared: {escape(_why_not(found[0]))}. "
                        "A benchmark's version names its dataset, so results of other data never "
                        "join.</p>"
                    )
                out += _comparison_rows(found) if found else ["<p>No gated counts in either.</p>"]
    if not out:
        return []
    return [
        '<section id="summary-reference">',
        "<h2>Your releases beside the reference results</h2>",
        *out,
        "</section>",
    ]


def _legend(benchmarks: dict, runs: list[Run]) -> list[str]:
    out = [
        '<section id="summary-legend">',
        "<h2>Counts and timings: what each metric is</h2>",
        f"<p>{escape(markdown.INTERVALS)}</p>",
        f"<p>{INTERVAL_MARK} marks a metric whose newest results hold asv's 99% interval. "
        "asv treats every metric as lower-is-better.</p>",
        '<dl class="summary-legend">',
    ]
    found_kinds = history.kinds(benchmarks, runs)
    for kind in KIND_WORDS:
        found = found_kinds.get(kind)
        if not found:
            continue
        links = ", ".join(
            graph_link(name) + (f" {INTERVAL_MARK}" if interval else "") for name, interval in found
        )
        out += [f"<dt>{escape(KIND_WORDS[kind])}</dt>", f"<dd>{links}</dd>"]
    return out + ["</dl>", "</section>"]


def render(
    results_dir: Path,
    benchmarks: dict,
    tags: dict[str, str],
    order: dict[str, int] | None = None,
    commit_url: str | None = None,
    reference: Path | None = None,
) -> str:
    """The summary page of a results folder as published: `benchmarks` the ones the dashboard
    lists, `tags` {tag: commit} and `order` {commit: revision} of its history, `commit_url`
    asv's show_commit_url, `reference` the reference results (see reference_results)."""
    results_dir = Path(results_dir)
    commits = _Commits(tags, commit_url)
    machines = asv_results.machines(results_dir)
    newest = {m: asv_results.newest_run(results_dir, m) for m in machines}
    # The machines that answer the comparison first, then the newest results.
    machines.sort(key=lambda m: (not _answer(newest[m])[0], -(newest[m].date or 0), m))
    body = [
        "<nav>"
        f'<a href="{SUMMARY}"><b>Summary</b></a>'
        f'<a href="{ASV_PAGE}#/">Benchmark grid</a>'
        f'<a href="{ASV_PAGE}#/summarylist">Benchmark list</a>'
        f'<a href="{ASV_PAGE}#/regressions">Regressions</a>'
        f'<span id="summary-report" hidden><a href="{REPORT}">Full report</a></span>'
        "</nav>",
        "<h1>RadiObject versus MONAI and TorchIO</h1>",
        "<p>radibench measures RadiObject's training loaders against MONAI's and TorchIO's on "
        "the same CT volumes, and RadiObject's own history commit by commit. Per machine: the "
        "newest results' answer, then the exact counts' history. The graphs of every metric "
        f'are in <a href="{ASV_PAGE}#/">asv\'s dashboard</a>.</p>',
    ]
    if not machines:
        body.append(f"<p>No results in {escape(results_dir.name)}/ yet.</p>")
    for machine in machines:
        body += _machine_section(results_dir, machine, order, commits)
    if reference is not None:
        body += _reference_section(results_dir, reference, tags)
    runs = [newest[m] for m in machines]
    body += _legend(benchmarks, runs)
    head = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        GENERATOR,
        "<title>radibench: RadiObject versus MONAI and TorchIO</title>",
        '<link rel="stylesheet" href="vendor/bootstrap/dist/css/bootstrap.min.css">',
        STYLE,
        SCRIPT,
        "</head>",
        "<body>",
    ]
    return "\n".join(head + body + ["</body>", "</html>", ""])


def move_asv_page(html_dir: Path) -> bool:
    """asv's index.html to asv.html, with a link back to the summary in its menu; False when
    its menu was not found (another asv: the page still works, without the link)."""
    html_dir = Path(html_dir)
    page = (html_dir / SUMMARY).read_text(encoding="utf-8")
    linked = ASV_MENU in page
    if linked:
        page = page.replace(ASV_MENU, BACK_LINK + ASV_MENU, 1)
    (html_dir / ASV_PAGE).write_text(page, encoding="utf-8")
    os.remove(html_dir / SUMMARY)
    return linked


def publish(html_dir: Path, page: str) -> bool:
    """Move asv's page aside and write the summary as index.html; see move_asv_page."""
    linked = move_asv_page(html_dir)
    (Path(html_dir) / SUMMARY).write_text(page, encoding="utf-8")
    return linked
