"""A local RadiObject history to run asv on: the real 0.1.1 release as the first commit, then
whatever commits are made to its source (a regression, a no-op, a broken build); and an asv
workspace reading it. Used by the gating and fault tests and by the precision study
(radibench/tools/precision.py): they need commits whose effect is known in advance."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from radibench import REPO_ROOT
from radibench.tools import source

# radiobject 0.1.1's patch loader, and its one read of a patch: what the test commits change.
LOADER = "src/radiobject/ml/datasets/collection_dataset.py"
READ = """            patch = vol.slice(
                slice(start[0], start[0] + patch_size[0]),
                slice(start[1], start[1] + patch_size[1]),
                slice(start[2], start[2] + patch_size[2]),
            )
"""
BIN = Path(sys.executable).parent


def git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    return source.git(*args, cwd=repo, env=env).strip()


def release_repo(repo: Path) -> str:
    """Make `repo` a git repository holding radiobject 0.1.1's sdist; return its commit."""
    git(repo, "init", "-q", "-b", "main")
    with tempfile.TemporaryDirectory() as tmp:
        source.add_release(repo, source.download_sdist("0.1.1", Path(tmp)), "0.1.1")
    return git(repo, "rev-parse", "HEAD")


def release_with_noop(repo: Path) -> dict[str, str]:
    """The 0.1.1 release and a commit that only rewords a comment of its patch loader."""
    commits = {"release": release_repo(repo)}
    if READ not in (repo / LOADER).read_text():
        raise RuntimeError(f"radiobject 0.1.1's {LOADER} is not as expected")
    commits["noop"] = commit(
        repo,
        "Reword a comment",
        LOADER,
        lambda t: t.replace('"""Load a random patch from the volume."""', '"""Load one patch."""'),
    )
    return commits


# The regressions the gate is tested and calibrated on, as edits of 0.1.1's source.
ML = "src/radiobject/ml/__init__.py"
STATISTIC = "float(np.asarray(patch, dtype=np.float64).std())"  # what cpu_work repeats


def reread(every: int) -> str:
    """READ, then the same patch read again for items with idx % every == 0: an I/O increase
    (a careless validation), about 1/every more bytes."""
    again = READ.replace("            patch = vol.slice(", "                vol.slice(")
    again = again.replace("\n                ", "\n                    ").replace(
        "\n            )", "\n                )"
    )
    check = f"            if idx % {every} == 0:  # re-read: the regression under test\n"
    return READ + check + again


def cpu_work(repeats: int) -> str:
    """READ, then an unused statistic of every patch computed `repeats` times: CPU only, not one
    byte more read."""
    return READ + (
        f"            for _ in range({repeats}):  # never used: the regression under test\n"
        f"                {STATISTIC}\n"
    )


def copies(n: int) -> str:
    """READ, then the patch copied `n` times (`np.array(patch, copy=True)`): CPU and memory
    traffic only, not one byte more read. One copy of a 64^3 int16 patch costs about 1% of a
    quick-profile batch's instructions."""
    return READ + (
        f"            for _ in range({n}):  # a needless copy: the regression under test\n"
        "                patch = np.array(patch, copy=True)\n"
    )


def rename_training_loader(text: str) -> str:
    """radiobject.ml's create_training_dataloader exported under another name: an API break."""
    text = text.replace(
        "    create_training_dataloader,\n", "    create_training_dataloader as make_loader,\n"
    )
    return text.replace('    "create_training_dataloader",\n', '    "make_loader",\n')


def branch(repo: Path, base: str, name: str, message: str, path: str, edit) -> str:
    """A commit on its own branch `name` off `base`; the work tree goes back to main."""
    git(repo, "checkout", "-q", base)
    git(repo, "checkout", "-q", "-B", name)
    made = commit(repo, message, path, edit)
    git(repo, "checkout", "-q", "main")
    return made


def commit(repo: Path, message: str, path: str, edit) -> str:
    """Commit `edit(text)` of the file at `path`; return the new commit's hash."""
    file = repo / path
    file.write_text(edit(file.read_text()))
    git(repo, "commit", "-qam", message)
    return git(repo, "rev-parse", "HEAD")


class Workspace:
    """asv.conf.json reading `repo`, with results/ and html/ in `work` and the suite's own
    benchmarks and environments; commands run as a user would run them."""

    def __init__(
        self,
        repo: Path,
        work: Path,
        data_root: Path | None,
        machine: str,
        profile: str = "quick",
        **environ: str,
    ):
        self.work, self.machine = work, machine
        text = re.sub(
            r"^\s*//.*$", "", (REPO_ROOT / "asv.conf.json").read_text(), flags=re.MULTILINE
        )
        conf = json.loads(text)
        conf.update(
            repo=str(repo),
            benchmark_dir=str(REPO_ROOT / "benchmarks"),
            env_dir=str(REPO_ROOT / ".asv" / "env"),
            results_dir=str(work / "results"),
            html_dir=str(work / "html"),
            # The pins the install command holds (requirements/) are the checkout's, not work's.
            install_command=[
                c.replace("{conf_dir}", str(REPO_ROOT)) for c in conf["install_command"]
            ],
            plugins=[p for p in conf["plugins"] if p != ".radibench.asv_plugins.dashboard"],
        )
        (work / "asv.conf.json").write_text(json.dumps(conf))
        self.env = {
            **os.environ,
            "HOME": str(work),  # asv's machine file goes here, not into the user's home
            "RADIBENCH_PROFILE": profile,
            "RADIBENCH_FRAMEWORKS": "radiobject",
            "RADIBENCH_MACHINE": machine,
            **environ,
        }
        if data_root is not None:
            self.env["RADIBENCH_DATA"] = str(data_root)
        subprocess.run([str(BIN / "radibench"), "machine"], env=self.env, check=True)

    @property
    def results(self) -> Path:
        return self.work / "results" / self.machine

    def command(self, *args: str) -> list[str]:
        return [str(BIN / "asv"), *args]

    def asv(self, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            self.command(*args),
            cwd=self.work,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return proc
