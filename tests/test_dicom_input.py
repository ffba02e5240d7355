"""A user's DICOM folder is checked before any benchmark starts; problems name the file."""

import shutil

import pytest

from radibench.data import datasets
from radibench.data.datasets import DatasetError, Profile

TINY = Profile("tiny", subjects=2, rows=64, columns=64, slices=(66, 70), train_slices=64)


@pytest.fixture()
def user_folder(tmp_path):
    data = datasets.ensure_dataset(TINY, root=tmp_path / "cache", progress=False)
    folder = tmp_path / "LIDC"
    shutil.copytree(data.root / "dicom", folder)
    (folder / "LIDC-SYN-0001" / "069.xml").write_text("<annotations/>")  # LIDC ships XML
    return folder


def test_good_folder_imports(user_folder, tmp_path):
    data = datasets.import_dicom_dir(user_folder, root=tmp_path / "data", progress=False)
    assert [s.id for s in data.subjects] == ["LIDC-SYN-0001", "LIDC-SYN-0002"]
    assert data.train_shape[2] == min(s.shape[2] for s in data.subjects)  # cohort: shortest
    datasets.Dataset.open(data.root)


def test_corrupt_slice_is_named(user_folder, tmp_path):
    victim = user_folder / "LIDC-SYN-0002" / "0010.dcm"
    victim.write_bytes(victim.read_bytes()[:2000])
    with pytest.raises(DatasetError, match="0010.dcm"):
        datasets.import_dicom_dir(user_folder, root=tmp_path / "data", progress=False)


def test_missing_slice_is_named(user_folder, tmp_path):
    (user_folder / "LIDC-SYN-0001" / "0020.dcm").unlink()
    with pytest.raises(DatasetError, match=r"missing slice between 0021.dcm .* and 0019.dcm"):
        datasets.import_dicom_dir(user_folder, root=tmp_path / "data", progress=False)


def test_mixed_series_are_refused(user_folder, tmp_path):
    shutil.copy(user_folder / "LIDC-SYN-0002" / "0005.dcm", user_folder / "LIDC-SYN-0001" / "x.dcm")
    with pytest.raises(DatasetError, match="mixed series"):
        datasets.import_dicom_dir(user_folder, root=tmp_path / "data", progress=False)


def test_folder_without_dicom(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("nothing here")
    with pytest.raises(DatasetError, match="no CT DICOM files"):
        datasets.import_dicom_dir(tmp_path / "empty", root=tmp_path / "data", progress=False)


def test_non_dicom_file_is_named(tmp_path):
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "scan.dcm").write_bytes(b"definitely not DICOM")
    with pytest.raises(DatasetError, match="scan.dcm: not a readable DICOM"):
        datasets.import_dicom_dir(tmp_path / "junk", root=tmp_path / "data", progress=False)
