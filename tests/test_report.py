"""`radibench report` on the committed asv results fixture.

Why: the report is what the README shows; these tests recompute its numbers straight from the
fixture's JSON (independently of radibench.tools.report's parser) so a wrong column, a mislabelled
parameter or an inverted winner fails here.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import matplotlib.image
import pytest

from radibench.tools import report

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "asv_results"
MACHINE = "fixture-machine"
FRAMEWORKS = ["radiobject", "monai", "torchio", "torchio_queue"]
CHARTS = [
    "framework_throughput.png",
    "framework_cold_start.png",
    "framework_peak_memory.png",
    "storage_s3_vs_local.png",
]


def raw_files() -> list[dict]:
    return [
        json.loads(p.read_text())
        for p in sorted((FIXTURE / MACHINE).glob("*.json"))
        if p.name != "machine.json"
    ]


def newest_raw() -> dict:
    return max(raw_files(), key=lambda d: d["date"])


def raw_column(data: dict, name: str, column: str) -> list:
    """A column of one benchmark's row, read the plain way: by result_columns index."""
    row = data["results"][name]
    index = data["result_columns"].index(column)
    return row[index] if index < len(row) else None


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("report")
    summary = report.build_report(FIXTURE, out)
    return out, summary


def test_default_is_newest_commit_of_the_only_machine(built):
    _, summary = built
    assert summary["machine"] == MACHINE
    assert summary["commit"] == newest_raw()["commit_hash"]
    assert len(raw_files()) >= 3


def test_framework_numbers_equal_the_fixture(built):
    out, summary = built
    data = newest_raw()
    spp = raw_column(data, "loaders.TrainingLoader.track_seconds_per_sample", "result")
    cold = raw_column(data, "loaders.TrainingLoader.time_first_batch", "result")
    peak = raw_column(data, "loaders.TrainingLoader.peakmem_training", "result")
    params = raw_column(data, "loaders.TrainingLoader.time_first_batch", "params")
    assert params == [[f"'{f}'" for f in FRAMEWORKS]]

    values = summary["frameworks"]
    for i, framework in enumerate(FRAMEWORKS):
        assert values["throughput"]["values"][framework].value == pytest.approx(1 / spp[i])
        assert values["cold_start"]["values"][framework].value == cold[i]
        assert values["peak_memory"]["values"][framework].value == peak[i]

    # The markdown shows the same numbers: throughput in samples/s, cold start in ms, memory in
    # MiB (the fixture's values fall in those ranges), with the winner named per row.
    md = (out / "report.md").read_text()
    rows = {line.split(" | ")[0].lstrip("| "): line for line in md.splitlines()}
    throughput = rows["Throughput"]
    assert "samples/s" in throughput
    for v in spp:
        assert f"{1 / v:.4g}" in throughput
    assert throughput.rstrip(" |").endswith(FRAMEWORKS[spp.index(min(spp))])
    cold_row = rows["Cold start (first batch)"]
    assert "| ms |" in cold_row
    for v in cold:
        assert f"{v * 1000:.4g}" in cold_row
    assert cold_row.rstrip(" |").endswith(FRAMEWORKS[cold.index(min(cold))])
    peak_row = rows["Peak memory (RSS)"]
    assert "| MiB |" in peak_row
    for v in peak:
        assert f"{v / 2**20:.4g}" in peak_row
    assert peak_row.rstrip(" |").endswith(FRAMEWORKS[peak.index(min(peak))])


def test_error_bars_come_from_asv_confidence_interval(built):
    _, summary = built
    data = newest_raw()
    name = "loaders.TrainingLoader.time_first_batch"
    low = raw_column(data, name, "stats_ci_99_a")
    high = raw_column(data, name, "stats_ci_99_b")
    for i, framework in enumerate(FRAMEWORKS):
        point = summary["frameworks"]["cold_start"]["values"][framework]
        assert (point.low, point.high) == (low[i], high[i])
        assert point.low <= point.value <= point.high


