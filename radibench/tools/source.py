"""Prepares the RadiObject git history that asv reads, so plain `asv run/continuous/publish` work.

asv.conf.json names the upstream GitHub repository; asv keeps a `git clone --mirror` of it at
./radiobject and fetches its `origin` before runs. This module fills that mirror from, in order:

1. upstream, when it answers;
2. a local clone or checkout the user names (`--from PATH`: a snapshot, a fork, a PR branch):
   the mirror's origin then points at that path, so `asv continuous` can fetch offline;
3. otherwise the radiobject releases on PyPI, one commit per release (tagged, dated when PyPI
   released it, fixed author), in .radibench/pypi-history. Those commits do not exist upstream,
   so asv.pypi.conf.json gives them their own results-pypi/ and html-pypi/: they never mix with
   upstream results. Fixed metadata makes the hashes identical every time the history is rebuilt.

Upstream has no git tags, so in the mirror (1, 2) the commits RadiObject's releases were made
from get lightweight tags (RELEASE_COMMITS): asv's graphs draw a tag as a labelled line. They
only label graphs: asv is always given hashes (`asv run TAGS` would store tag names as hashes).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from radibench import REPO_ROOT

UPSTREAM = "https://github.com/srdsam/RadiObject.git"
BRANCH = "main"
CONFIGS = {"upstream": "asv.conf.json", "local": "asv.conf.json", "pypi": "asv.pypi.conf.json"}
HTML_DIRS = {"asv.conf.json": "html", "asv.pypi.conf.json": "html-pypi"}
RESULTS_DIRS = {"asv.conf.json": "results", "asv.pypi.conf.json": "results-pypi"}
RELEASE_AUTHOR = ("radibench (PyPI release)", "radibench@localhost")
# The upstream commits RadiObject's PyPI releases were made from, checked against the sdists:
# 0.1.1's src/ is commit 798d776's (the 11th; its uv.lock differs by the version line only);
# 0.1.0's src/ is commit 4877a19's (the 10th), its packaging (pyproject.toml, Layout.md, a
# notebook, a publish workflow) edited on top and never committed upstream.
RELEASE_COMMITS = {
    "v0.1.0": "4877a19285f07d64bab134182143aa22a5f1c57f",
    "v0.1.1": "798d7768d9c261b92f6adfa9e39625dd0c19abac",
}
# When PyPI released each version (its first file's upload_time, to the second) and its sdist's
# sha256, from https://pypi.org/pypi/radiobject/json. The PyPI history's commits carry these
# dates: the sdists' own file times are hatchling's fixed 2020-02-02. Pinned, so the history (and
# its hashes) is the same wherever and whenever it is rebuilt, offline included; a release not
# listed here is dated by the same JSON API when it answers.
PYPI_RELEASES = {
    "0.1.0": (
        "2026-02-02T15:54:43Z",
        "e3e71aa74ecc2950c4d3bd27c252676c5994449c01791371812d40358d4ff3bc",
    ),
    "0.1.1": (
        "2026-02-02T15:57:38Z",
        "d4672ff9d1f37ed40499b42752e972a745309a6dc3beee20df1989254aea6ce5",
    ),
}
PYPI_JSON = "https://pypi.org/pypi/radiobject/{version}/json"


class SourceError(RuntimeError):
    """The history cannot be prepared; the message says what to do instead."""


@dataclass(frozen=True)
class Layout:
    """Where things go, relative to the folder holding the asv configs."""

    root: Path = REPO_ROOT

    @property
    def mirror(self) -> Path:  # asv's mirror path: <config dir>/<project>
        return self.root / "radiobject"

    @property
    def pypi_history(self) -> Path:
        return self.root / ".radibench" / "pypi-history"

    @property
    def state(self) -> Path:
        return self.root / ".radibench" / "source.json"


@dataclass
class Source:
    kind: str  # upstream | local | pypi
    origin: str
    git_dir: Path

    @property
    def config(self) -> str:
        return CONFIGS[self.kind]

    def newest(self) -> str:
        return git("rev-parse", BRANCH, git_dir=self.git_dir).strip()

    def references(self) -> list[str]:
        """The commits the whole suite runs at (peers, partial reads, recipes): the tagged
        releases on the branch, oldest first, then the newest commit. The rest of the history
        is measured on suite.HISTORY alone: the peers do not change with RadiObject's commits."""
        history = git("rev-list", "--first-parent", "--reverse", BRANCH, git_dir=self.git_dir)
        order = {commit: i for i, commit in enumerate(history.split())}
        tags = git("tag", "--list", "--format=%(objectname)^{commit}", git_dir=self.git_dir)
        peeled = git("rev-parse", *tags.split(), git_dir=self.git_dir).split() if tags else []
        releases = {commit for commit in peeled if commit in order}
        newest = self.newest()
        return sorted(releases - {newest}, key=order.__getitem__) + [newest]


