"""`radibench report` (what docs/numbers.md shows) on small literal results: the words follow
the intervals.

Each test writes a results folder of a few benchmarks (tests/results_files.py) with the values a
case needs, builds the report and reads what a person would read: report.md's sentences and
cells, the printed answer, summary.json. One golden report (tests/fixtures/report_golden.md)
pins the whole document on the recipes fixture; regenerate it on purpose with
`RADIBENCH_REGENERATE_GOLDEN=1 pytest tests/test_report.py` and review the diff.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import matplotlib.image
import pytest
from results_files import write_results

from radibench.tools import asv_results, report
from radibench.tools.report import markdown

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLDEN = FIXTURES / "report_golden.md"
MS = 1e-3


def recipes(rows: dict[tuple, tuple], method="track_epoch_seconds_per_sample") -> dict:
    """One recipes.Recipes benchmark: {(recipe, workers): (median, low, high) or None}."""
    return {
        f"recipes.Recipes.{method}": {
            "param_names": ["recipe", "workers"],
            "values": {combo: value for combo, value in rows.items()},
        }
    }


def build(tmp_path: Path, benchmarks: dict) -> tuple[dict, str]:
    results = write_results(tmp_path / "results", benchmarks)
    summary = report.build_report(results, tmp_path / "out")
    return summary, (tmp_path / "out" / "report.md").read_text()


def regime(md: str, start: str) -> str:
    return next(line for line in md.splitlines() if line.startswith(f"- At {start}"))


def test_golden_report(tmp_path):
    """The whole report on the recipes fixture, as committed."""
    report.build_report(FIXTURES / "asv_results_recipes", tmp_path)
    text = (tmp_path / "report.md").read_text()
    if os.environ.get("RADIBENCH_REGENERATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def test_a_winner_is_named_when_the_intervals_are_apart(tmp_path):
    # seconds per sample from 5 processes each: radiobject_random 10 ms, monai_cache 20 ms
    _, md = build(
        tmp_path,
        recipes(
            {
                ("radiobject_random", 0): (10 * MS, 9 * MS, 11 * MS),
                ("monai_cache", 0): (20 * MS, 18 * MS, 22 * MS),
            }
        ),
    )
    sentence = regime(md, "0 workers, the highest samples/s")
    assert "radiobject_random (RadiObject), 100 (91–111) samples/s." in sentence
    assert "The best peer recipe there: monai_cache, 50 (45–56) samples/s." in sentence
    assert "no measurable difference" not in sentence


def test_overlapping_intervals_are_no_measurable_difference(tmp_path):
    summary, md = build(
        tmp_path,
        recipes(
            {
                ("radiobject_random", 0): (10 * MS, 9 * MS, 13 * MS),
                ("monai_cache", 0): (12 * MS, 11 * MS, 14 * MS),
            }
        ),
    )
    sentence = regime(md, "0 workers, the highest samples/s")
    assert sentence.startswith(
        "- At 0 workers, the highest samples/s over two epochs (refills included): no "
        "measurable difference between radiobject_random (RadiObject) 100 (77–111) samples/s, "
        "monai_cache (MONAI) 83 (71–91) samples/s."
    )
    answer = "\n".join(markdown.answer(summary))
    assert "radiobject_random against MONAI's best (monai_cache) at 0 workers: " in answer
    assert "no measurable difference" in answer


def test_single_process_figures_are_marked_and_compared_with_the_spread(tmp_path):
    _, md = build(
        tmp_path,
        recipes({("radiobject", 0): (10 * MS, None, None), ("monai", 0): (11 * MS, None, None)}),
    )
    assert "no measurable difference between radiobject (RadiObject) 100† samples/s" in md
    assert "91† samples/s" in md  # 1 / 11 ms, two digits, marked


def test_the_headline_ratio_carries_its_interval(tmp_path):
    summary, md = build(
        tmp_path,
        recipes(
            {
                ("radiobject_random", 0): (10 * MS, 9 * MS, 11 * MS),
                ("monai_cache", 0): (20 * MS, 18 * MS, 22 * MS),
            }
        ),
    )
    ratio = summary["recipes"]["headline"][0]["ratios"]["radiobject_random"]
    assert ratio.number == pytest.approx(2.0)
    assert (ratio.low, ratio.high) == (pytest.approx(18 / 11), pytest.approx(22 / 9))
    assert "| 0 | MONAI | monai_cache | 50 (45–56) | 2.0 (1.6–2.4) |" in md
    assert "RadiObject faster" in "\n".join(markdown.answer(summary))


def test_a_failed_recipe_shows_na_and_wins_nothing(tmp_path):
    summary, md = build(
        tmp_path,
        recipes({("radiobject", 0): "failed", ("monai", 0): (200 * MS, 190 * MS, 210 * MS)}),
    )
    row = next(line for line in md.splitlines() if line.startswith("| radiobject | study |"))
    assert row.endswith("| n/a | n/a: not run or failed |")
    sentence = regime(md, "0 workers, the highest samples/s")
    assert "monai (MONAI), 5.00 (4.76–5.26) samples/s. A peer wins this regime." in sentence
    rows = {r["recipe"]: r for r in summary["recipes"]["rows"]}
    assert rows["radiobject"]["epoch_samples_per_s"].outcome == "failed"


def test_a_measured_row_names_only_the_columns_it_lacks(tmp_path):
    """A results file older than a metric still holds measured rows: the note names the gaps
    instead of calling the whole row not run."""
    benchmarks = recipes({("radiobject", 0): (10 * MS, 9 * MS, 11 * MS)})
    benchmarks |= recipes(
        {("radiobject", 0): (10 * MS, 9 * MS, 11 * MS)}, method="track_seconds_per_sample"
    )
    _, md = build(tmp_path, benchmarks)
    row = next(line for line in md.splitlines() if line.startswith("| radiobject | study |"))
    assert row.startswith("| radiobject | study | 100 (91–111) | 100 (91–111) | n/a |")
    note = row.rstrip(" |").rsplit("| ", 1)[1]
    assert note.startswith("n/a for cold start, cache build, slowest batch, peak memory (PSS)")
    assert note.endswith(": not run or failed")
    assert "samples/s" not in note


def test_the_same_configuration_in_two_tables_is_checked(tmp_path):
    benchmarks = recipes(
        {("radiobject", 0): (10 * MS, 9 * MS, 11 * MS)}, method="track_seconds_per_sample"
    )
    benchmarks["loaders.TrainingLoader.track_seconds_per_sample"] = {
        "param_names": ["framework"],
        "values": {("radiobject",): (20 * MS, 19 * MS, 21 * MS)},
    }
    _, md = build(tmp_path, benchmarks)
    assert (
        "- radiobject at 0 workers: 100 (91–111) samples/s here, 50.0 (47.6–52.6) samples/s in the "
        "study's loaders table: the two disagree beyond their intervals." in md
    )


def test_summary_json_keeps_every_interval(tmp_path):
    build(tmp_path, recipes({("radiobject", 0): (10 * MS, 9 * MS, 11 * MS)}))
    data = json.loads((tmp_path / "out" / "summary.json").read_text())
    value = data["recipes"]["rows"][0]["epoch_samples_per_s"]
    assert value == {
        "value": pytest.approx(100.0),
        "low": pytest.approx(1 / 11 / MS),
        "high": pytest.approx(1 / 9 / MS),
        "samples": 5,
    }


def test_charts_are_pngs_of_the_expected_size(tmp_path):
    summary = report.build_report(FIXTURES / "asv_results_recipes", tmp_path)
    assert summary["charts"]
    for name in summary["charts"]:
        assert matplotlib.image.imread(tmp_path / name).shape[:2] == (450, 800), name


def test_missing_benchmarks_are_listed_not_fatal(tmp_path):
    summary, md = build(tmp_path, recipes({("radiobject", 0): (10 * MS, 9 * MS, 11 * MS)}))
    assert "storage.*.track_warm_batch or storage.*.time_warm_batch" in summary["missing"]
    assert "## Not in these results" in md
    assert summary["storage"] == {}


def test_commit_and_machine_options(tmp_path):
    fixture = FIXTURES / "asv_results"
    runs = asv_results.read_folder(fixture / "fixture-machine")
    oldest = min(runs, key=lambda r: r.date)
    argv = ["--results-dir", str(fixture), "--commit", oldest.commit[:8]]
    assert report.main([*argv, "--machine", "fixture-machine", "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "summary.json").read_text())["commit"] == oldest.commit
    with pytest.raises(SystemExit, match="no results for machine"):
        asv_results.newest_run(fixture, machine="nope")
    with pytest.raises(SystemExit, match="no results for commit"):
        asv_results.newest_run(fixture, commit="0000000")


def test_cold_runs_have_their_own_section_and_never_stand_in_for_warm_ones(tmp_path):
    """regimes.ColdCache measures the same methods as recipes.Recipes: the warm tables read
    Recipes alone, the cold section ColdCache alone."""
    warm = {("radiobject_random", 0): (10 * MS, 9 * MS, 11 * MS)}
    cold = {("radiobject_random", 0): (40 * MS, 36 * MS, 44 * MS)}
    benchmarks = recipes(warm)
    benchmarks.update(
        {
            "regimes.ColdCache.track_epoch_seconds_per_sample": {
                "param_names": ["recipe", "workers"],
                "values": cold,
            }
        }
    )
    summary, md = build(tmp_path, benchmarks)
    (row,) = summary["recipes"]["rows"]
    (cold_row,) = summary["recipes"]["cold"]["rows"]
    assert row["epoch_samples_per_s"].number == pytest.approx(100)
    assert cold_row["epoch_samples_per_s"].number == pytest.approx(25)
    assert "### From a cold page cache" in md
    assert "- Cold: At 0 workers, the highest samples/s over two epochs" in md


def test_the_utilisation_table_gives_au_per_step_time(tmp_path):
    """track_accelerator_wait holds 1 - AU; the report prints AU with the interval swapped."""
    benchmarks = recipes({("monai_cache_threads", 0): (1 * MS, 0.9 * MS, 1.1 * MS)})
    benchmarks["regimes.Utilisation.track_accelerator_wait"] = {
        "param_names": ["recipe", "workers", "step_ms"],
        "values": {
            ("monai_cache_threads", 0, 20): (0.30, 0.25, 0.35),
            ("monai_cache_threads", 0, 100): (0.02, 0.01, 0.04),
        },
    }
    _, md = build(tmp_path, benchmarks)
    assert "| recipe | workers | AU at 20 ms | AU at 100 ms |" in md
    assert "| monai_cache_threads | 0 | 0.70 (0.65–0.75) | 0.980 (0.960–0.990) |" in md
    assert "At a 20 ms step, no recipe keeps AU at 90% or more measurably (1 measured)." in md
    assert "At a 100 ms step, these keep AU at 90% or more: monai_cache_threads (MONAI)" in md


def test_the_dicom_folder_to_first_batch_regime_adds_the_preparation(tmp_path):
    """regimes.FromDicom's ingest or conversion, plus the cache build and cold start."""
    rows = {("radiobject_random", 0): (1.0, 0.9, 1.1), ("monai_cache", 0): (1.0, 0.9, 1.1)}
    benchmarks = recipes(rows, "track_cold_start")
    benchmarks.update(recipes({k: (0.0, 0.0, 0.0) for k in rows}, "track_cache_build"))
    benchmarks["regimes.FromDicom.track_preparation"] = {
        "param_names": ["recipe"],
        "values": {("radiobject_random",): (6.0, 5.5, 6.5), ("monai_cache",): (20.0, 19.0, 21.0)},
    }
    _, md = build(tmp_path, benchmarks)
    sentence = regime(md, "0 workers, the shortest time from the DICOM folder")
    assert "radiobject_random (RadiObject), 7.0 (6.4–7.6) s (ingest 6.0 (5.5–6.5) s" in sentence
    assert "The best peer recipe there: monai_cache, 21.0 (19.9–22.1) s (conversion 20" in sentence


