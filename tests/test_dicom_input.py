"""A user's DICOM folder is checked before any benchmark starts; problems name the file, the
series and the numbers, and nothing is written for a cohort the suite cannot benchmark."""

import shutil

import numpy as np
import pydicom
import pytest

from radibench.data import datasets
from radibench.data.datasets import DatasetError, Profile
from radibench.frameworks.base import LoaderSpec

TINY = Profile("tiny", subjects=4, rows=64, columns=64, slices=(66, 70), train_slices=64)
WIDE = Profile("wide", subjects=1, rows=80, columns=72, slices=(66, 66), train_slices=64, seed=3)
SPEC = LoaderSpec()


def load(folder, tmp_path, messages=None, **options):
    """What `radibench data --dicom-dir` does, with the suite's batch size and patch."""
    return datasets.import_dicom_dir(
        folder,
        batch_size=SPEC.batch_size,
        patch=SPEC.patch_size,
        root=tmp_path / "data",
        progress=False if messages is None else messages.append,
        **options,
    )


@pytest.fixture(scope="module")
def cached(tmp_path_factory):
    root = tmp_path_factory.mktemp("cache")
    return {p.name: datasets.ensure_dataset(p, root=root, progress=False) for p in (TINY, WIDE)}


@pytest.fixture()
def user_folder(tmp_path, cached):
    """Four series in folders named unlike their PatientIDs, as a user's are."""
    folder = tmp_path / "LIDC"
    for n, series in enumerate(sorted((cached["tiny"].root / "dicom").iterdir()), start=1):
        shutil.copytree(series, folder / f"subj{n:02d}" / "series")
    (folder / "subj01" / "series" / "069.xml").write_text("<annotations/>")  # LIDC ships XML
    return folder


def test_good_folder_imports_named_by_folder_and_says_what_it_trains_on(user_folder, tmp_path):
    messages = []
    data = load(user_folder, tmp_path, messages)
    assert [s.id for s in data.subjects] == ["subj01", "subj02", "subj03", "subj04"]
    assert [s.patient_id for s in data.subjects] == [f"LIDC-SYN-{n:04d}" for n in range(1, 5)]
    assert data.train_shape == (64, 64, min(s.shape[2] for s in data.subjects))
    said = "\n".join(messages)
    assert f"training cohort: 4 subjects, each 64x64x{data.train_shape[2]} voxels" in said
    assert "values after rescale: -1024" in said and "spacing (mm)" in said
    assert "rescale: slope 1, intercept -1024 (every series" in said
    datasets.Dataset.open(data.root)


def test_fewer_series_than_a_batch_is_refused(user_folder, tmp_path):
    shutil.rmtree(user_folder / "subj04")
    with pytest.raises(DatasetError, match=r"3 CT series .*fewer than the batch size 4"):
        load(user_folder, tmp_path)
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())


def test_a_cohort_smaller_than_a_patch_is_refused(user_folder, tmp_path):
    with pytest.raises(DatasetError, match="--train-slices 32 slices, fewer than the 64"):
        load(user_folder, tmp_path, train_slices=32)
    for n in range(60, 71):  # every series down to 59 slices
        for series in user_folder.glob("subj*/series"):
            (series / f"{n:04d}.dcm").unlink(missing_ok=True)
    with pytest.raises(DatasetError, match=r"shortest series \(subj01, .*\) has 59 slices"):
        load(user_folder, tmp_path)


def test_more_training_slices_than_the_shortest_series_is_refused(user_folder, tmp_path):
    with pytest.raises(DatasetError, match=r"--train-slices 500: the shortest series .* choose"):
        load(user_folder, tmp_path, train_slices=500)


