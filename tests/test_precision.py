"""The precision study's readers: asv compare tables and the spread of repeated runs."""

import json
import shutil
from pathlib import Path

import pytest

from radibench.tools import precision

FIXTURE = Path(__file__).parent / "fixtures" / "asv_results" / "fixture-machine"

COMPARE = """
| Change   | Before [3062b8e1] <v0.1.1>   | After [84edab60] <main>   |   Ratio | Benchmark (Parameter)                                         |
|----------|------------------------------|---------------------------|---------|---------------------------------------------------------------|
| +        | 13.2ms                       | 20.6ms                    |    1.56 | loaders.TrainingLoader.track_seconds_per_sample('radiobject') |
|          | 51.9±7ms                     | 53.0±10ms                 |    1.02 | loaders.WarmBatch.time_warm_batch('radiobject')               |
|          | n/a                          | n/a                       |     n/a | loaders.WarmBatch.time_warm_batch('monai')                    |
|          | 0.05                         | 0.05                      |    1.00 | loaders.ColdStart.time_first_batch('radiobject')              |
| +        | 16.6M                        | 20.7M                     |    1.25 | loaders.BytesRead.track_bytes_per_batch('radiobject')         |
"""  # noqa: E501


def test_compare_rows_keep_the_gated_measured_benchmarks():
    rows = precision.compare_rows(COMPARE)
    assert [(r["mark"], r["ratio"]) for r in rows] == [("", "1.02"), ("+", "1.25")]
    assert rows[0]["name"] == "loaders.WarmBatch.time_warm_batch('radiobject')"


def test_spread_over_runs(tmp_path):
    source = next(FIXTURE.glob("7fcf86f1-*.json"))
    runs = []
    for i, scale in enumerate([1.0, 1.1, 0.9]):
        data = json.loads(source.read_text())
        cols = data["result_columns"]
        row = data["results"]["loaders.TrainingLoader.time_warm_batch"]
        row[cols.index("result")] = [v * scale for v in row[cols.index("result")]]
        runs.append(tmp_path / f"run{i}.json")
        runs[-1].write_text(json.dumps(data))
    table = {r["benchmark"]: r for r in precision.spread(runs)}
    warm = table["loaders.TrainingLoader.time_warm_batch('radiobject')"]
    assert warm["runs"] == 3
    assert warm["median"] == pytest.approx(0.007204249)
    assert warm["range_over_median"] == pytest.approx(0.2)
    assert len(warm["ci_over_median"]) == 3 and all(c > 0 for c in warm["ci_over_median"])
    assert "(track: no CI)" in precision.markdown(
        {"spread": list(table.values()), "comparisons": []}
    )
    shutil.rmtree(tmp_path)
