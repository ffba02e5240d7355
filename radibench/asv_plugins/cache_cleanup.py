"""asv plugin that runs what a setup_cache asked to run when asv removes its folder.

asv has no teardown for ``setup_cache``: it removes the folder once the last benchmark that reads
it is done (or at the end of the run). What lives outside that folder, such as the cohort the
storage benchmarks ingest into real S3 (``s3-real``), would stay behind. Enabled with
``"plugins": [".radibench.asv_plugins.cache_cleanup"]``, this module wraps asv's
``util.long_path_rmtree``: if the folder holds ``.radibench-on-removal.json`` (written by
``radibench.storage.s3.leave_cleanup``: a description, a command and extra environment
variables), the command runs first, in asv's own process environment (where the credentials the
run used already are), and its failure is a warning naming what is left, never a failed run.
A run killed before asv removes its folders leaves the data; the warning's command removes it.
"""

from __future__ import annotations

import json
import os
import subprocess

from asv import util

MARKER = ".radibench-on-removal.json"  # the name radibench.storage.s3.CLEANUP_MARKER writes
TIMEOUT = 300  # seconds

_original_rmtree = getattr(util.long_path_rmtree, "__wrapped__", util.long_path_rmtree)


def _say(level: str, message: str) -> None:
    try:
        from asv.console import log

        getattr(log, level)(message)
    except Exception:  # outside asv (tests): print
        print(message)


def run_marker(folder: str) -> bool | None:
    """Run the command `folder`'s marker names; None when there is none, else whether it
    succeeded."""
    path = os.path.join(folder, MARKER)
    if not os.path.isfile(path):
        return None
    try:
        with open(path) as fh:
            task = json.load(fh)
        argv, what = list(task["argv"]), str(task.get("what", "cleanup"))
        env = {**os.environ, **{str(k): str(v) for k, v in task.get("env", {}).items()}}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        _say("warning", f"cache_cleanup: unreadable {path}: {exc}")
        return False
    try:
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        output = exc.__class__.__name__
    else:
        output = (proc.stdout + proc.stderr).strip()
        if proc.returncode == 0:
            _say("info", f"cache_cleanup: {output[-500:] or what}")
            return True
    by_hand = " ".join(["python", *argv[1:]])  # the command's own output names no secret
    _say("warning", f"cache_cleanup: {what} failed: {output[-2000:]}\n  by hand: {by_hand}")
    return False


def long_path_rmtree(path, ignore_errors=False):
    run_marker(str(path))
    _original_rmtree(path, ignore_errors)


long_path_rmtree.__wrapped__ = _original_rmtree
util.long_path_rmtree = long_path_rmtree
