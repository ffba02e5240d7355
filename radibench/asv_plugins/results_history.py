"""asv plugin: RadiObject's history as the results folder records it, for `asv publish` alone.

`asv publish` asks the repository for the measured commits' order and dates, the branch's
commits, the tags, and (the regressions page) the commits between two others. Each results
file records its commit's hash and date, and RadiObject's releases are tagged on the commits
source.RELEASE_COMMITS names: that is all publish needs. asv.html.conf.json selects this
repository (``"dvcs": "asv-results"``, ``"repo"``: the results folder), so `make html` rebuilds
html/ from results/ alone: the same on a clean clone offline as beside a RadiObject mirror.

Not a history for `asv run`: it cannot check out a commit. published_results is the one
reading of which results publish shows, for the dashboard plugin and `radibench check-html`.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

from asv.repo import Repo

from radibench.tools import asv_results
from radibench.tools.source import RELEASE_COMMITS


def result_files(results_dir: Path) -> list[Path]:
    """The results files of an asv results folder: <machine>/<commit>-<env>.json."""
    return sorted(p for p in Path(results_dir).glob("*/*.json") if p.name != "machine.json")


def published_results(
    results_dir: Path, benchmarks: dict
) -> Iterator[tuple[asv_results.Run, str, list[asv_results.Value | None]]]:
    """(run, benchmark, its Value per parameter combination) of each result `asv publish`
    shows: benchmarks.json (`benchmarks`) lists the benchmark at the version the file
    measured. Combinations in the order of benchmarks.json's parameters (None: not measured)."""
    for path in result_files(results_dir):
        run = asv_results.read_file(path, benchmarks)
        for name, bench in run.benchmarks.items():
            listed = benchmarks.get(name)
            if not isinstance(listed, dict):
                continue
            if bench.version not in (None, listed.get("version")):
                continue
            combos = itertools.product(*listed.get("params", []))
            yield run, name, [bench.values.get(asv_results.combination(c)) for c in combos]


def measured_commits(results_dir: Path) -> dict[str, int]:
    """{commit hash: commit date (ms, as asv stores it)} of every results file."""
    found = {}
    for path in result_files(results_dir):
        data = json.loads(path.read_text())
        found[data["commit_hash"]] = data["date"]
    return found


class ResultsHistory(Repo):
    """The measured commits, oldest first (by commit date, then hash), all on every branch.

    Results alone cannot tell whether unmeasured commits lie between two measured ones, so the
    commits "between" a and b include a: the regressions page then shows a step as the range
    from the last commit before it, never as one commit it cannot vouch for.
    """

    dvcs = "asv-results"

    def __init__(self, url, mirror_path):
        dates = measured_commits(Path(url))
        self._dates = dates
        self._order = sorted(dates, key=lambda commit: (dates[commit], commit))

    @classmethod
    def url_match(cls, url):
        return False  # chosen by name ("dvcs") only

    def pull(self):
        pass

    def checkout(self, path, commit_hash):
        raise NotImplementedError("a history read from results cannot check commits out")

    def get_date(self, hash):
        return self._dates[self.get_hash_from_name(hash)]

    def get_date_from_name(self, name):
        return self.get_date(name)

    def get_hash_from_name(self, name):
        name = name.removesuffix("^{commit}")
        name = RELEASE_COMMITS.get(name, name)
        matches = [commit for commit in self._order if commit.startswith(name)]
        if len(matches) != 1:
            raise KeyError(f"{name!r} names {len(matches)} measured commits")
        return matches[0]

    def get_name_from_hash(self, commit):
        return next((tag for tag, c in self.get_tags().items() if c == commit), None)

    def get_tags(self):
        return {tag: commit for tag, commit in RELEASE_COMMITS.items() if commit in self._dates}

    def get_revisions(self, commits):
        return {commit: i for i, commit in enumerate(self._order) if commit in commits}

    def get_branch_commits(self, branch):
        return list(reversed(self._order))  # asv's order: newest first

    def get_range_spec(self, commit_a, commit_b):
        return f"{commit_a}..{commit_b}"

    def get_hashes_from_range(self, range_spec):
        """Measured commits from a (included, see the class) to b, newest first."""
        a, _, b = range_spec.rpartition("..")
        last = self._order.index(self.get_hash_from_name(b))
        first = self._order.index(self.get_hash_from_name(a)) if a else 0
        return list(reversed(self._order[first : last + 1]))