def test_no_dicom_regime_without_its_results(tmp_path):
    _, md = build(tmp_path, recipes({("monai_cache", 0): (1.0, 0.9, 1.1)}, "track_cold_start"))
    assert "DICOM folder" not in md


def test_the_recorded_samples_say_how_wide_the_intervals_are_and_how_many_processes_to_run(
    tmp_path,
):
    """Log-scale SDs 0.1 and 0 over 3 processes each: pooled sqrt(0.02 / 4) = 7%; the median's
    99% half-width 3.23 x 0.0707 / sqrt(3) = 13%; ±10% needs (3.23 x 0.0707 / 0.1)^2 = 5.2: 6."""
    e = math.exp
    _, md = build(
        tmp_path,
        recipes(
            {
                ("radiobject_random", 0): [10 * MS * e(-0.1), 10 * MS, 10 * MS * e(0.1)],
                ("monai_cache", 0): [2 * MS, 2 * MS, 2 * MS],
            },
            "track_seconds_per_sample",
        ),
    )
    section = md.split("### How many processes", 1)[1].split("###", 1)[0]
    assert "spread by 7% " in section and "pooled over 2 configurations" in section
    assert "the widest: radiobject_random at 0 workers, 10%" in section
    assert "With 3 processes the median's 99% interval is then about ±13%" in section
    assert "for ±10%, 6 processes would be needed" in section


def test_no_process_count_is_judged_without_recorded_samples(tmp_path):
    _, md = build(tmp_path, recipes({("radiobject_random", 0): (10 * MS, 9 * MS, 11 * MS)}))
    assert "### How many processes" not in md