def git(*args, git_dir: Path | None = None, cwd=None, env=None, timeout=600) -> str:
    command = ["git"] + (["--git-dir", str(git_dir)] if git_dir else []) + list(args)
    full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})}
    proc = subprocess.run(
        command, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        raise SourceError(f"`{' '.join(command)}` failed: {proc.stderr.strip()[-500:]}")
    return proc.stdout


def reachable(url: str, timeout: float = 20) -> bool:
    try:
        git("ls-remote", "--heads", url, timeout=timeout)
    except (SourceError, subprocess.TimeoutExpired):
        return False
    return True


def prepare(
    local: Path | None = None, pypi: bool = False, say=print, layout: Layout = Layout()
) -> Source:
    """Fill asv's mirror (or the PyPI history) from the best available origin; idempotent."""
    if local is not None:
        source = _mirror_from(str(Path(local).resolve()), "local", say, layout.mirror)
    elif not pypi and reachable(UPSTREAM):
        source = _mirror_from(UPSTREAM, "upstream", say, layout.mirror)
    elif not pypi and (layout.mirror / "HEAD").is_file():
        # Offline, with a mirror an earlier `--from` made: keep following that clone.
        origin = git("remote", "get-url", "origin", git_dir=layout.mirror).strip()
        say(f"{UPSTREAM} is not reachable; refreshing the mirror from {origin}")
        source = _mirror_from(origin, "local", say, layout.mirror)
    else:
        if not pypi:
            say(f"{UPSTREAM} is not reachable; building the history from PyPI releases")
        source = _pypi_history(say, layout.pypi_history)
    layout.state.parent.mkdir(parents=True, exist_ok=True)
    layout.state.write_text(json.dumps({"kind": source.kind, "origin": source.origin}, indent=1))
    say(f"source: {source.kind} ({source.origin}); newest {BRANCH} commit {source.newest()[:8]}")
    say(f"run asv with: asv --config {source.config} ...")
    return source


def current(layout: Layout = Layout()) -> Source:
    """The source the last `radibench source` prepared."""
    if not layout.state.is_file():
        raise SourceError("no RadiObject history prepared yet: run `radibench source` first")
    state = json.loads(layout.state.read_text())
    git_dir = layout.pypi_history / ".git" if state["kind"] == "pypi" else layout.mirror
    return Source(state["kind"], state["origin"], git_dir)


def _mirror_from(origin: str, kind: str, say, mirror: Path) -> Source:
    if kind == "local":
        _check_local(origin)
    if (mirror / "HEAD").is_file():
        old = git("remote", "get-url", "origin", git_dir=mirror).strip()
        if old != origin:
            git("remote", "set-url", "origin", origin, git_dir=mirror)
            say(f"mirror {mirror.name}/: origin changed from {old} to {origin}")
        git("fetch", "--prune", "origin", git_dir=mirror)
        say(f"mirror {mirror.name}/: fetched {origin}")
    else:
        if mirror.exists():
            raise SourceError(f"{mirror} exists but is not a git mirror; move it away")
        git("clone", "--mirror", origin, str(mirror))
        say(f"mirror {mirror.name}/: cloned from {origin}")
    try:
        git("rev-parse", "--verify", BRANCH, git_dir=mirror)
    except SourceError as exc:
        raise SourceError(
            f"{origin} has no branch {BRANCH!r}, which asv.conf.json follows"
        ) from exc
    tagged = tag_releases(mirror)
    if tagged:
        names = ", ".join(f"{tag} ({commit[:7]})" for tag, commit in tagged.items())
        say(f"mirror {mirror.name}/: release tags {names} mark the graphs (labels only)")
    return Source(kind, origin, mirror)


def tag_releases(git_dir: Path, releases: dict[str, str] | None = None) -> dict[str, str]:
    """Lightweight tags on the commits RadiObject's releases were made from (RELEASE_COMMITS),
    which asv's graphs draw as labelled lines; return {tag: commit} of those set. A repository
    with tags of its own (upstream's, after `fetch --prune`) is left alone; a commit it lacks (a
    fork) is skipped."""
    releases = RELEASE_COMMITS if releases is None else releases
    if set(git("tag", "--list", git_dir=git_dir).split()) - set(releases):
        return {}
    tagged = {}
    for tag, commit in releases.items():
        try:
            git("cat-file", "-e", f"{commit}^{{commit}}", git_dir=git_dir)
        except SourceError:
            continue
        git("-c", "tag.gpgsign=false", "tag", "--force", tag, commit, git_dir=git_dir)
        tagged[tag] = commit
    return tagged


def _check_local(path: str) -> None:
    p = Path(path)
    if not p.is_dir():
        raise SourceError(f"{path}: no such folder")
    try:
        git("rev-parse", "--git-dir", cwd=p)
    except SourceError as exc:
        raise SourceError(
            f"{path}: not a git repository (clone or checkout of RadiObject)"
        ) from exc


# ----------------------------------------------------------------------------------------------
# History from PyPI releases


def pypi_versions() -> list[str]:
    """radiobject's releases, oldest first, as pip sees them."""
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", "radiobject"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("Available versions:"):
            versions = [v.strip() for v in line.split(":", 1)[1].split(",")]
            return sorted(versions, key=lambda v: tuple(int(x) for x in v.split(".")))
    raise SourceError(
        "could not list radiobject releases on PyPI (is the package index reachable?): "
        + proc.stderr.strip()[-300:]
    )


def _pypi_history(say, repo: Path) -> Source:
    stale = _stale_release_dates(repo)
    if stale:
        # Built before the releases were dated from PyPI: its hashes change, so results of its
        # old commits (results-pypi/) no longer join the new ones.
        say(f"pypi history: rebuilding it, {', '.join(stale)} did not carry PyPI's release date")
        shutil.rmtree(repo)
    if not (repo / ".git").is_dir():
        repo.mkdir(parents=True, exist_ok=True)
        git("init", "--quiet", "--initial-branch", BRANCH, cwd=repo)
    tags = set(git("tag", "--list", cwd=repo).split())
    for version in pypi_versions():
        tag = f"v{version}"
        if tag in tags:
            continue
        release = release_info(version)
        if release is None:  # never guess a date: it would change the hashes of later rebuilds
            say(
                f"pypi history: stops before radiobject {version}: its PyPI release date is not "
                f"known ({PYPI_JSON.format(version=version)} did not answer; add it to "
                "radibench.tools.source.PYPI_RELEASES)"
            )
            break
        date, sha256 = release
        with tempfile.TemporaryDirectory() as tmp:
            sdist = download_sdist(version, Path(tmp))
            digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
            if digest != sha256:
                raise SourceError(
                    f"{sdist.name}: sha256 {digest} is not PyPI's {sha256}; not adding it"
                )
            date = add_release(repo, sdist, version, date)
        say(f"pypi history: added radiobject {version} (released on PyPI {date})")
    return Source("pypi", "PyPI releases of radiobject", repo / ".git")


def release_info(version: str) -> tuple[str, str] | None:
    """(release date as ISO 8601 UTC to the second, sdist sha256) of a radiobject release:
    pinned in PYPI_RELEASES, else from PyPI's JSON API; None when neither knows."""
    if version in PYPI_RELEASES:
        return PYPI_RELEASES[version]
    try:
        with urllib.request.urlopen(PYPI_JSON.format(version=version), timeout=30) as answer:
            files = json.load(answer)["urls"]
        first = min(_utc(f["upload_time_iso_8601"]) for f in files)
        sha256 = next(f["digests"]["sha256"] for f in files if f["packagetype"] == "sdist")
    except (OSError, ValueError, KeyError, StopIteration):
        return None
    return first.strftime("%Y-%m-%dT%H:%M:%SZ"), sha256


def _utc(text: str) -> datetime.datetime:
    """An ISO 8601 time as an aware UTC datetime, truncated to the second (git's resolution)."""
    when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when.astimezone(datetime.UTC).replace(microsecond=0)


def _stale_release_dates(repo: Path) -> list[str]:
    """Tags of an existing PyPI history whose commit date is not the pinned release date."""
    if not (repo / ".git").is_dir():
        return []
    stale = []
    for version, (date, _) in PYPI_RELEASES.items():
        try:
            seconds = int(git("log", "-1", "--format=%ct", f"v{version}", cwd=repo))
        except (SourceError, ValueError):
            continue
        if seconds != int(_utc(date).timestamp()):
            stale.append(f"v{version}")
    return stale


def download_sdist(version: str, folder: Path) -> Path:
    """radiobject's sdist of `version`, downloaded by pip into `folder`."""
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:"]
        + ["-d", str(folder), f"radiobject=={version}"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    found = sorted(folder.glob("radiobject-*.tar.gz"))
    if proc.returncode != 0 or not found:
        raise SourceError(f"could not download radiobject {version}: {proc.stderr.strip()[-300:]}")
    return found[0]


def add_release(repo: Path, sdist: Path, version: str, date: str | None = None) -> str:
    """Replace the work tree with the sdist's files and commit them with fixed metadata, dated
    `date` (ISO 8601; by default PYPI_RELEASES' date, else the sdist's newest file time)."""
    for entry in repo.iterdir():
        if entry.name != ".git":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if m.isfile() and "/" in m.name]
        newest = max(m.mtime for m in members)
        for member in members:
            relative = member.name.split("/", 1)[1]
            if relative == "PKG-INFO":  # sdist metadata, not part of the source tree
                continue
            target = repo / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(tar.extractfile(member).read())
    if date is None and version in PYPI_RELEASES:
        date = PYPI_RELEASES[version][0]
    seconds = int(_utc(date).timestamp()) if date else newest
    stamp = f"@{seconds} +0000"
    env = {
        "GIT_AUTHOR_NAME": RELEASE_AUTHOR[0],
        "GIT_AUTHOR_EMAIL": RELEASE_AUTHOR[1],
        "GIT_COMMITTER_NAME": RELEASE_AUTHOR[0],
        "GIT_COMMITTER_EMAIL": RELEASE_AUTHOR[1],
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_DATE": stamp,
    }
    git("add", "--all", ".", cwd=repo, env=env)
    git(
        "-c",
        "commit.gpgsign=false",
        "commit",
        "--quiet",
        "-m",
        f"radiobject {version} (PyPI)",
        cwd=repo,
        env=env,
    )
    git("-c", "tag.gpgsign=false", "tag", f"v{version}", cwd=repo, env=env)
    return git("log", "-1", "--format=%cI", cwd=repo).strip()
