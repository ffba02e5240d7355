"""`radibench report` on the committed asv results fixture.

Why: the report is what docs/numbers.md shows; these tests recompute its numbers straight from the
fixture's JSON (independently of radibench.tools.report's parser) so a wrong column, a mislabelled
parameter or an inverted winner fails here.
"""

from __future__ import annotations

import ast
import itertools
import json
import shutil
from pathlib import Path

import matplotlib.image
import pytest

from radibench.tools import report

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "asv_results"
# The current suite (study-only loaders, storage, recipes) at one commit; FIXTURE is the older
# suite, whose loaders still held torchio_queue. Both made by FIXTURE / "generate.py".
RECIPES_FIXTURE = FIXTURE.parent / "asv_results_recipes"
MACHINE = "fixture-machine"
FRAMEWORKS = ["radiobject", "monai", "torchio", "torchio_queue"]
RECIPE_BENCHMARKS = [
    f"recipes.Recipes.{m}"
    for m in (
        "track_seconds_per_sample",
        "track_epoch_seconds_per_sample",
        "track_cold_start",
        "track_cache_build",
        "track_slowest_batch",
        "track_peak_memory",
    )
]
RECIPE_BENCHMARKS += [
    "recipes.Correctness.track_distinct_patches",
    "recipes.Correctness.track_first_batch_mismatches",
]
RECIPE_BENCHMARKS += [
    f"recipes.Cohorts.{m}"
    for m in (
        "track_seconds_per_sample",
        "track_epoch_seconds_per_sample",
        "track_peak_memory",
        "track_cache_build",
    )
]
FASTEST = "the highest samples/s over two epochs (refills included)"  # the throughput regime
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
        assert pixels.shape[:2] == (450, 800), name  # docs/numbers.md's layout relies on 800 x 450
        assert pixels[..., :3].std() > 0.05, f"{name} looks blank"
        assert f"]({name})" in (out / "report.md").read_text()


def test_summary_json_round_trips(built):
    out, summary = built
    loaded = json.loads((out / "summary.json").read_text())
    assert loaded["commit"] == summary["commit"]
    assert loaded["charts"] == CHARTS
    assert loaded["missing"] == RECIPE_BENCHMARKS  # the older suite had no recipes.py
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
    assert summary["missing"] == RECIPE_BENCHMARKS
    assert summary["frameworks"]["cold_start"]["benchmark"] == "loaders.ColdStart.time_first_batch"
    cold = raw_column(newest_raw(), "loaders.TrainingLoader.time_first_batch", "result")
    values = summary["frameworks"]["cold_start"]["values"]
    assert [values[f].value for f in FRAMEWORKS] == cold
    assert "`loaders.Memory.peakmem_training`" in (tmp_path / "out" / "report.md").read_text()


# --- the recipe comparison (benchmarks/recipes.py) ----------------------------------------------
# Expected values are recomputed here from the fixture's JSON (itertools.product over asv's
# parameter grid, NaN and null as n/a), never taken from report_recipes.

STUDY = {"radiobject", "monai", "torchio"}
RECIPE_CHARTS = ["recipes_throughput_memory.png", "recipes_cohorts.png"]


def recipes_raw(folder: Path = RECIPES_FIXTURE) -> dict:
    (path,) = [p for p in (folder / MACHINE).glob("*.json") if p.name != "machine.json"]
    return json.loads(path.read_text())


def grid(data: dict, name: str) -> dict:
    """{parameter combination: value or None} of one benchmark, read the plain way."""
    combos = itertools.product(*raw_column(data, name, "params"))
    values = raw_column(data, name, "result")
    return {
        tuple(ast.literal_eval(v) for v in combo): (
            None if value is None or value != value else value
        )
        for combo, value in zip(combos, values, strict=True)
    }


def family(recipe: str) -> str:
    return recipe.split("_")[0]


