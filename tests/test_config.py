"""asv ignores misspelled keys silently, so the configs are checked here instead."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from asv.config import Config

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ["asv.conf.json", "asv.pypi.conf.json"]
# The only keys in which the PyPI-release config may differ from the upstream one.
PYPI_DIFFERENCES = {"repo", "results_dir", "html_dir", "show_commit_url"}


def load(name):
    text = (ROOT / name).read_text()
    return json.loads(re.sub(r"^\s*//.*$", "", text, flags=re.MULTILINE))


def bench_pins():
    lines = (ROOT / "requirements" / "bench.txt").read_text().splitlines()
    pins = [line.split("==") for line in lines if line and not line.startswith("#")]
    return {name: version for name, version in pins}


@pytest.mark.parametrize("name", CONFIGS)
def test_every_key_is_one_asv_knows(name):
    known = set(vars(Config())) | {"version"}
    unknown = set(load(name)) - known
    assert not unknown, f"{name}: asv would silently ignore {sorted(unknown)}"


@pytest.mark.parametrize("name", CONFIGS)
def test_matrix_pins_what_requirements_pin_torch_first(name):
    matrix = load(name)["matrix"]["req"]
    assert list(matrix)[0] == "torch"
    assert matrix == bench_pins()
    assert all(re.fullmatch(r"\d+(\.\d+)+", v) for v in matrix.values()), "exact pins only"


def test_pypi_config_differs_only_where_it_must():
    upstream, pypi = load("asv.conf.json"), load("asv.pypi.conf.json")
    differing = {k for k in upstream.keys() | pypi.keys() if upstream.get(k) != pypi.get(k)}
    assert differing == PYPI_DIFFERENCES
    assert pypi["results_dir"] != upstream["results_dir"]


def test_html_config_publishes_results_as_the_upstream_config_does():
    """asv.html.conf.json (`make html`) differs from asv.conf.json only in the history it
    reads (the results files, radibench/asv_plugins/results_history.py) and holds no key that
    only `asv run` reads."""
    from radibench.asv_plugins.results_history import ResultsHistory

    html, upstream = load("asv.html.conf.json"), load("asv.conf.json")
    assert not set(html) - (set(vars(Config())) | {"version"}), "asv would ignore them"
    differing = {k for k in html if html[k] != upstream.get(k)}
    assert differing == {"repo", "dvcs", "plugins"}
    assert html["dvcs"] == ResultsHistory.dvcs and html["repo"] == upstream["results_dir"]
    assert html["plugins"] == [
        ".radibench.asv_plugins.results_history",
        ".radibench.asv_plugins.dashboard",
    ]
    publish_keys = {"project_url", "show_commit_url", "results_dir", "html_dir", "branches"}
    assert publish_keys | {"regressions_thresholds", "regressions_first_commits"} <= set(html)


def test_asv_itself_is_pinned():
    dev = (ROOT / "requirements" / "dev.txt").read_text()
    assert re.search(r"^asv==\d", dev, re.MULTILINE)
    assert re.search(r"^asv_runner==\d", dev, re.MULTILINE)


def test_asv_check_accepts_the_suite():
    asv = Path(sys.executable).with_name("asv")
    proc = subprocess.run(
        [str(asv), "check", "--python=same"], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No problems found" in proc.stdout


def test_pr_check_gates_what_the_suite_names():
    from radibench.suite import GATE_FACTOR, GATE_PROCESSES, GATED

    text = (ROOT / ".github" / "workflows" / "pr-check.yml").read_text()
    assert re.search(rf'^\s*FACTOR: "{re.escape(GATE_FACTOR)}"', text, flags=re.MULTILINE)
    gated = re.search(r"^\s*GATED: '([^']*)'", text, flags=re.MULTILINE)
    assert gated and gated.group(1) == GATED
    assert re.search(rf'^\s*RADIBENCH_PROCESSES: "{GATE_PROCESSES}"', text, flags=re.MULTILINE)
    assert "radibench gate" in text
    for name in GATED.split("|"):  # every gated benchmark exists
        module, cls, method = name.replace("\\", "").split(".")
        source = (ROOT / "benchmarks" / f"{module}.py").read_text()
        assert re.search(rf"^class {cls}\b", source, re.MULTILINE) and f"def {method}(" in source


def test_nightly_measures_the_history_the_suite_names():
    from radibench.suite import HISTORY

    text = (ROOT / ".github" / "workflows" / "nightly.yml").read_text()
    history = re.search(r"^\s*HISTORY: '([^']*)'", text, flags=re.MULTILINE)
    assert history and history.group(1) == HISTORY
    run = 'RADIBENCH_FRAMEWORKS=radiobject .venv/bin/asv run HASHFILE:shard.txt -b "$HISTORY" '
    run += "--record-samples"
    assert run in text
    names = json.loads((ROOT / "results" / "benchmarks.json").read_text())
    chosen = {name for name in names if re.search(HISTORY, name)}
    for family in ("loaders.TrainingLoader", "loaders.BytesRead", "counts.S3PerBatch", "ingest."):
        assert any(name.startswith(family) for name in chosen), family
    whole_suite_only = (
        "loaders.StudyPeers",
        "access.",
        "recipes.",
        "scaling.",
        "storage.",
        "counts.WorkerPath",
    )
    assert not any(name.startswith(whole_suite_only) for name in chosen)


def test_make_bench_measures_the_answer_and_the_counts():
    """make bench's selection (suite.BENCH) holds the recipe comparison its answer reads and the
    exact counts per batch, and nothing whose setup_cache runs the study's slow peers again."""
    from radibench.suite import BENCH

    names = json.loads((ROOT / "results" / "benchmarks.json").read_text())
    chosen = {name for name in names if re.search(BENCH, name)}
    for family in ("recipes.Recipes.", "recipes.Correctness.", "counts.PerBatch."):
        assert any(name.startswith(family) for name in chosen), family
    left_out = ("recipes.Cohorts", "loaders.", "access.", "scaling.", "storage.", "ingest.")
    assert not any(name.startswith(left_out) for name in chosen)
    assert "BENCH" in (ROOT / "Makefile").read_text()


