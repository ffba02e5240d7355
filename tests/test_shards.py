"""A history too long for one runner is split into shards and merged back (nightly.yml).

`radibench shards` lists what `asv run ALL --skip-existing --machine M` would still measure (asv's
own first-parent history minus the commits M has results for), deals it into HASHFILEs, and
merges what the shard runners measured into one results folder: all of it or nothing, never a
half-written file, one machine.json and one benchmarks.json. The slow test runs two shards of
the PyPI-release history with real asv, each in its own results folder and home (as two runners
would), merges them, and publishes one dashboard whose graphs hold both commits.
"""

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from radibench import cli
from radibench.tools import results_check, shards, source
from radibench.tools.local_history import Workspace

FIXTURE = Path(__file__).parent / "fixtures" / "asv_results"
ROOT = Path(__file__).resolve().parent.parent
MACHINE = "fixture-machine"


def git(repo, *args):
    env = ["-c", "user.name=t", "-c", "user.email=t@t"]
    proc = subprocess.run(["git", *env, *args], cwd=repo, check=True, capture_output=True)
    return proc.stdout.decode().strip()


@pytest.fixture()
def history(tmp_path):
    """Five commits on main and one on a merged side branch (asv follows the first parent)."""
    repo = tmp_path / "radiobject"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    main = []
    for n in range(4):
        (repo / "f.txt").write_text(f"{n}\n")
        git(repo, "add", "f.txt")
        git(repo, "commit", "-qm", f"main {n}")
        main.append(git(repo, "rev-parse", "HEAD"))
    git(repo, "checkout", "-qb", "side")
    (repo / "g.txt").write_text("side\n")
    git(repo, "add", "g.txt")
    git(repo, "commit", "-qm", "side")
    side = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge side", "side")
    main.append(git(repo, "rev-parse", "HEAD"))
    config = tmp_path / "asv.conf.json"
    config.write_text(
        "// comments, as in the real configs\n"
        + json.dumps(
            {
                "version": 1,
                "project": "radiobject",
                "repo": "radiobject",
                "dvcs": "git",
                "branches": ["main"],
                "results_dir": "results",
            }
        )
    )
    return config, main[::-1], side  # newest first, as asv lists them


def result_file(folder: Path, commit: str, machine: str = MACHINE) -> Path:
    """A copy of a fixture result, re-labelled as `commit`."""
    data = json.loads(next((FIXTURE / MACHINE).glob("*-*.json")).read_text())
    data.update(commit_hash=commit)
    data["params"]["machine"] = machine
    path = folder / machine / f"{commit[:8]}-virtualenv-py3.11.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def test_coverage_order_spreads_any_prefix_and_shards_are_balanced():
    commits = [f"c{i:02d}" for i in range(11)]  # oldest first
    order = shards.coverage_order(commits)
    assert sorted(order) == commits
    assert order[:3] == ["c10", "c00", "c05"]  # newest, oldest, middle
    assert set(order[3:5]) == {"c02", "c07"}  # then the middles of both halves
    dealt = shards.split(order, 3)
    assert [len(s) for s in dealt] == [4, 4, 3]
    assert [s[0] for s in dealt] == ["c10", "c00", "c05"]
    assert shards.split(order, 50) == [[c] for c in order]  # never an empty shard
    assert shards.split([], 4) == []


