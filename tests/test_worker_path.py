"""The worker path's instructions (counts.WorkerPath): every process of a loader with spawned
workers counted whole, from building it to its workers' exit, the same on every run."""

from __future__ import annotations

from radibench.measure import instructions


def test_the_worker_path_counts_the_spawned_workers(radiobject_uri):
    """That it repeats on identical code is tests/test_gating.py's no-op check, through the gate."""
    first = instructions.count_worker_path("radiobject", [], radiobject_uri, workers=1, epochs=1)
    assert first["processes"] >= 2  # the parent and its worker (and multiprocessing's tracker)
    # A worker starts an interpreter and imports torch and radiobject: far more than a batch.
    per_batch = instructions.count("radiobject", [], radiobject_uri, warmup=0, batches=1)
    assert first["instructions"] > 10 * per_batch


def test_radiobjects_loader_says_how_many_workers_it_starts(radiobject_uri):
    from radibench.frameworks import RadiObject

    assert RadiObject(radiobject_uri).shipped_workers() == 4  # create_training_dataloader's
