"""Shared fixtures: the quick dataset, generated once per test session into a temporary root."""

import os

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
