"""`radibench source` fills asv's mirror from a local clone, and builds a history from PyPI."""

import os
import subprocess

import pytest

from radibench.tools import source
from radibench.tools.source import Layout, SourceError


def make_repo(path, commits=3, branch="main"):
    path.mkdir()
    run = lambda *a: subprocess.run(["git", *a], cwd=path, check=True, capture_output=True)  # noqa: E731
    run("init", "-q", "-b", branch)
    for n in range(commits):
        (path / "file.txt").write_text(f"version {n}\n")
        run("add", "file.txt")
        run("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", f"commit {n}")


def head(path):
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_local_clone_becomes_asv_mirror(tmp_path):
    make_repo(tmp_path / "fork")
    layout = Layout(tmp_path / "bench")
    said = []
    prepared = source.prepare(local=tmp_path / "fork", say=said.append, layout=layout)
    assert prepared.kind == "local" and prepared.config == "asv.conf.json"
    assert (layout.mirror / "HEAD").is_file()  # a bare mirror where asv looks for it
    assert prepared.newest() == head(tmp_path / "fork")
    assert any("cloned" in m for m in said)
    # Idempotent, and picks up new commits (as `asv continuous` would fetch them).
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "new",
        ],
        cwd=tmp_path / "fork",
        check=True,
    )
    again = source.prepare(local=tmp_path / "fork", say=said.append, layout=layout)
    assert again.newest() == head(tmp_path / "fork")
    assert source.current(layout).newest() == again.newest()


def test_a_folder_that_is_not_git_is_refused(tmp_path):
    (tmp_path / "plain").mkdir()
    with pytest.raises(SourceError, match="not a git repository"):
        source.prepare(local=tmp_path / "plain", layout=Layout(tmp_path / "bench"))


def test_a_repo_without_main_is_refused(tmp_path):
    make_repo(tmp_path / "other", branch="trunk")
    with pytest.raises(SourceError, match="no branch 'main'"):
        source.prepare(local=tmp_path / "other", layout=Layout(tmp_path / "bench"))


def test_nothing_prepared_yet(tmp_path):
    with pytest.raises(SourceError, match="run `radibench source` first"):
        source.current(Layout(tmp_path))


def test_pypi_history_is_reproducible(tmp_path):
    """One tagged commit per release; rebuilt elsewhere, the hashes are the same."""
    first = source.prepare(pypi=True, say=lambda m: None, layout=Layout(tmp_path / "a"))
    second = source.prepare(pypi=True, say=lambda m: None, layout=Layout(tmp_path / "b"))
    assert first.config == "asv.pypi.conf.json"
    assert first.newest() == second.newest()
    repo = tmp_path / "a" / ".radibench" / "pypi-history"
    tags = subprocess.run(["git", "tag"], cwd=repo, capture_output=True, text=True).stdout.split()
    assert {"v0.1.0", "v0.1.1"} <= set(tags)
    log = subprocess.run(["git", "log", "--format=%s"], cwd=repo, capture_output=True, text=True)
    assert log.stdout.splitlines()[-2:] == ["radiobject 0.1.1 (PyPI)", "radiobject 0.1.0 (PyPI)"]
    # Dated when PyPI released them (February 2026), not the sdists' fixed 2020-02-02.
    dates = subprocess.run(["git", "log", "--format=%cI"], cwd=repo, capture_output=True, text=True)
    assert dates.stdout.split()[-2:] == ["2026-02-02T15:57:38+00:00", "2026-02-02T15:54:43+00:00"]
    assert (repo / "pyproject.toml").is_file() and not (repo / "PKG-INFO").exists()