def test_relative_cost_and_speedup(built):
    out, summary = built
    raw = raw_column(newest_raw(), "loaders.RadiObjectVersusPeers.track_relative_cost", "result")
    for i, peer in enumerate(["monai", "torchio"]):
        row = summary["relative_cost"][peer]
        assert row["relative_cost"].value == raw[i]
        assert row["speedup"].value == pytest.approx(1 / raw[i])
        assert f"| {peer} | {raw[i]:.4g} | {1 / raw[i]:.4g} |" in (out / "report.md").read_text()


def test_storage_table_keeps_params_apart_and_shows_na(built):
    out, summary = built
    data = newest_raw()
    name = "storage.S3VersusLocal.time_warm_batch"
    raw = raw_column(data, name, "result")
    assert raw_column(data, name, "params") == [["'local'", "'s3-lan'", "'s3-cloud'"], ["0", "2"]]
    labels = [f"{s} ({w} workers)" for s in ("local", "s3-lan", "s3-cloud") for w in (0, 2)]
    warm = summary["storage"]["warm_batch"]["values"]
    assert list(warm) == labels
    for label, value in zip(labels, raw, strict=True):
        expected = None if value != value else value  # NaN: asv's "skipped"
        assert warm[label].value == expected
    assert warm["s3-cloud (2 workers)"].value is None
    md = (out / "report.md").read_text()
    na_row = next(line for line in md.splitlines() if line.startswith("| s3-cloud (2 workers)"))
    assert na_row.count("n/a") == len(summary["storage"])


def test_charts_are_pngs_of_the_expected_size(built):
    out, summary = built
    assert summary["charts"] == CHARTS
    for name in CHARTS:
        pixels = matplotlib.image.imread(out / name)
        assert pixels.shape[:2] == (450, 800), name  # README layout relies on 800 x 450
        assert pixels[..., :3].std() > 0.05, f"{name} looks blank"
        assert f"]({name})" in (out / "report.md").read_text()


def test_summary_json_round_trips(built):
    out, summary = built
    loaded = json.loads((out / "summary.json").read_text())
    assert loaded["commit"] == summary["commit"]
    assert loaded["charts"] == CHARTS
    assert loaded["missing"] == []
    value = loaded["frameworks"]["cold_start"]["values"]["monai"]["value"]
    assert value == summary["frameworks"]["cold_start"]["values"]["monai"].value
    assert loaded["storage"]["warm_batch"]["values"]["s3-cloud (2 workers)"]["value"] is None