# -- the stack held fixed ------------------------------------------------------------------------

CONSTRAINTS = "requirements/bench.txt"  # the matrix's pins, given to pip as constraints
# What pip takes as a constraint and nothing else: `name==version` (no -r/-c/-e line, option,
# extra or marker: a nested -r would make pip *install* what it names).
CONSTRAINT_LINE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*==[0-9][0-9A-Za-z.+!-]*")


@pytest.mark.parametrize("name", CONFIGS)
def test_each_commit_installs_under_the_matrix_pins(name):
    """A commit whose wheel needs another version of a pinned package must fail (pip's
    ResolutionImpossible), never upgrade the stack its results claim (tests/test_stack_pins.py
    proves it with pip)."""
    from asv.util import interpolate_command

    conf = load(name)
    (command,) = conf["install_command"]
    variables = {"env_dir": "/env", "conf_dir": str(ROOT), "wheel_file": "/w/radiobject.whl"}
    args, env, _, cwd = interpolate_command(command, variables)
    assert args[:4] == ["python", "-m", "pip", "install"] and args[-1] == "/w/radiobject.whl"
    assert cwd == "/env" and not env
    assert "--force-reinstall" not in args and "--upgrade" not in args and "-U" not in args
    flag = args.index("--constraint")
    assert Path(args[flag + 1]) == ROOT / CONSTRAINTS
    plugins = conf["plugins"]
    assert ".radibench.asv_plugins.installed_versions" in plugins
    assert ".radibench.asv_plugins.cache_cleanup" in plugins


def test_the_constraints_file_holds_only_the_matrix_pins():
    lines = (ROOT / CONSTRAINTS).read_text().splitlines()
    pins = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    bad = [line for line in pins if not CONSTRAINT_LINE.fullmatch(line)]
    assert not bad, f"{CONSTRAINTS}: not plain constraints: {bad}"
    assert dict(line.split("==") for line in pins) == load("asv.conf.json")["matrix"]["req"]
    # pip itself parses it as a constraints file (no network: --no-index, nothing to install).
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "--quiet"]
        + ["--constraint", str(ROOT / CONSTRAINTS), "pip"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