def test_offline_rerun_keeps_the_named_clone(tmp_path, monkeypatch):
    """No --from and upstream unreachable: the clone named earlier stays the source."""
    make_repo(tmp_path / "fork")
    layout = Layout(tmp_path / "bench")
    source.prepare(local=tmp_path / "fork", say=lambda m: None, layout=layout)
    monkeypatch.setattr(source, "UPSTREAM", str(tmp_path / "no-such-upstream"))
    again = source.prepare(say=lambda m: None, layout=layout)
    assert again.kind == "local" and again.config == "asv.conf.json"
    assert again.newest() == head(tmp_path / "fork")


def git_out(path, *args):
    return subprocess.run(
        ["git", "--git-dir", str(path), *args], capture_output=True, text=True, check=True
    ).stdout


def test_release_commits_are_tagged_in_the_mirror(tmp_path, monkeypatch):
    """Upstream has no tags: the mirror gets lightweight tags on the release commits (asv draws
    them on its graphs), again after every `fetch --prune`, and never for a commit it lacks."""
    make_repo(tmp_path / "fork")
    commits = git_out(tmp_path / "fork" / ".git", "rev-list", "--reverse", "main").split()
    releases = {"v0.1.0": commits[0], "v0.1.1": commits[1], "v9.9.9": "0" * 40}
    monkeypatch.setattr(source, "RELEASE_COMMITS", releases)
    layout = Layout(tmp_path / "bench")
    said = []
    source.prepare(local=tmp_path / "fork", say=said.append, layout=layout)
    tags = {t: git_out(layout.mirror, "rev-parse", t).strip() for t in ("v0.1.0", "v0.1.1")}
    assert tags == {"v0.1.0": commits[0], "v0.1.1": commits[1]}
    assert git_out(layout.mirror, "tag", "--list").split() == ["v0.1.0", "v0.1.1"]
    assert any("release tags v0.1.0" in m and "labels only" in m for m in said), said
    source.prepare(local=tmp_path / "fork", say=said.append, layout=layout)  # prunes, re-tags
    assert git_out(layout.mirror, "tag", "--list").split() == ["v0.1.0", "v0.1.1"]

    from asv.plugins.git import Git  # what `asv publish` reads: tag -> commit

    assert Git(str(layout.mirror), str(tmp_path / "unused")).get_tags() == tags


def test_references_are_the_releases_then_the_newest(tmp_path, monkeypatch):
    """The whole suite runs at these (nightly.yml): tagged releases oldest first, the newest
    commit once even when it is a release, and no tag off the branch."""
    make_repo(tmp_path / "fork", commits=5)
    commits = git_out(tmp_path / "fork" / ".git", "rev-list", "--reverse", "main").split()
    releases = {"v0.2": commits[3], "v0.1": commits[1], "v0.3": commits[4]}
    monkeypatch.setattr(source, "RELEASE_COMMITS", releases)
    layout = Layout(tmp_path / "bench")
    prepared = source.prepare(local=tmp_path / "fork", say=lambda m: None, layout=layout)
    assert prepared.references() == [commits[1], commits[3], commits[4]]


def test_a_repository_with_tags_of_its_own_keeps_them(tmp_path, monkeypatch):
    make_repo(tmp_path / "fork")
    first = git_out(tmp_path / "fork" / ".git", "rev-list", "--reverse", "main").split()[0]
    subprocess.run(["git", "tag", "release-1", first], cwd=tmp_path / "fork", check=True)
    monkeypatch.setattr(source, "RELEASE_COMMITS", {"v0.1.0": first})
    layout = Layout(tmp_path / "bench")
    source.prepare(local=tmp_path / "fork", say=lambda m: None, layout=layout)
    assert git_out(layout.mirror, "tag", "--list").split() == ["release-1"]


