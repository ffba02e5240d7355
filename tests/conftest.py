"""Shared fixtures: the quick dataset, generated once per test session into a temporary root."""

import os

import pytest

os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(scope="session")
def data_root(tmp_path_factory):
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def quick(data_root):
    from radibench.data import datasets

    return datasets.ensure_dataset("quick", root=data_root, progress=False)


@pytest.fixture(scope="session")
def radiobject_uri(quick, tmp_path_factory):
    """The quick training cohort ingested with the installed radiobject, as setup_cache does."""
    from radibench.frameworks import radiobject

    uri = str(tmp_path_factory.mktemp("radi") / "train")
    cohort = [(s.train_dicom_dir, s.id) for s in quick.subjects]
    radiobject.ingest_dicoms(uri, cohort, tiling="isotropic")
    return uri


@pytest.fixture(scope="session")
def radiobject_mapping(quick, radiobject_uri):
    """How radiobject_uri's voxels map onto the quick NIfTI files, detected as setup_cache does."""
    from radibench.prepare.ingest import detect_mapping

    problems = {}
    mapping = detect_mapping(problems, "radiobject", radiobject_uri, quick.subjects[0].train_nifti)
    assert mapping is not None, problems
    return mapping
