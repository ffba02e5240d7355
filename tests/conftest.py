"""Shared fixtures: the quick dataset, generated once per test session into a temporary root."""

import os
import pickle

import pytest

from radibench.tools import screenshot

os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(scope="session")
def data_root(tmp_path_factory):
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def quick(data_root):
    from radibench.data import datasets

    return datasets.ensure_dataset("quick", root=data_root, progress=False)


def ingested(dataset, folder) -> str:
    """`dataset`'s training cohort ingested into `folder` with the installed radiobject, as
    setup_cache does (isotropic tiles); its URI."""
    from radibench.frameworks import radiobject

    uri = str(folder / "train")
    cohort = [(s.train_dicom_dir, s.id) for s in dataset.subjects]
    radiobject.ingest_dicoms(uri, cohort, tiling="isotropic")
    return uri


def detected(dataset, uri):
    """How the voxels at `uri` map onto `dataset`'s NIfTI files, detected as setup_cache does;
    a detection that records a problem fails the test."""
    from radibench.prepare.ingest import detect_mapping

    problems = {}
    mapping = detect_mapping(problems, "radiobject", uri, dataset.subjects[0].train_nifti)
    assert not problems and mapping is not None, problems
    return mapping


@pytest.fixture(scope="session")
def radiobject_uri(quick, tmp_path_factory):
    """The quick training cohort ingested with the installed radiobject."""
    return ingested(quick, tmp_path_factory.mktemp("radi"))


@pytest.fixture(scope="session")
def radiobject_mapping(quick, radiobject_uri):
    """How radiobject_uri's voxels map onto the quick NIfTI files."""
    return detected(quick, radiobject_uri)


@pytest.fixture()
def keeps_the_chosen_source():
    """The PyPI history is built in the checkout (asv.pypi.conf.json reads it there); the
    source the developer chose with `radibench source` is put back afterwards."""
    from radibench.tools import source

    state = source.Layout().state
    chosen = state.read_bytes() if state.is_file() else None
    yield
    if chosen is None:
        state.unlink(missing_ok=True)
    else:
        state.write_bytes(chosen)


# `directory` over HTTP on an ephemeral loopback port: the dashboard tests serve html/ as
# `make screenshot` does.
serving = screenshot.serving


@pytest.fixture(scope="session")
def storage_cache(tmp_path_factory, quick, data_root):
    """The storage module's cohort ingested on disk and into local S3 (prepare_storage.prepare,
    without the protocol runs), pickled as asv hands it to benchmark processes."""
    from radibench.prepare import storage

    folder = tmp_path_factory.mktemp("storage-cache")
    # No real bucket here, even a developer's (s3-real: tests/test_s3_real.py).
    env = {"RADIBENCH_PROFILE": "quick", "RADIBENCH_DATA": str(data_root), "RADIBENCH_S3_URI": ""}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        cache = storage.prepare(folder)
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    assert cache["problems"].keys() == {"s3-real"}, cache["problems"]  # n/a: no bucket named
    path = folder / "cache.pickle"
    path.write_bytes(pickle.dumps(cache))
    return path