def test_plan_lists_what_the_machine_lacks_on_asvs_history(history, tmp_path, capsys):
    config, main, side = history
    result_file(tmp_path / "results", main[1])
    result_file(tmp_path / "results", main[3], machine="another-machine")
    plan = shards.plan(config, tmp_path / "results", MACHINE, shards=2)
    assert plan.history == main  # first parent only: the side branch's commit is not measured
    assert side not in plan.unmeasured
    assert plan.unmeasured == [c for c in main if c != main[1]]  # another machine's do not count
    assert sorted(c for s in plan.shards for c in s) == sorted(plan.unmeasured)

    out = tmp_path / "plan"
    argv = ["shards", "--config", str(config), "--machine", MACHINE, "--out", str(out)]
    assert cli.main([*argv, "--max-per-shard", "3"]) == 0
    matrix = json.loads(capsys.readouterr().out)  # one line of JSON: the GitHub matrix
    assert [e["count"] for e in matrix["include"]] == [2, 2]
    assert matrix["include"][0]["commits"].split()[0] == main[0]  # the newest commit first
    for entry in matrix["include"]:
        hashfile = out / f"shard-{entry['shard']}.txt"
        assert hashfile.read_text().split() == entry["commits"].split()

    for commit in plan.unmeasured:
        result_file(tmp_path / "results", commit)
    assert cli.main([*argv, "--shards", "4"]) == 0  # nothing left: an empty matrix
    assert json.loads(capsys.readouterr().out) == {"include": []}
    assert not list(out.glob("shard-*.txt"))