def expected_rows(data: dict) -> dict:
    """{(recipe, workers): {column: number}} straight from the raw results."""
    m = {k: grid(data, f"recipes.Recipes.track_{k}") for k in (
        "seconds_per_sample", "epoch_seconds_per_sample", "cold_start", "cache_build",
        "slowest_batch", "peak_memory")}  # fmt: skip
    distinct = grid(data, "recipes.Correctness.track_distinct_patches")
    wrong = grid(data, "recipes.Correctness.track_first_batch_mismatches")
    rows = {}
    for combo, spp in m["seconds_per_sample"].items():
        recipe = combo[0]
        build, cold = m["cache_build"][combo], m["cold_start"][combo]
        rows[combo] = {
            "samples_per_s": None if spp is None else 1 / spp,
            "epoch_samples_per_s": 1 / m["epoch_seconds_per_sample"][combo],
            "cold_start": cold,
            "cache_build": build,
            "slowest_batch": m["slowest_batch"][combo],
            "peak_memory": m["peak_memory"][combo],
            "first_batch": build + cold,
            "distinct": distinct[(recipe,)],
            "mismatches": wrong[(recipe,)],
        }
    return rows


def md_table(md: str, heading: str) -> tuple[list[str], list[list[str]]]:
    """(header cells, rows of cells) of the first table after a markdown heading."""
    lines = md.splitlines()
    start = lines.index(heading)
    table = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            table.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif table:
            break
    return table[0], table[2:]


def unit_divisor(header: str) -> float:
    unit = header.rsplit("(", 1)[-1].rstrip(")") if header.endswith(")") else ""
    return {"ms": 1e-3, "s": 1.0, "MiB": 2**20, "GiB": 2**30}.get(unit, 1.0)


def shown(value: float | None, header: str = "") -> str:
    return "n/a" if value is None else f"{value / unit_divisor(header):.4g}"


@pytest.fixture(scope="module")
def recipes_built(tmp_path_factory) -> tuple[Path, dict, str]:
    out = tmp_path_factory.mktemp("recipes-report")
    summary = report.build_report(RECIPES_FIXTURE, out)
    return out, summary, (out / "report.md").read_text()


def edited_recipes(tmp_path: Path, change) -> tuple[dict, str]:
    """The report of a copy of the recipe fixture whose raw results `change` edited."""
    results = tmp_path / "results"
    shutil.copytree(RECIPES_FIXTURE, results, ignore=shutil.ignore_patterns("*.py"))
    (path,) = [p for p in (results / MACHINE).glob("*.json") if p.name != "machine.json"]
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    summary = report.build_report(results, tmp_path / "out")
    return summary, (tmp_path / "out" / "report.md").read_text()


def set_value(data: dict, name: str, combo: tuple, value) -> None:
    combos = [
        tuple(ast.literal_eval(v) for v in c)
        for c in itertools.product(*raw_column(data, name, "params"))
    ]
    data["results"][name][0][combos.index(combo)] = value


def test_the_recipe_fixture_is_the_current_suite(recipes_built):
    _, summary, _ = recipes_built
    assert summary["missing"] == []
    assert summary["frameworks"]["throughput"]["values"].keys() == STUDY  # no torchio_queue
    assert summary["charts"][-2:] == RECIPE_CHARTS


def test_every_recipe_table_equals_the_fixture(recipes_built):
    _, summary, md = recipes_built
    rows = expected_rows(recipes_raw())
    columns = {  # header start -> expected key
        "samples/s over two epochs": "epoch_samples_per_s", "cold start": "cold_start",
        "cache build": "cache_build", "slowest batch": "slowest_batch",
        "peak memory": "peak_memory", "distinct patches": "distinct",
        "first-batch voxel mismatches": "mismatches",
    }  # fmt: skip
    for workers in (0, 2):
        header, table = md_table(md, f"### Every recipe, {workers} workers")
        assert not any("winner" in h for h in header)
        assert header[:3] == ["recipe", "set", "samples/s"]
        assert [r[0] for r in table] == [r for r, w in rows if w == workers]
        for cells in table:
            want = rows[cells[0], workers]
            assert cells[1] == ("study" if cells[0] in STUDY else "best")
            assert cells[2] == shown(want["samples_per_s"])
            for i, head in enumerate(header[3:-1], start=3):
                key = next(v for k, v in columns.items() if head.startswith(k))
                assert cells[i] == shown(want[key], head), (cells[0], head)
            assert cells[-1] == ""  # no n/a in this row, so no note
    for row in summary["recipes"]["rows"]:
        want = rows[row["recipe"], row["workers"]]
        assert row["samples_per_s"] == pytest.approx(want["samples_per_s"])
        assert row["peak_memory"] == want["peak_memory"]
        assert row["first_batch"] == pytest.approx(want["first_batch"])


