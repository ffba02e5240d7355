"""The results checker CI runs on results/: what must never be committed is refused."""

import json
import shutil
from pathlib import Path

import pytest

from radibench.tools import results_check

FIXTURE = Path(__file__).parent / "fixtures" / "asv_results"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def results(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "results", ignore=shutil.ignore_patterns("*.py"))
    return tmp_path / "results"


def a_result_file(folder):
    return next(
        p for p in folder.rglob("*.json") if p.name not in ("benchmarks.json", "machine.json")
    )


def edit(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_real_results_pass(results):
    assert results_check.check_results(results) == []


def test_committed_results_pass():
    assert results_check.main([str(ROOT / "results")]) == 0


def test_malformed_file_is_named(results):
    victim = a_result_file(results)
    victim.write_text(victim.read_text()[:200])  # an interrupted write
    assert any(
        str(victim) in p and "not valid JSON" in p for p in results_check.check_results(results)
    )


def test_existing_environment_is_refused(results):
    victim = a_result_file(results)
    edit(victim, lambda d: d.update(env_name="existing-py_usr_bin_python3"))
    assert any("existing environment" in p for p in results_check.check_results(results))


def test_quick_results_are_refused(results):
    victim = a_result_file(results)

    def quick(data):
        at = data["result_columns"].index("stats_repeat")
        for row in data["results"].values():
            if len(row) > at and row[at]:
                row[at] = [1 for _ in row[at]]

    edit(victim, quick)
    assert any("--quick" in p for p in results_check.check_results(results))


def test_canary_credential_is_found(results, monkeypatch):
    canary = "radibench-canary-secret-0123456789"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", canary)
    victim = a_result_file(results)
    edit(victim, lambda d: d["params"].update(note=canary))
    assert any("credential" in p for p in results_check.check_results(results))
    assert results_check.main([str(results)]) == 1


def test_half_written_file_of_an_interrupted_run_is_named(results):
    leftover = a_result_file(results).parent / ".abc123.partial"
    leftover.write_text('{"commit_hash": "7fcf')
    assert any(
        str(leftover) in p and "interrupted" in p for p in results_check.check_results(results)
    )


def test_asv_writes_results_whole_or_not_at_all(tmp_path, monkeypatch):
    """With the atomic_results plugin, a write that dies midway leaves the old file intact."""
    from asv import util

    from radibench.asv_plugins import atomic_results

    assert util.write_json is atomic_results.write_json_atomically
    target = tmp_path / "result.json"
    util.write_json(target, {"old": 1})

    def dies_midway(data, fd, *args, **kwargs):
        fd.write('{"new": ')
        raise KeyboardInterrupt

    monkeypatch.setattr(util.json, "dump", dies_midway)
    with pytest.raises(KeyboardInterrupt):
        util.write_json(target, {"new": 2})
    assert json.loads(target.read_text()) == {"old": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        (b"export AWS_SECRET_ACCESS_KEY=...  # set it yourself", False),  # the docs' own words
        (b'"aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"', True),
        (b"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", True),
        (b"key id AKIAIOSFODNN7EXAMPLE", True),
    ],
)
def test_a_secret_is_a_value_not_a_variable_name(tmp_path, text, leak):
    (tmp_path / "page.md").write_bytes(text)
    assert bool(results_check.find_secrets(tmp_path)) == leak


@pytest.mark.parametrize("folder", ["results", "html", "docs"])
def test_committed_folders_hold_no_credential(folder):
    assert results_check.find_secrets(ROOT / folder) == []


def _set_versions(path, suffix):
    def change(data):
        at = data["result_columns"].index("version")
        for row in data["results"].values():
            row[at] = row[at].rsplit("-", 1)[0] + suffix

    edit(path, change)


def test_results_from_different_datasets_are_refused(results):
    files = [
        p for p in results.rglob("*.json") if p.name not in ("benchmarks.json", "machine.json")
    ]
    assert len(files) > 1
    for path in files:
        _set_versions(path, "-default")
    assert results_check.check_results(results) == []
    _set_versions(files[0], "-custom-0123456789")
    problems = results_check.check_results(results)
    assert any("different datasets" in p and "custom-0123456789 (1 files)" in p for p in problems)


def test_results_of_an_unidentified_import_are_refused(results):
    victim = a_result_file(results)
    for path in results.rglob("*.json"):
        if path.name not in ("benchmarks.json", "machine.json"):
            _set_versions(path, "-custom")
    problems = results_check.check_results(results)
    assert any(victim.name in p and "identity was not recorded" in p for p in problems)
