"""The one results model reads asv's cells as asv means them."""

import json

from results_files import write_results

from radibench.tools import asv_results


def test_values_outcomes_and_intervals(tmp_path):
    folder = write_results(
        tmp_path,
        {
            "recipes.Recipes.track_seconds_per_sample": {
                "param_names": ["recipe", "workers"],
                "values": {
                    ("radiobject", 0): (0.010, 0.009, 0.012),
                    ("monai", 0): "n/a",
                    ("radiobject", 2): "failed",
                    ("monai", 2): 0.5,
                },
            }
        },
    )
    (run,) = asv_results.read_folder(folder / "test-machine")
    bench = run.benchmarks["recipes.Recipes.track_seconds_per_sample"]
    assert bench.param_names == ["recipe", "workers"] and bench.type == "track"
    assert bench.value("radiobject", 0) == asv_results.Value(0.010, 0.009, 0.012, 5)
    assert bench.value("monai", 0).outcome == "n/a" and bench.value("monai", 0).missing
    assert bench.value("radiobject", 2).outcome == "failed"
    assert bench.value("monai", 2) == asv_results.Value(0.5)
    assert bench.value("torchio", 0).outcome == "n/a"  # not in the grid at all


def test_the_samples_asv_recorded_are_kept_with_their_value(tmp_path):
    folder = write_results(
        tmp_path,
        {
            "recipes.Recipes.track_seconds_per_sample": {
                "param_names": ["recipe", "workers"],
                "values": {("radiobject", 0): [0.012, 0.010, 0.011], ("monai", 0): 0.5},
            }
        },
    )
    (run,) = asv_results.read_folder(folder / "test-machine")
    bench = run.benchmarks["recipes.Recipes.track_seconds_per_sample"]
    assert bench.value("radiobject", 0).sample_values == (0.012, 0.010, 0.011)
    assert bench.value("radiobject", 0).samples == 3
    assert bench.value("monai", 0).sample_values == ()


def test_a_lone_null_fails_every_combination_and_a_malformed_row_is_left_out(tmp_path):
    folder = write_results(
        tmp_path,
        {
            "a.A.track_x": {"param_names": ["p"], "values": {(1,): 1.0, (2,): 2.0}},
            "a.A.track_y": {"param_names": ["p"], "values": {(1,): 1.0, (2,): 2.0}},
        },
    )
    path = next((folder / "test-machine").glob("e077*.json"))
    data = json.loads(path.read_text())
    data["results"]["a.A.track_x"][0] = None  # asv: every combination failed
    data["results"]["a.A.track_y"][0] = [1.0]  # one value for two combinations
    path.write_text(json.dumps(data))
    run = asv_results.read_file(path)
    assert [v.outcome for v in run.benchmarks["a.A.track_x"].values.values()] == ["failed"] * 2
    assert "a.A.track_y" not in run.benchmarks


def test_an_interval_asv_extends_below_zero_is_cut_at_zero(tmp_path):
    """Five processes with one slow outlier: asv's 99% interval of the median reaches below 0,
    which no time, size, count or ratio can."""
    folder = write_results(
        tmp_path, {"a.A.track_x": {"param_names": ["p"], "values": {(1,): (0.04, -0.01, 0.09)}}}
    )
    (run,) = asv_results.read_folder(folder / "test-machine")
    value = run.benchmarks["a.A.track_x"].value(1)
    assert (value.number, value.low, value.high) == (0.04, 0.0, 0.09)
