"""asv plugin that keeps, beside every results file, what was installed when it was measured.

asv records the matrix it asked for (a results file's ``requirements``), not what pip installed.
With the install command's constraints (asv.conf.json) the pinned packages cannot move, but
everything else (radiobject itself, the dependencies nobody pins) is whatever pip chose. Enabled
with ``"plugins": [".radibench.asv_plugins.installed_versions"]``, this module:

- after asv installs a commit into an environment (``Environment.install_project``), runs that
  environment's ``python -m pip list --format=freeze`` (about a second, once per commit);
- when asv then saves that commit's results file, writes the list beside it as
  ``<results file name without .json>.installed.txt``.

Why a file beside it and not a key inside: asv rebuilds its results files from the keys it
knows, so an extra key would vanish at the next rewrite, and asv, publish and radibench read
only ``*.json`` there. ``radibench check-results`` refuses a list whose pinned packages differ
from the pins its results file claims. A build made in a worker process (``asv run
--parallel``) or an ``existing`` environment gets no list (and nothing refuses that).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from asv import environment, results

from radibench.atomic import write_atomically

SUFFIX = ".installed.txt"
HEADER = (
    "# `pip list --format=freeze` in the environment asv measured this commit in, right after\n"
    "# installing it (radibench/asv_plugins/installed_versions.py).\n"
)

# (environment name, commit hash) -> the freeze list; filled in asv's own process.
INSTALLED: dict[tuple[str, str], str] = {}

_original_install = getattr(
    environment.Environment.install_project,
    "__wrapped__",
    environment.Environment.install_project,
)
_original_save = getattr(results.Results.save, "__wrapped__", results.Results.save)


def sidecar_path(results_file: str) -> str:
    """Where the list for `results_file` (a path ending in .json) is kept."""
    return results_file.removesuffix(".json") + SUFFIX


def parse(text: str) -> dict[str, str]:
    """{normalised name: version} of a list written here (or any `pip freeze` output)."""
    found = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "==" in line:
            name, _, version = line.partition("==")
            found[normalise(name)] = version.strip()
    return found


def normalise(name: str) -> str:
    """PEP 503: case, dots, dashes and underscores do not distinguish names."""
    return re.sub(r"[-_.]+", "-", name).lower()


def install_project(self, conf, repo, commit_hash=None):
    _original_install(self, conf, repo, commit_hash)
    try:
        listed = self.run_executable(
            "python",
            ["-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"],
            cwd=self._path,  # not the build folder: pip would list what lies there
            dots=False,
        )
    except Exception as exc:  # the run goes on; only the list is missing
        from asv.console import log

        log.warning(f"installed_versions: pip list failed in {self.name}: {exc}")
        return
    INSTALLED[(self.name, commit_hash)] = listed


def save(self, result_dir):
    _original_save(self, result_dir)
    listed = INSTALLED.get((self.env_name, self.commit_hash))
    machine = self.params.get("machine")
    if listed is None or not machine:
        return
    name = results.get_filename(machine, self.commit_hash, self.env_name)
    path = sidecar_path(os.path.join(result_dir, name))
    text = f"{HEADER}# commit {self.commit_hash}\n# environment {self.env_name}\n{listed}"
    write_atomically(path, lambda tmp: Path(tmp).write_text(text))


install_project.__wrapped__ = _original_install
save.__wrapped__ = _original_save
environment.Environment.install_project = install_project
results.Results.save = save
