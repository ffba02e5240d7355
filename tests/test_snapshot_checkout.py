"""asv's checkout of a commit whose tree names a blob the repository lacks (RadiObject's commits
31-33 in an offline snapshot): the plugin leaves exactly that file out, and nothing else changes."""

import os
import subprocess

import pytest
from asv import util
from asv.plugins.git import Git

from radibench.asv_plugins import snapshot_checkout


def git(cwd, *args):
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def snapshot(tmp_path):
    """A repository whose first commit names a blob it does not hold."""
    source = tmp_path / "source"
    source.mkdir()
    git(source, "init", "-q", "-b", "main")
    git(source, "config", "user.email", "bench@example.org")
    git(source, "config", "user.name", "bench")
    (source / "src").mkdir()
    (source / "src" / "module.py").write_text("VALUE = 1\n")
    (source / "checkpoint.pt").write_bytes(b"weights" * 100)
    git(source, "add", ".")
    git(source, "commit", "-q", "-m", "with checkpoint")
    first = git(source, "rev-parse", "HEAD")
    blob = git(source, "rev-parse", "HEAD:checkpoint.pt")
    git(source, "rm", "-q", "checkpoint.pt")
    git(source, "commit", "-q", "-m", "without checkpoint")
    second = git(source, "rev-parse", "HEAD")
    os.remove(source / ".git" / "objects" / blob[:2] / blob[2:])
    return Git(str(source), str(tmp_path / "mirror")), first, second  # asv uses a local repo as is


def test_a_missing_blob_is_left_out_and_named(snapshot, tmp_path):
    repo, first, second = snapshot
    build = tmp_path / "build"
    repo.checkout(str(build), first)
    assert git(build, "rev-parse", "HEAD") == first
    assert (build / "src" / "module.py").read_text() == "VALUE = 1\n"
    assert not (build / "checkpoint.pt").exists()
    assert snapshot_checkout.missing_files(str(build), first) == ["checkpoint.pt"]

    repo.checkout(str(build), second)  # a full clone again: no sparse pattern left behind
    assert git(build, "rev-parse", "HEAD") == second
    assert not (build / ".git" / "info" / "sparse-checkout").exists()


def test_any_other_checkout_failure_is_asvs(snapshot, tmp_path):
    repo, _first, _second = snapshot
    with pytest.raises(util.ProcessError):
        repo.checkout(str(tmp_path / "build"), "0" * 40)