def test_mixed_in_plane_sizes_are_refused_unless_cropped(user_folder, tmp_path, cached):
    wide = next((cached["wide"].root / "dicom").iterdir())
    shutil.copytree(wide, user_folder / "subj05" / "series")
    with pytest.raises(DatasetError, match=r"64x64: subj01.*; 80x72: subj05.*--crop"):
        load(user_folder, tmp_path)

    data = load(user_folder, tmp_path, crop=True)
    assert {s.shape[:2] for s in data.subjects} == {(64, 64)}
    lowest = min(wide.glob("*.dcm"), key=lambda f: pydicom.dcmread(f).ImagePositionPatient[2])
    original = pydicom.dcmread(lowest)  # the dataset numbers slices from the lowest z
    cropped = pydicom.dcmread(data.root / "dicom" / "subj05" / "0001.dcm")
    assert (cropped.Rows, cropped.Columns) == (64, 64)
    np.testing.assert_array_equal(cropped.pixel_array, original.pixel_array[8:72, 4:68])
    # The first pixel moved by (4 columns, 8 rows) of spacing: the voxels stay where they were.
    step = np.array([float(v) for v in original.PixelSpacing])
    moved = np.array(original.ImagePositionPatient, float) + [4 * step[1], 8 * step[0], 0]
    np.testing.assert_allclose(np.array(cropped.ImagePositionPatient, float), moved, atol=1e-3)


def test_later_edits_of_the_users_files_are_named_and_never_reach_the_dataset(
    user_folder, tmp_path
):
    first = load(user_folder, tmp_path)
    victim = user_folder / "subj02" / "series" / "0007.dcm"
    ds = pydicom.dcmread(victim)
    ds.PatientName = "Edited^Later"
    ds.save_as(victim)
    datasets.Dataset.open(first.root)  # the copies are untouched: checksums still match

    messages = []
    second = load(user_folder, tmp_path, messages)
    assert second.root != first.root
    said = "\n".join(messages)
    assert f"imported as {first.root.name} (1 changed: subj02/series/0007.dcm)" in said

    listed = {d["name"]: d for d in datasets.list_datasets(tmp_path / "data")}
    assert set(listed) == {first.root.name, second.root.name}
    assert listed[first.root.name]["made_from"] == str(user_folder)
    freed = datasets.remove_dataset(first.root.name, tmp_path / "data")
    assert freed == listed[first.root.name]["bytes"] > 0
    assert [d["name"] for d in datasets.list_datasets(tmp_path / "data")] == [second.root.name]
    with pytest.raises(DatasetError, match="no dataset 'nope'"):
        datasets.remove_dataset("nope", tmp_path / "data")


def test_corrupt_slice_is_named(user_folder, tmp_path):
    victim = user_folder / "subj02" / "series" / "0010.dcm"
    victim.write_bytes(victim.read_bytes()[:2000])
    with pytest.raises(DatasetError, match="0010.dcm"):
        load(user_folder, tmp_path)


def test_missing_slice_is_named(user_folder, tmp_path):
    (user_folder / "subj01" / "series" / "0020.dcm").unlink()
    with pytest.raises(DatasetError, match=r"missing slice between 0021.dcm .* and 0019.dcm"):
        load(user_folder, tmp_path)


def test_mixed_series_are_refused(user_folder, tmp_path):
    series = user_folder / "subj01" / "series"
    shutil.copy(user_folder / "subj02" / "series" / "0005.dcm", series / "x.dcm")
    with pytest.raises(DatasetError, match="mixed series"):
        load(user_folder, tmp_path)


def test_folder_without_dicom(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("nothing here")
    with pytest.raises(DatasetError, match="no CT DICOM files"):
        load(tmp_path / "empty", tmp_path)


def test_non_dicom_file_is_named(tmp_path):
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "scan.dcm").write_bytes(b"definitely not DICOM")
    with pytest.raises(DatasetError, match="scan.dcm: not a readable DICOM"):
        load(tmp_path / "junk", tmp_path)


def rescale(path, slope: float) -> None:
    ds = pydicom.dcmread(path)
    ds.RescaleSlope = slope
    ds.save_as(path)


def test_a_rescale_that_changes_within_a_series_is_refused(user_folder, tmp_path):
    rescale(user_folder / "subj03" / "series" / "0012.dcm", 2)
    with pytest.raises(
        DatasetError,
        match=r"series: the rescale changes from slice to slice "
        r"\(slope 1, intercept -1024: \d+ slices .*slope 2, intercept -1024: 1",
    ):
        load(user_folder, tmp_path)


def test_series_of_different_rescales_are_refused_naming_them(user_folder, tmp_path):
    for path in (user_folder / "subj02" / "series").glob("*.dcm"):
        rescale(path, 2)
    with pytest.raises(
        DatasetError,
        match=r"different rescales \(slope 1, intercept -1024: "
        r"subj01, subj03, subj04; slope 2, intercept -1024: subj02\)",
    ):
        load(user_folder, tmp_path)
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())
