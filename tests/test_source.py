"""`radibench source` fills asv's mirror from a local clone, and builds a history from PyPI."""

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
