"""Prepares the RadiObject git history that asv reads, so plain `asv run/continuous/publish` work.

asv.conf.json names the upstream GitHub repository; asv keeps a `git clone --mirror` of it at
./radiobject and fetches its `origin` before runs. This module fills that mirror from, in order:

1. upstream, when it answers;
2. a local clone or checkout the user names (`--from PATH`: a snapshot, a fork, a PR branch):
   the mirror's origin then points at that path, so `asv continuous` can fetch offline;
3. otherwise the radiobject releases on PyPI, one commit per release (tagged, dated as the sdist
   was built, fixed author), in .radibench/pypi-history. Those commits do not exist upstream, so
   asv.pypi.conf.json gives them their own results-pypi/ and html-pypi/: they never mix with
   upstream results. Fixed metadata makes the hashes identical every time the history is rebuilt.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from radibench import REPO_ROOT

UPSTREAM = "https://github.com/srdsam/RadiObject.git"
BRANCH = "main"
CONFIGS = {"upstream": "asv.conf.json", "local": "asv.conf.json", "pypi": "asv.pypi.conf.json"}
HTML_DIRS = {"asv.conf.json": "html", "asv.pypi.conf.json": "html-pypi"}
RELEASE_AUTHOR = ("radibench (PyPI release)", "radibench@localhost")


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
    return Source(kind, origin, mirror)


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
    if not (repo / ".git").is_dir():
        repo.mkdir(parents=True, exist_ok=True)
        git("init", "--quiet", "--initial-branch", BRANCH, cwd=repo)
    tags = set(git("tag", "--list", cwd=repo).split())
    for version in pypi_versions():
        tag = f"v{version}"
        if tag in tags:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            sdist = download_sdist(version, Path(tmp))
            date = add_release(repo, sdist, version)
        say(f"pypi history: added radiobject {version} (sdist built {date})")
    return Source("pypi", "PyPI releases of radiobject", repo / ".git")


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


def add_release(repo: Path, sdist: Path, version: str) -> str:
    """Replace the work tree with the sdist's files and commit them with fixed metadata."""
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
    date = f"@{newest} +0000"
    env = {
        "GIT_AUTHOR_NAME": RELEASE_AUTHOR[0],
        "GIT_AUTHOR_EMAIL": RELEASE_AUTHOR[1],
        "GIT_COMMITTER_NAME": RELEASE_AUTHOR[0],
        "GIT_COMMITTER_EMAIL": RELEASE_AUTHOR[1],
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
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