def test_ladder_goes_from_the_study_recipe_to_each_best_recipe(recipes_built):
    _, summary, md = recipes_built
    rows = expected_rows(recipes_raw())
    ladder = summary["recipes"]["ladder"]
    expected = [
        (family(best), workers, study, best)
        for study in ("radiobject", "monai", "torchio")
        for workers in (0, 2)
        for best, w in rows
        if w == workers and family(best) == study and best != study
    ]
    assert sorted((r["family"], r["workers"], r["study"], r["best"]) for r in ladder) == sorted(
        expected
    )
    lines = md.splitlines()
    for r in ladder:
        study, best = rows[r["study"], r["workers"]], rows[r["best"], r["workers"]]
        factor = best["epoch_samples_per_s"] / study["epoch_samples_per_s"]
        memory = best["peak_memory"] / study["peak_memory"]
        assert r["throughput_factor"] == pytest.approx(factor)
        assert r["memory_factor"] == pytest.approx(memory)
        start = f"| {r['workers']} | {r['study']} | {study['epoch_samples_per_s']:.4g} |"
        line = next(x for x in lines if x.startswith(start) and f"| {r['best']} |" in x)
        assert f"| {best['epoch_samples_per_s']:.4g} | {factor:.4g} |" in line
        assert line.endswith(f"| {memory:.4g} |")


def test_headline_compares_radiobject_with_each_peers_best_recipe(recipes_built):
    _, summary, md = recipes_built
    rows = expected_rows(recipes_raw())
    header, table = md_table(md, "### Headline: RadiObject against each peer's best recipe")
    assert header[4:6] == ["radiobject ÷ best", "radiobject_random ÷ best"]
    assert len(table) == 4  # 2 peers x 2 worker counts
    names = {"MONAI": "monai", "TorchIO": "torchio"}
    for cells in table:
        workers, peer = int(cells[0]), names[cells[1]]
        theirs = {r: v for (r, w), v in rows.items() if w == workers and family(r) == peer}
        best = max(theirs, key=lambda r: theirs[r]["epoch_samples_per_s"])
        top = theirs[best]["epoch_samples_per_s"]
        assert cells[2] == best
        assert cells[3] == f"{top:.4g}"
        ours = {
            r: rows[r, workers]["epoch_samples_per_s"] for r in ("radiobject", "radiobject_random")
        }
        assert cells[4] == f"{ours['radiobject'] / top:.4g}"
        assert cells[5] == f"{ours['radiobject_random'] / top:.4g}"
        study = ours["radiobject"] / theirs[peer]["epoch_samples_per_s"]
        assert cells[6] == f"{study:.4g} (radiobject ÷ {peer})"
    assert any(r["peer_best"] != "monai" for r in summary["recipes"]["headline"])


@pytest.mark.parametrize(
    ("key", "what", "higher"),
    [
        ("epoch_samples_per_s", FASTEST, True),
        ("first_batch", "the shortest time to a first batch, its cache build included", False),
        ("peak_memory", "the lowest peak memory", False),
    ],
)
def test_regimes_name_the_winner_and_say_when_a_peer_wins(recipes_built, key, what, higher):
    _, summary, md = recipes_built
    rows = expected_rows(recipes_raw())
    sentences = summary["recipes"]["regimes"]
    peer_wins = 0
    for workers in (0, 2):
        here = {r: v[key] for (r, w), v in rows.items() if w == workers}
        winner = (max if higher else min)(here, key=here.get)
        (sentence,) = [s for s in sentences if s.startswith(f"At {workers} workers, {what}: ")]
        assert sentence.split(": ", 1)[1].startswith(f"{winner} (")
        assert f"- {sentence}" in md
        peer = family(winner) != "radiobject"
        peer_wins += peer
        assert ("A peer wins this regime" in sentence) == peer
        if key == "epoch_samples_per_s":
            assert f"{here[winner]:.4g} samples/s" in sentence
        if peer:  # and it names RadiObject's best beside it
            ours = {r: v for r, v in here.items() if family(r) == "radiobject"}
            assert f"RadiObject's best there: {(max if higher else min)(ours, key=ours.get)}, " in (
                sentence
            )
    assert peer_wins, "the fixture should let a peer win this regime at one worker count"


