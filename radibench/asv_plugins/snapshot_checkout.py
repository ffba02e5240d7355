"""asv plugin that checks out a commit whose tree names a file the repository does not hold.

Offline snapshots of RadiObject lack one 4 MiB blob, ``scripts/model_checkpoint.pt`` (commits
31-33; deleted upstream in 34), so asv's ``git checkout -f`` fails there and those commits show
failed although the package builds without that file. Enabled with
``"plugins": [".radibench.asv_plugins.snapshot_checkout"]``, this module wraps asv's
``Git.checkout``: when the checkout fails and the commit's tree names blobs missing from the
repository, it checks the commit out again with a sparse checkout that leaves exactly those files
out, and says which. A failure for any other reason is asv's failure, unchanged. The next
checkout starts from a fresh clone, so no sparse pattern outlives the commit it was made for.
"""

from __future__ import annotations

import os
import re
import subprocess

from asv import util
from asv.plugins.git import Git

_original_checkout = getattr(Git.checkout, "__wrapped__", Git.checkout)


def _git(path: str, *args: str, stdin: str | None = None) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=path, input=stdin, capture_output=True, text=True, check=True
    )
    return proc.stdout


def missing_files(path: str, commit_hash: str) -> list[str]:
    """Paths in `commit_hash`'s tree whose blob the repository at `path` does not hold."""
    blobs = {}
    for line in _git(path, "ls-tree", "-r", "-z", commit_hash).split("\0"):
        if line:
            meta, name = line.split("\t", 1)
            _mode, kind, sha = meta.split()
            if kind == "blob":
                blobs.setdefault(sha, []).append(name)
    answers = _git(path, "cat-file", "--batch-check", stdin="\n".join(blobs) + "\n")
    return sorted(
        name
        for line in answers.splitlines()
        if line.endswith(" missing")
        for name in blobs[line.split()[0]]
    )


def _sparse(path: str) -> bool:
    return os.path.exists(os.path.join(path, ".git", "info", "sparse-checkout"))


def checkout(self, path, commit_hash):
    if os.path.isdir(path) and _sparse(path):
        util.long_path_rmtree(path)  # made for an earlier commit: start from a full clone
    try:
        return _original_checkout(self, path, commit_hash)
    except util.ProcessError:
        if not os.path.isdir(os.path.join(path, ".git")):
            raise
        try:
            absent = missing_files(path, commit_hash)
        except subprocess.CalledProcessError:
            absent = []
        if not absent:
            raise
    from asv.console import log

    log.warning(
        f"snapshot_checkout: {commit_hash[:8]} names files this repository does not hold; "
        f"checked out without them: {', '.join(absent)}"
    )
    patterns = ["/*", *("!/" + re.sub(r"([*?\[\\])", r"\\\1", name) for name in absent)]
    _git(path, "sparse-checkout", "set", "--no-cone", *patterns)
    _git(path, "checkout", "-f", commit_hash)
    _git(path, "clean", "-fdx")
    return None


checkout.__wrapped__ = _original_checkout
Git.checkout = checkout
