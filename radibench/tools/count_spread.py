"""How much the gated counts move between runs of identical code: the evidence for their factor.

``python -m radibench.tools.count_spread [--runs 5] [--profile quick]`` ingests the profile's
training cohort with the installed radiobject (isotropic tiles, as the suite does), then measures
the gated counts of loaders.BytesRead and counts.PerBatch that many times, each instruction count
in a fresh valgrind process, then counts.S3PerBatch's S3 requests per batch by kind that many
times (s3_request_spread: one local S3 server and counting proxy, the cohort ingested into it
once, each run a fresh seeded loader), and prints a markdown table: every run's value and the
largest difference from the smallest, relative. Counts do not depend on machine load: this can
run beside other work (timings cannot).
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
from radibench.measure.counters import counts_per_batch, requests_per_batch
from radibench.measure.protocol import WARMUP_BATCHES
from radibench.storage.server import proxied, reading


def ingest(uri: str, data) -> None:
    """`data`'s training cohort into `uri` with the installed radiobject, as setup_cache does."""
    cohort = [(s.train_dicom_dir, s.id) for s in data.subjects]
    radiobject_api.ingest_dicoms(uri, cohort, tiling="isotropic")


def reader(uri: str) -> RadiObject:
    """A fresh adapter over `uri`, its modules imported (as a benchmark's setup does)."""
    framework = RadiObject(uri)
    framework.import_modules()
    return framework


def measure(uri: str, runs: int) -> dict[str, list[float]]:
    values: dict[str, list[float]] = {}
    for _ in range(runs):
        for key, value in counts_per_batch(reader(uri), LoaderSpec(), WARMUP_BATCHES).items():
            values.setdefault(f"{key} per batch", []).append(value)
        per_batch = instructions.count("radiobject", [], uri, WARMUP_BATCHES)
        values.setdefault("instructions per batch", []).append(per_batch)
    return values


def local_count_spread(profile: str, runs: int) -> dict[str, list[float]]:
    """measure() on the data profile's training cohort, ingested into a temporary folder."""
    data = datasets.ensure_dataset(profile)
    with tempfile.TemporaryDirectory() as tmp:
        uri = str(Path(tmp) / "train")
        ingest(uri, data)
        return measure(uri, runs)


def worker_path_spread(profile: str, runs: int) -> tuple[int, list[float]]:
    """The worker path's instructions (counts.WorkerPath: every process of the loader at its
    default workers, from building it to the workers' exit) over `runs` fresh counts on the
    data profile's training cohort: (the workers, each run's count)."""
    data = datasets.ensure_dataset(profile)
    with tempfile.TemporaryDirectory() as tmp:
        uri = str(Path(tmp) / "train")
        ingest(uri, data)
        workers = reader(uri).shipped_workers()
        counted = [
            instructions.count_worker_path("radiobject", [], uri, workers)["instructions"]
            for _ in range(runs)
        ]
        return workers, counted


def s3_request_spread(profile: str, runs: int) -> dict[str, list[float]]:
    """S3 requests per batch by kind ("GET", "HEAD", "LIST", "other": what counts.S3PerBatch
    gates, from counters.requests_per_batch) -> each run's value, over `runs` fresh seeded
    in-process loaders on the dataset of the data profile `profile`. One local S3 server and
    the counting proxy in front of it (lan: no delay) serve every run; the training cohort is
    ingested into it once with the installed radiobject. radiobject's S3 configuration is
    global and stays pointed at the stopped server afterwards: call this last in a process."""
    data = datasets.ensure_dataset(profile)
    server, proxy = proxied("lan")
    try:
        settings = server.settings.via(proxy.endpoint)
        with settings.applied():
            radiobject_api.configure_s3(settings)
            uri = settings.uri("train")
            ingest(uri, data)
            values: dict[str, list[float]] = {}
            for _ in range(runs):
                with reading(server):
                    counted = requests_per_batch(reader(uri), LoaderSpec(), WARMUP_BATCHES, proxy)
                for kind, value in counted.items():
                    values.setdefault(kind, []).append(value)
            return values
    finally:
        proxy.stop()
        server.stop()


def spread(found: list[float]) -> float:
    """(max - min) / min; infinite when some run counted 0 and another did not."""
    low, high = min(found), max(found)
    if high == low:
        return 0.0
    return (high - low) / low if low else float("inf")


def table(values: dict[str, list[float]]) -> str:
    lines = ["| count | runs | (max - min) / min |", "|---|---|---|"]
    for key, found in values.items():
        lines.append(f"| {key} | {', '.join(f'{v:,.6g}' for v in found)} | {spread(found):.3%} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", default="quick")
    args = parser.parse_args(argv)
    print(f"profile {args.profile}, radiobject installed here, {args.runs} runs")
    values = local_count_spread(args.profile, args.runs)
    requests = s3_request_spread(args.profile, args.runs)  # last: it leaves radiobject on S3
    values.update({f"S3 {kind} requests per batch": found for kind, found in requests.items()})
    print(table(values))
    return 0


if __name__ == "__main__":
    sys.exit(main())