def test_a_peer_with_the_highest_samples_per_s_is_named(tmp_path):
    """Make torchio_queue the fastest at 0 workers: the regime and the headline must say so."""
    name = "recipes.Recipes.track_epoch_seconds_per_sample"
    summary, md = edited_recipes(
        tmp_path, lambda d: set_value(d, name, ("torchio_queue", 0), 0.001)
    )
    (sentence,) = [
        s for s in summary["recipes"]["regimes"]
        if s.startswith(f"At 0 workers, {FASTEST}: ")
    ]  # fmt: skip
    assert sentence.startswith(f"At 0 workers, {FASTEST}: torchio_queue (TorchIO)")
    assert "1000 samples/s" in sentence and "A peer wins this regime" in sentence
    _, table = md_table(md, "### Headline: RadiObject against each peer's best recipe")
    row = next(c for c in table if c[:2] == ["0", "TorchIO"])
    assert row[2] == "torchio_queue" and row[3] == "1000"
    assert float(row[4]) < 1 and float(row[5]) < 1


def test_cohort_na_cell_shows_na_and_its_reason_only_there(recipes_built):
    _, summary, md = recipes_built
    data = recipes_raw()
    spp = grid(data, "recipes.Cohorts.track_seconds_per_sample")
    peak = grid(data, "recipes.Cohorts.track_peak_memory")
    na = [c for c, v in spp.items() if v is None]
    assert na == [("monai_cache", 100)]  # the fixture's cache over the memory budget
    header, table = md_table(md, "### Cohort scaling")
    epoch = grid(data, "recipes.Cohorts.track_epoch_seconds_per_sample")
    assert header[:2] == ["recipe", "subjects"]
    for cells in table:
        combo = (cells[0], int(cells[1]))
        assert cells[2] == shown(None if spp[combo] is None else 1 / spp[combo])
        assert cells[3] == shown(None if epoch[combo] is None else 1 / epoch[combo])
        assert cells[4] == shown(peak[combo], header[4])
        if combo in na:
            assert cells[2:6] == ["n/a"] * 4
            assert cells[-1] == "n/a: cache over the memory budget or not run"
        else:
            assert cells[-1] == ""
    assert md.count("cache over the memory budget or not run") == 2  # the row and its sentence
    (trend,) = [s for s in summary["recipes"]["cohort_trends"] if s.startswith("monai_cache:")]
    assert "n/a at 100 subjects" in trend and "at 40 (" in trend  # compared up to 40
    (trend,) = [s for s in summary["recipes"]["cohort_trends"] if s.startswith("radiobject:")]
    a, b = 1 / epoch["radiobject", 10], 1 / epoch["radiobject", 100]
    assert (
        f"samples/s over two epochs {a:.4g} at 10 subjects -> {b:.4g} at 100 ({b / a:.4g}x)"
        in trend
    )
    assert "n/a" not in trend


def test_correctness_findings(recipes_built):
    _, summary, md = recipes_built
    data = recipes_raw()
    distinct = grid(data, "recipes.Correctness.track_distinct_patches")
    wrong = grid(data, "recipes.Correctness.track_first_batch_mismatches")
    findings = summary["recipes"]["findings"]
    assert {r for (r,), v in distinct.items() if v == 1} == {"radiobject", "torchio"}
    for (recipe,), value in distinct.items():
        said = f"{recipe} repeats one patch per subject" in " ".join(findings)
        assert said == (value == 1), recipe
    for (recipe,), value in wrong.items():
        said = [f for f in findings if f.startswith(f"{recipe} read other voxels")]
        assert bool(said) == (value > 0), recipe
        if value:
            assert f"{value} voxels of its first batch differ" in said[0]
            assert f"- {said[0]}" in md


def test_distinct_patches_one_is_a_finding_and_eight_is_not(tmp_path):
    name = "recipes.Correctness.track_distinct_patches"

    def change(data):
        set_value(data, name, ("radiobject_random",), 1)
        set_value(data, name, ("radiobject",), 8)

    summary, _ = edited_recipes(tmp_path, change)
    findings = " ".join(summary["recipes"]["findings"])
    assert "radiobject_random repeats one patch per subject" in findings
    assert "radiobject repeats" not in findings


