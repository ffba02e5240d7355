"""`radibench check-html`: fails when the committed dashboard (html/) is not results/ published.

`asv publish` shows a results file's benchmark when results/benchmarks.json lists it at the
version the file measured. What that makes of results/ is compared with html/index.json and
the graph files: the same commits, the same benchmarks (their benchmarks.json entries), the
same machines, and in each machine's graph of a benchmark a point at exactly the commits it has
values for, holding those values (null where the result failed or was n/a; a commit whose
combinations all failed may be left off, as asv trims a graph's empty ends); and index.html the
summary page those results make. Anything else means html/ is stale: `make html` rebuilds it
from results/.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from radibench.asv_plugins import summary_page
from radibench.asv_plugins.dashboard import remote_loads

FIX = "rebuild it with `make html` (asv --config asv.html.conf.json publish) and commit html/"
SHOWN = 5  # names listed per problem


def _listed(items) -> str:
    items = sorted(items)
    more = f" and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return ", ".join(items[:SHOWN]) + more


def published_view(results: Path) -> dict:
    """What `asv publish` shows of a results folder: commits, machines, benchmarks and, per
    (results file's params, benchmark), {commit: its values as graph files hold them}."""
    from radibench.asv_plugins.results_history import published_results, result_files

    benchmarks = json.loads((results / "benchmarks.json").read_text())
    commits, machines, points = set(), set(), {}
    for path in result_files(results):
        data = json.loads(path.read_text())
        commits.add(data["commit_hash"])
        machines.add(data["params"]["machine"])
    for run, name, found in published_results(results, benchmarks):
        params = {k: "" if v is None else v for k, v in run.params.items()}
        values = [v.number if v else None for v in found]  # as graphs: n/a and failed are None
        if not benchmarks[name].get("params"):
            values = values[0]  # asv graphs an unparametrised benchmark as a number
        graph = (json.dumps(params, sort_keys=True), name)
        points.setdefault(graph, {})[run.commit] = values
    return {
        "commits": commits,
        "machines": machines,
        "benchmarks": {name: benchmarks[name] for _, name in points},
        "points": points,
    }


def check_html(results: Path, html: Path) -> list[str]:
    """Every way html/ differs from results/ published, as sentences naming the fix."""
    results, html = Path(results), Path(html)
    try:
        index = json.loads((html / "index.json").read_text())
    except (OSError, ValueError) as exc:
        return [f"{html}/index.json cannot be read ({exc}): {FIX}"]
    try:
        expected = published_view(results)
    except (OSError, ValueError, KeyError) as exc:
        return [f"{results} cannot be read ({exc}); `radibench check-results` says why"]
    problems = []

    def compare(what, want, have, short=str):
        if want - have:
            missing = {short(item) for item in want - have}
            problems.append(
                f"{html} does not show {len(missing)} {what} of {results}: {_listed(missing)}"
            )
        if have - want:
            extra = {short(item) for item in have - want}
            problems.append(
                f"{html} shows {len(extra)} {what} that {results} does not hold: {_listed(extra)}"
            )

    shown = set(index.get("revision_to_hash", {}).values())
    compare("commits", expected["commits"], shown, short=lambda commit: commit[:8])
    compare("machines", expected["machines"], set(index.get("params", {}).get("machine", [])))
    listed = index.get("benchmarks", {})
    compare("benchmarks", set(expected["benchmarks"]), set(listed))
    changed = [n for n, b in expected["benchmarks"].items() if n in listed and listed[n] != b]
    if changed:
        problems.append(
            f"{html} describes benchmarks as an older results/benchmarks.json did: "
            f"{_listed(changed)}"
        )
    if not problems:
        problems += _check_graphs(expected["points"], index, html)
    for page in (summary_page.SUMMARY, summary_page.ASV_PAGE):
        try:
            remote = remote_loads((html / page).read_text(encoding="utf-8"))
        except OSError as exc:
            remote = [f"nothing: it cannot be read ({exc})"]
        if remote:
            problems.append(
                f"{html}/{page} loads {_listed(remote)} from the internet (publish could not "
                "vendor the dashboard's assets and warned why)"
            )
    if not problems:
        problems += _check_summary(results, html, index)
    return [f"{problem}: {FIX}" for problem in problems]


def _check_summary(results: Path, html: Path, index: dict) -> list[str]:
    """index.html is the summary page of these results, as publish renders it from what
    index.json records of the history (its order, tags and commit links)."""
    hashes = index["revision_to_hash"]
    expected = summary_page.render(
        results,
        index.get("benchmarks", {}),
        tags={tag: hashes[str(revision)] for tag, revision in index.get("tags", {}).items()},
        order={commit: int(revision) for revision, commit in hashes.items()},
        commit_url=index.get("show_commit_url"),
        reference=summary_page.reference_results(results),
    )
    if (html / summary_page.SUMMARY).read_text(encoding="utf-8") != expected:
        return [f"{html}/{summary_page.SUMMARY} is not the summary page of {results}"]
    return []


def _check_graphs(points: dict, index: dict, html: Path) -> list[str]:
    """Each (results params, benchmark)'s graph holds the results' values at their commits."""
    from asv.graph import Graph

    revision_of = {commit: int(r) for r, commit in index["revision_to_hash"].items()}
    graph_params = index.get("graph_param_list", [])
    stale = []
    for (params_json, name), by_commit in sorted(points.items()):
        params = json.loads(params_json)
        matching = [p for p in graph_params if all(p.get(k) == v for k, v in params.items())]
        if len(matching) != 1:
            stale.append(f"{name} ({params['machine']}: {len(matching)} graphs)")
            continue
        path = html / (Graph.get_file_path(matching[0], name) + ".json")
        try:
            drawn = {x: y for x, y in json.loads(path.read_text())}
        except (OSError, ValueError, TypeError):
            stale.append(f"{name} ({params['machine']}: no graph)")
            continue
        want = {revision_of[commit]: values for commit, values in by_commit.items()}
        for revision in want.keys() | drawn.keys():
            expected = want.get(revision)
            if revision not in drawn and _all_missing(expected):
                continue  # asv trims a graph's ends where nothing was measured
            if drawn.get(revision) != expected:
                commit = index["revision_to_hash"][str(revision)]
                stale.append(f"{name} ({params['machine']} at {commit[:8]})")
    if stale:
        return [f"{html} graphs do not hold the values of results/: {_listed(stale)}"]
    return []


def _all_missing(values) -> bool:
    if values is None:
        return True
    return all(v is None for v in (values if isinstance(values, list) else [values]))


DESCRIPTION = __doc__


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--html", type=Path, default=Path("html"))


def run(args: argparse.Namespace) -> int:
    """Print every problem; exit 1 if there is any."""
    problems = check_html(args.results, args.html)
    for problem in problems:
        print(f"radibench check-html: {problem}", file=sys.stderr)
    if not problems:
        print(f"radibench check-html: {args.html} shows exactly {args.results}: OK")
    return 1 if problems else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="radibench check-html", description=DESCRIPTION)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