def test_missing_storage_and_failed_values_do_not_break_the_report(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(FIXTURE, results, ignore=shutil.ignore_patterns("*.py"))
    newest = max(
        (p for p in (results / MACHINE).glob("*.json") if p.name != "machine.json"),
        key=lambda p: json.loads(p.read_text())["date"],
    )
    data = json.loads(newest.read_text())
    data["results"] = {k: v for k, v in data["results"].items() if not k.startswith("storage.")}
    row = data["results"]["loaders.TrainingLoader.time_first_batch"]
    row[0] = [None, *row[0][1:]]  # asv writes null for a failed benchmark
    del data["results"]["loaders.TrainingLoader.peakmem_training"]
    newest.write_text(json.dumps(data))

    summary = report.build_report(results, tmp_path / "out")
    assert summary["storage"] == {}
    assert "peak_memory" not in summary["frameworks"]
    assert "loaders.*.peakmem_training" in summary["missing"]
    assert "storage.*.time_warm_batch" in summary["missing"]
    cold = summary["frameworks"]["cold_start"]
    assert cold["values"]["radiobject"].value is None
    assert "radiobject" not in cold["winner"]
    assert summary["charts"] == ["framework_throughput.png", "framework_cold_start.png"]
    md = (tmp_path / "out" / "report.md").read_text()
    assert "S3 versus local" not in md
    assert "`storage.*.time_warm_batch`" in md


def test_commit_and_machine_options(tmp_path):
    oldest = min(raw_files(), key=lambda d: d["date"])
    assert report.main(
        ["--results-dir", str(FIXTURE), "--commit", oldest["commit_hash"][:8],
         "--machine", MACHINE, "--out", str(tmp_path)]
    ) == 0  # fmt: skip
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["commit"] == oldest["commit_hash"]
    with pytest.raises(SystemExit, match="no results for machine"):
        report.load_run(FIXTURE, machine="nope")
    with pytest.raises(SystemExit, match="no results for commit"):
        report.load_run(FIXTURE, commit="0000000")


def test_winners_ties_and_na():
    p = report.Point
    assert report.winners({"a": p(1.0), "b": p(2.0), "c": p(None)}, "lower") == ["a"]
    assert report.winners({"a": p(1.0), "b": p(2.0)}, "higher") == ["b"]
    assert report.winners({"a": p(1.0), "b": p(1.0), "c": p(3.0)}, "lower") == ["a", "b"]
    assert report.winners({"a": p(2.0), "b": p(2.0)}, "lower") == []  # all equal: no winner
    assert report.winners({"a": p(None)}, "lower") == []


def test_quartiles_are_used_when_there_is_no_confidence_interval():
    data = {
        "commit_hash": "ab" * 20,
        "date": 0,
        "result_columns": ["result", "params", "version", "started_at", "duration",
                           "stats_ci_99_a", "stats_ci_99_b", "stats_q_25", "stats_q_75"],
        "results": {
            "loaders.TrainingLoader.time_first_batch": [
                [2.0, None], [["'radiobject'", "'monai'"]], "v", 0, 1.0,
                [None, None], [None, None], [1.5, None], [2.5, None],
            ],
            "loaders.TrainingLoader.track_seconds_per_sample": [[0.5, 0.25], [["'a'", "'b'"]]],
        },
    }  # fmt: skip
    run = report.parse_result_file(data, {}, Path("x.json"), "m")
    cold = run.benchmarks["loaders.TrainingLoader.time_first_batch"].points
    assert cold[("radiobject",)] == report.Point(2.0, 1.5, 2.5)
    assert cold[("monai",)] == report.Point(None)
    throughput = report.metric(run, report.FRAMEWORK_METRICS[0])
    assert throughput["values"]["a"].value == 2.0 and throughput["winner"] == ["b"]
    assert report.transformed(report.Point(2.0, 1.0, 4.0), True) == report.Point(0.5, 0.25, 1.0)


def test_benchmarks_are_found_whatever_class_holds_them(tmp_path):
    """The suite may split TrainingLoader (ColdStart.time_first_batch, ...): same report."""
    results = tmp_path / "results"
    shutil.copytree(FIXTURE, results, ignore=shutil.ignore_patterns("*.py"))
    moves = {
        "loaders.TrainingLoader.time_first_batch": "loaders.ColdStart.time_first_batch",
        "loaders.TrainingLoader.time_warm_batch": "loaders.WarmBatch.time_warm_batch",
        "loaders.TrainingLoader.peakmem_training": "loaders.Memory.peakmem_training",
    }
    bench = json.loads((results / "benchmarks.json").read_text())
    for old, new in moves.items():
        bench[new] = {**bench.pop(old), "name": new}
    (results / "benchmarks.json").write_text(json.dumps(bench))
    for path in (results / MACHINE).glob("*-*.json"):
        data = json.loads(path.read_text())
        data["results"] = {moves.get(k, k): v for k, v in data["results"].items()}
        path.write_text(json.dumps(data))

    summary = report.build_report(results, tmp_path / "out")
    assert summary["missing"] == []
    assert summary["frameworks"]["cold_start"]["benchmark"] == "loaders.ColdStart.time_first_batch"
    cold = raw_column(newest_raw(), "loaders.TrainingLoader.time_first_batch", "result")
    values = summary["frameworks"]["cold_start"]["values"]
    assert [values[f].value for f in FRAMEWORKS] == cold
    assert "`loaders.Memory.peakmem_training`" in (tmp_path / "out" / "report.md").read_text()