def test_a_failed_recipe_shows_na_and_wins_nothing(tmp_path):
    def fail(data):
        for method in ("track_seconds_per_sample", "track_epoch_seconds_per_sample"):
            set_value(data, f"recipes.Recipes.{method}", ("monai_cache", 2), None)

    summary, md = edited_recipes(tmp_path, fail)
    _, table = md_table(md, "### Every recipe, 2 workers")
    row = next(c for c in table if c[0] == "monai_cache")
    assert row[2] == "n/a" and row[-1] == "n/a: not run or failed"
    assert all(c[-1] == "" for c in table if c[0] != "monai_cache")
    (sentence,) = [
        s for s in summary["recipes"]["regimes"]
        if s.startswith(f"At 2 workers, {FASTEST}: ")
    ]  # fmt: skip
    assert "monai_cache" not in sentence
    _, table = md_table(md, "### Headline: RadiObject against each peer's best recipe")
    assert next(c for c in table if c[:2] == ["2", "MONAI"])[2] == "monai_persistent"


def test_recipe_charts_are_pngs_of_the_expected_size(recipes_built):
    out, summary, md = recipes_built
    for name in RECIPE_CHARTS:
        assert name in summary["charts"]
        pixels = matplotlib.image.imread(out / name)
        assert pixels.shape[:2] == (450, 800), name
        assert pixels[..., :3].std() > 0.05, f"{name} looks blank"
        assert f"]({name})" in md


def test_recipes_in_summary_json(recipes_built):
    out, summary, _ = recipes_built
    loaded = json.loads((out / "summary.json").read_text())
    assert loaded["recipes"]["regimes"] == summary["recipes"]["regimes"]
    rows = {(r["recipe"], r["workers"]): r for r in loaded["recipes"]["rows"]}
    assert rows["monai_cache", 2]["samples_per_s"] == pytest.approx(
        expected_rows(recipes_raw())["monai_cache", 2]["samples_per_s"]
    )
    cohort = {(r["recipe"], r["subjects"]): r for r in loaded["recipes"]["cohorts"]}
    assert cohort["monai_cache", 100]["samples_per_s"] is None


def test_older_results_with_torchio_queue_loaders_still_report(built):
    """Results from before recipes.py: torchio_queue among the loaders, no recipe rows."""
    out, summary = built
    assert "torchio_queue" in summary["frameworks"]["throughput"]["values"]
    assert summary["recipes"]["rows"] == [] and summary["recipes"]["regimes"] == []
    md = (out / "report.md").read_text()
    assert "Every recipe" not in md and "Headline" not in md
    assert not any(name in summary["charts"] for name in RECIPE_CHARTS)


def test_recipes_alone_report(tmp_path):
    """Results with only the recipe benchmarks: the recipe part, the rest listed as missing."""

    def keep_recipes(data):
        data["results"] = {k: v for k, v in data["results"].items() if k.startswith("recipes.")}

    summary, md = edited_recipes(tmp_path, keep_recipes)
    assert summary["frameworks"] == {} and summary["storage"] == {}
    assert "loaders.*.track_seconds_per_sample" in summary["missing"]
    assert "### Every recipe, 0 workers" in md and "## Training loaders" not in md


def test_study_peers_join_the_loaders_tables_measured_the_same_way(tmp_path):
    """Committed results where the loaders graphs are RadiObject's alone and the study's peers
    are loaders.StudyPeers: every framework is in each table, each from the same method (cold
    start: the protocol's track_cold_start for all, not the timed one for RadiObject alone)."""
    root = Path(__file__).resolve().parent.parent / "results"
    summary = report.build_report(root, tmp_path, machine="xeon-2c-24g")
    throughput = summary["frameworks"]["throughput"]
    assert set(throughput["values"]) == {"radiobject", "monai", "torchio"}
    assert "loaders.StudyPeers.track_seconds_per_sample" in throughput["benchmark"]
    cold = summary["frameworks"]["cold_start"]["benchmark"]
    assert cold == "loaders.TrainingLoader.track_cold_start + loaders.StudyPeers.track_cold_start"