def test_release_commits_are_the_releases(tmp_path):
    """Where asv's mirror holds RadiObject's history: each tagged commit declares its release's
    version (0.1.0's sdist also edits packaging on top of its commit, see RELEASE_COMMITS)."""
    mirror = source.Layout().mirror
    if not (mirror / "HEAD").is_file():
        pytest.skip("no RadiObject history here: run `radibench source`")
    history = git_out(mirror, "rev-list", "--reverse", source.BRANCH).split()
    for tag, commit in source.RELEASE_COMMITS.items():
        if commit not in history:
            pytest.skip(f"{mirror} does not hold {commit[:7]} (a fork?)")
        pyproject = git_out(mirror, "show", f"{commit}:pyproject.toml")
        assert f'version = "{tag[1:]}"' in pyproject, (tag, commit)
    positions = [history.index(c) + 1 for c in source.RELEASE_COMMITS.values()]
    assert positions == [10, 11]


def fake_sdist(folder, version):
    """A tiny sdist as hatchling makes them (fixed 2020-02-02 file times)."""
    import io
    import tarfile

    path = folder / f"radiobject-{version}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, text in (("pyproject.toml", f'version = "{version}"\n'), ("PKG-INFO", "x")):
            data = text.encode()
            info = tarfile.TarInfo(f"radiobject-{version}/{name}")
            info.size, info.mtime = len(data), 1580601600  # 2020-02-02
            tar.addfile(info, io.BytesIO(data))
    return path


def test_pypi_history_is_dated_as_pypi_released(tmp_path, monkeypatch):
    """Each release commit carries PyPI's release date (pinned), never the sdist's fixed file
    time; a release nobody can date ends the history there; an old history is rebuilt."""
    import hashlib

    sdists = tmp_path / "sdists"
    sdists.mkdir()
    pinned = {}
    for version, date in (("1.0", "2026-02-02T15:54:43Z"), ("1.1", "2026-02-02T15:57:38Z")):
        digest = hashlib.sha256(fake_sdist(sdists, version).read_bytes()).hexdigest()
        pinned[version] = (date, digest)
    fake_sdist(sdists, "1.2")
    monkeypatch.setattr(source, "PYPI_RELEASES", pinned)
    monkeypatch.setattr(source, "pypi_versions", lambda: ["1.0", "1.1", "1.2"])
    monkeypatch.setattr(
        source, "download_sdist", lambda v, folder: sdists / f"radiobject-{v}.tar.gz"
    )

    def offline(*args, **kwargs):
        raise OSError("no route to pypi.org")

    monkeypatch.setattr(source.urllib.request, "urlopen", offline)
    said = []
    built = source.prepare(pypi=True, say=said.append, layout=Layout(tmp_path / "a"))
    log = git_out(built.git_dir, "log", "--format=%cI %aI %s", source.BRANCH).splitlines()
    assert log == [
        "2026-02-02T15:57:38+00:00 2026-02-02T15:57:38+00:00 radiobject 1.1 (PyPI)",
        "2026-02-02T15:54:43+00:00 2026-02-02T15:54:43+00:00 radiobject 1.0 (PyPI)",
    ]
    assert any("stops before radiobject 1.2" in m for m in said), said
    again = source.prepare(pypi=True, say=lambda m: None, layout=Layout(tmp_path / "b"))
    assert again.newest() == built.newest()

    # A history built from the sdists' file times is rebuilt with the release dates.
    repo = tmp_path / "a" / ".radibench" / "pypi-history"
    stale = {"GIT_COMMITTER_DATE": "@1580601600 +0000", "GIT_AUTHOR_DATE": "@1580601600 +0000"}
    run = lambda *a: subprocess.run(["git", *a], cwd=repo, check=True, env={**os.environ, **stale})  # noqa: E731
    run("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--amend", "--no-edit")
    run("tag", "-f", "v1.1")
    said.clear()
    rebuilt = source.prepare(pypi=True, say=said.append, layout=Layout(tmp_path / "a"))
    assert any("rebuilding it, v1.1" in m for m in said), said
    assert rebuilt.newest() == built.newest()


def test_release_info_is_pinned_for_the_known_releases():
    assert source.release_info("0.1.0")[0] == "2026-02-02T15:54:43Z"
    assert source.release_info("0.1.1")[0] == "2026-02-02T15:57:38Z"
