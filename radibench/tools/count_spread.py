"""How much the gated counts move between runs of identical code: the evidence for their factor.

``python -m radibench.tools.count_spread [--runs 5] [--profile quick]`` ingests the profile's
training cohort with the installed radiobject (isotropic tiles, as the suite does), then measures
the gated counts of loaders.BytesRead and counts.PerBatch that many times, each instruction count
in a fresh valgrind process, and prints a markdown table: every run's value and the largest
difference from the smallest, relative. Counts do not depend on machine load: this can run
beside other work (timings cannot).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from radibench.data import datasets
from radibench.frameworks import LoaderSpec, RadiObject
from radibench.frameworks import radiobject as radiobject_api
from radibench.measure import instructions
from radibench.measure.counters import counts_per_batch
from radibench.measure.protocol import WARMUP_BATCHES


def measure(uri: str, runs: int) -> dict[str, list[float]]:
    values: dict[str, list[float]] = {}
    for _ in range(runs):
        framework = RadiObject(uri)
        framework.import_modules()
        for key, value in counts_per_batch(framework, LoaderSpec(), WARMUP_BATCHES).items():
            values.setdefault(f"{key} per batch", []).append(value)
        per_batch = instructions.count("radiobject", [], uri, WARMUP_BATCHES)
        values.setdefault("instructions per batch", []).append(per_batch)
    return values


def table(values: dict[str, list[float]]) -> str:
    lines = ["| count | runs | (max - min) / min |", "|---|---|---|"]
    for key, found in values.items():
        spread = (max(found) - min(found)) / min(found) if min(found) else 0.0
        lines.append(f"| {key} | {', '.join(f'{v:,.6g}' for v in found)} | {spread:.3%} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", default="quick")
    args = parser.parse_args(argv)
    data = datasets.ensure_dataset(args.profile)
    with tempfile.TemporaryDirectory() as tmp:
        uri = str(Path(tmp) / "train")
        cohort = [(s.train_dicom_dir, s.id) for s in data.subjects]
        radiobject_api.ingest_dicoms(uri, cohort, tiling="isotropic")
        print(f"profile {args.profile} ({data.name}), radiobject installed here, {args.runs} runs")
        print(table(measure(uri, args.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
