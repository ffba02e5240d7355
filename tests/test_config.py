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
    from radibench.suite import GATE_FACTOR, GATED

    text = (ROOT / ".github" / "workflows" / "pr-check.yml").read_text()
    assert re.search(rf'^\s*FACTOR: "{re.escape(GATE_FACTOR)}"', text, flags=re.MULTILINE)
    gated = re.search(r"^\s*GATED: '([^']*)'", text, flags=re.MULTILINE)
    assert gated and gated.group(1) == GATED
    assert "radibench gate" in text
    for name in GATED.split("|"):  # every gated benchmark exists
        module, cls, method = name.replace("\\", "").split(".")
        source = (ROOT / "benchmarks" / f"{module}.py").read_text()
        assert re.search(rf"^class {cls}\b", source, re.MULTILINE) and f"def {method}(" in source