def test_shards_is_a_radibench_command(capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["shards", "--help"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.startswith("usage: radibench shards ")


def test_nightly_runs_the_plan_shards_and_merge_on_one_runner_class():
    text = (ROOT / ".github" / "workflows" / "nightly.yml").read_text()
    jobs = text.split("\njobs:\n", 1)[1]
    assert re.search(r"^  RADIBENCH_MACHINE: \S+$", text, re.MULTILINE)
    assert set(re.findall(r"runs-on: (\S+)", jobs)) == {"ubuntu-latest"}
    assert "radibench shards --config asv.conf.json" in jobs and "--merge shards/*" in jobs
    assert "matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}" in jobs
    run = re.search(
        r"asv run HASHFILE:shard.txt [^\n]*\\\n\s*--machine \"\$RADIBENCH_MACHINE\"", jobs
    )
    assert run and "--skip-existing" in run.group(0)
    assert jobs.count("bin/asv --config asv.html.conf.json publish") == 1
    assert jobs.count("asv publish") == 0 and jobs.count("actions/cache@") == 1
    assert "git add html" in jobs  # the committed dashboard follows the results


def test_plan_without_a_history_says_what_to_do(tmp_path, capsys):
    config = tmp_path / "asv.conf.json"
    config.write_text(
        json.dumps({"version": 1, "project": "radiobject", "repo": "https://x/y.git"})
    )
    assert cli.main(["shards", "--config", str(config), "--machine", "m", "--shards", "2"]) == 1
    assert "run `radibench source` first" in capsys.readouterr().err


def shard_folders(tmp_path, parts) -> list[Path]:
    """The fixture's result files dealt into shard folders, each as a runner leaves it."""
    files = sorted((FIXTURE / MACHINE).glob("*-*.json"))
    folders = []
    for i, picks in enumerate(parts, start=1):
        folder = tmp_path / f"shard-{i}"
        (folder / MACHINE).mkdir(parents=True)
        shutil.copy(FIXTURE / "benchmarks.json", folder)
        shutil.copy(FIXTURE / MACHINE / "machine.json", folder / MACHINE)
        for n in picks:
            shutil.copy(files[n], folder / MACHINE)
        folders.append(folder)
    return folders


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def sidecar(result: Path) -> Path:
    """The installed-versions list asv's plugin keeps beside a results file."""
    path = result.with_name(result.name.removesuffix(".json") + ".installed.txt")
    path.write_text("# pip list --format=freeze\nnumpy==2.4.6\n")
    return path


def test_merge_joins_shards_into_one_checked_folder(tmp_path):
    folders = shard_folders(tmp_path, [[0, 1], [2], [3]])
    listed = sidecar(sorted((folders[1] / MACHINE).glob("*-*.json"))[0])
    into = tmp_path / "results"
    done = shards.merge(folders, into, MACHINE)
    assert len(done.added) == 4 and done.notes == []
    expected = {**snapshot(FIXTURE / MACHINE), listed.name: listed.read_bytes()}
    assert snapshot(into / MACHINE) == expected  # byte for byte what asv wrote
    assert (into / "benchmarks.json").read_bytes() == (FIXTURE / "benchmarks.json").read_bytes()
    assert results_check.check_results(into) == []
    assert not list(into.rglob("*.partial"))

    again = shards.merge(folders, into, MACHINE)  # idempotent: what is there stays
    assert again.added == [] and len(again.notes) == 3
    assert snapshot(into / MACHINE) == expected


def test_a_shard_that_failed_before_measuring_does_not_block_the_others(tmp_path):
    """It uploads the checkout's results/ as they were: the committed files and an older
    benchmarks.json (the suite changed since); the shards that measured are merged."""
    into = tmp_path / "results"
    shutil.copytree(shard_folders(tmp_path / "committed", [[0]])[0], into)
    measured, failed = shard_folders(tmp_path, [[1, 2], [0]])
    suite = json.loads((measured / "benchmarks.json").read_text())
    next(iter(suite.values()))["version"] = "the suite of tonight's checkout"
    (measured / "benchmarks.json").write_text(json.dumps(suite))
    done = shards.merge([measured, failed], into, MACHINE)
    assert len(done.added) == 2 and "measured nothing" in "\n".join(done.notes)
    assert json.loads((into / "benchmarks.json").read_text()) == suite


def test_merge_keeps_committed_results_and_reports_a_differing_runner(tmp_path):
    first, second = shard_folders(tmp_path, [[0], [1, 2]])
    into = tmp_path / "results"
    (into / MACHINE).mkdir(parents=True)
    victim = sorted((second / MACHINE).glob("*-*.json"))[0]
    committed = Path(shutil.copy(victim, into / MACHINE))
    before = committed.read_bytes()
    edited = json.loads(before)
    edited["date"] += 1
    victim.write_text(json.dumps(edited))
    described = json.loads((second / MACHINE / "machine.json").read_text())
    described["cpu"] = "another CPU model"
    (second / MACHINE / "machine.json").write_text(json.dumps(described))
    (second / MACHINE / ".a1b2c3.partial").write_text('{"commit_hash": "7f')
    not_its_own = sidecar(victim)  # belongs to the shard's run, not to the committed file

    done = shards.merge([second, first], into, MACHINE)  # in shard order, whatever the order given
    assert len(done.added) == 2 and len(done.kept) == 1
    assert committed.read_bytes() == before  # a committed file is never replaced
    assert not (into / MACHINE / not_its_own.name).exists()
    notes = "\n".join(done.notes)
    assert "in cpu" in notes and "half-written" in notes and "already there" in notes
    merged_machine = (into / MACHINE / "machine.json").read_bytes()
    assert merged_machine == (first / MACHINE / "machine.json").read_bytes()
    assert not list(into.rglob("*.partial"))
    assert results_check.check_results(into) == []


@pytest.mark.parametrize(
    "fault", ["conflict", "other-machine", "other-suite", "truncated", "quick"]
)
def test_a_bad_shard_is_refused_and_the_target_left_as_it_was(tmp_path, fault):
    first, second = shard_folders(tmp_path, [[0, 1], [2, 3]])
    into = tmp_path / "results"
    shard_folders(tmp_path / "committed", [[0]])
    shutil.copytree(tmp_path / "committed" / "shard-1", into)
    before = snapshot(into)
    victim = next((second / MACHINE).glob("*-*.json"))
    if fault == "conflict":  # two shards measured one commit differently
        data = json.loads(victim.read_text())
        data["date"] += 1
        (first / MACHINE / victim.name).write_text(json.dumps(data))
    elif fault == "other-machine":
        result_file(second, "ab" * 20, machine="elsewhere").rename(second / MACHINE / "x.json")
    elif fault == "other-suite":
        suite = json.loads((second / "benchmarks.json").read_text())
        next(iter(suite.values()))["version"] = "edited"
        (second / "benchmarks.json").write_text(json.dumps(suite))
    elif fault == "truncated":
        victim.write_text(victim.read_text()[:300])
    elif fault == "quick":  # caught by check-results on the staged folder
        data = json.loads(victim.read_text())
        at = data["result_columns"].index("stats_repeat")
        for row in data["results"].values():
            if len(row) > at and row[at]:
                row[at] = [1 for _ in row[at]]
        victim.write_text(json.dumps(data))
    with pytest.raises(shards.ShardError) as refused:
        shards.merge([first, second], into, MACHINE)
    assert snapshot(into) == before
    assert str(tmp_path) in str(refused.value)  # names the file
    merge = ["shards", "--merge", str(first), str(second), "--machine", MACHINE]
    assert cli.main([*merge, "--results-dir", str(into)]) == 1


def test_a_machine_no_shard_measured_is_refused(tmp_path):
    folders = shard_folders(tmp_path, [[0], [1]])
    with pytest.raises(shards.ShardError, match="no shard holds results of 'vm'"):
        shards.merge(folders, tmp_path / "results", "vm")
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
def test_two_shards_measured_apart_publish_one_dashboard(
    tmp_path, quick, data_root, keeps_the_chosen_source, capsys
):
    started = time.monotonic()
    source.prepare(pypi=True, say=lambda m: None)
    repo = source.Layout().pypi_history
    machine = "shards-test"
    for name in ("runner-1", "runner-2", "merged"):  # each its own results folder and home
        (tmp_path / name).mkdir()
    runners = [Workspace(repo, tmp_path / f"runner-{i}", data_root, machine) for i in (1, 2)]
    merged = Workspace(repo, tmp_path / "merged", data_root, machine)

    argv = ["shards", "--config", str(merged.work / "asv.conf.json"), "--machine", machine]
    assert cli.main([*argv, "--shards", "2", "--out", str(tmp_path / "plan")]) == 0
    matrix = json.loads(capsys.readouterr().out)["include"]
    assert [e["count"] for e in matrix] == [1, 1]  # v0.1.1 (the newest) and v0.1.0
    commits = [e["commits"] for e in matrix]

    for runner, entry in zip(runners, matrix, strict=True):  # one after the other: one .asv/env
        hashfile = tmp_path / "plan" / f"shard-{entry['shard']}.txt"
        proc = runner.asv(
            "run", "--show-stderr", "--skip-existing", "--machine", machine,
            "-b", r"^ingest\.DiskSpace", f"HASHFILE:{hashfile}",
        )  # fmt: skip
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    shard_results = [r.work / "results" for r in runners]
    assert (shard_results[0] / "benchmarks.json").read_bytes() == (
        shard_results[1] / "benchmarks.json"
    ).read_bytes()

    merge = ["shards", "--merge", *map(str, shard_results), "--machine", machine]
    assert cli.main([*merge, "--results-dir", str(merged.work / "results")]) == 0
    assert "2 result files added" in capsys.readouterr().err
    assert cli.main(["check-results", str(merged.work / "results")]) == 0
    assert ": OK" in capsys.readouterr().out
    assert (merged.results / "machine.json").read_bytes() == (
        shard_results[0] / machine / "machine.json"
    ).read_bytes()
    assert cli.main([*argv, "--shards", "2", "--out", str(tmp_path / "left")]) == 0
    assert json.loads(capsys.readouterr().out) == {"include": []}  # nothing left to measure

    published = merged.asv("publish")
    assert published.returncode == 0, published.stdout + published.stderr
    index = json.loads((merged.work / "html" / "index.json").read_text())
    assert list(index["machines"]) == [machine]
    drawn = (merged.work / "html" / "graphs").rglob("ingest.DiskSpace.track_bytes_per_volume.json")
    graphs = [p for p in drawn if "summary" not in p.parts]
    assert len(graphs) == 1, graphs  # one series: both shards recorded one machine description
    points = json.loads(graphs[0].read_text())
    assert {index["revision_to_hash"][str(revision)] for revision, _ in points} == set(commits)
    assert all(v is not None for _, values in points for v in values)
    for folder in ("results", "results-pypi"):  # nothing written into the checkout's results
        assert not (ROOT / folder / machine).exists()
    for folder in ("html", "html-pypi"):  # nor its dashboards
        published_there = ROOT / folder / "index.json"
        assert not published_there.is_file() or machine not in published_there.read_text()
    print(f"two shards, merge and publish: {time.monotonic() - started:.0f} s")
