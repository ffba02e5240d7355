"""The generated data is what it claims to be, and the cache never serves damaged files."""

import shutil
from pathlib import Path

import nibabel
import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from radibench.data import datasets
from radibench.data.datasets import DatasetError, Profile


def test_dicom_headers_are_ct_like(quick):
    profile = datasets.PROFILES["quick"]
    subject = quick.subjects[0]
    files = sorted(subject.dicom_dir.glob("*.dcm"))
    assert profile.slices[0] <= len(files) <= profile.slices[1]
    ds = pydicom.dcmread(files[0])
    assert ds.Modality == "CT"
    assert (ds.Rows, ds.Columns) == (profile.rows, profile.columns)
    assert (ds.BitsAllocated, ds.BitsStored, ds.PixelRepresentation) == (16, 12, 0)
    assert float(ds.RescaleIntercept) == -1024 and float(ds.RescaleSlope) == 1
    assert float(ds.SliceThickness) in (1.25, 2.0, 2.5)
    assert 0.5 < float(ds.PixelSpacing[0]) < 0.9
    stored = ds.pixel_array
    assert stored.dtype == np.uint16 and stored.max() <= 4095


def test_series_geometry_read_by_simpleitk(quick):
    subject = quick.subjects[1]
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(subject.dicom_dir)))
    image = reader.Execute()
    assert image.GetSize() == subject.shape
    assert image.GetSpacing() == pytest.approx(subject.spacing, abs=1e-3)
    assert image.GetPixelIDTypeAsString() == "16-bit signed integer"


def test_nifti_holds_anatomy_in_hounsfield_units(quick):
    subject = quick.subjects[0]
    image = nibabel.load(subject.nifti)
    hu = np.asanyarray(image.dataobj)
    assert hu.shape == subject.shape
    assert image.header.get_zooms() == pytest.approx(subject.spacing, abs=1e-3)
    middle = hu[:, :, hu.shape[2] // 2]
    assert np.median(middle[:4, :4]) < -900  # air in the corner
    lungs = middle[middle < -700]
    assert lungs.size > 0.05 * middle.size  # lungs in the middle of the chest
    assert (middle > 500).any()  # bone
    assert hu.std() > 100  # not constant, not pure noise around one value


def test_training_cohort_is_uniform_and_central(quick):
    shapes = {nibabel.load(s.train_nifti).shape for s in quick.subjects}
    assert shapes == {quick.train_shape}
    subject = quick.subjects[0]
    full = np.asanyarray(nibabel.load(subject.nifti).dataobj)
    cut = np.asanyarray(nibabel.load(subject.train_nifti).dataobj)
    start = (full.shape[2] - cut.shape[2]) // 2
    np.testing.assert_array_equal(full[:, :, start : start + cut.shape[2]], cut)


def test_generation_is_deterministic(quick, tmp_path):
    small = Profile("tiny", subjects=1, rows=64, columns=64, slices=(66, 66), train_slices=64)
    a = datasets.ensure_dataset(small, root=tmp_path / "a", progress=False)
    b = datasets.ensure_dataset(small, root=tmp_path / "b", progress=False)
    files_a = datasets.json.loads((a.root / "manifest.json").read_text())["files"]
    files_b = datasets.json.loads((b.root / "manifest.json").read_text())["files"]
    assert files_a == files_b


def test_cache_is_reused(quick, data_root):
    manifest = quick.root / "manifest.json"
    before = manifest.stat().st_mtime_ns
    again = datasets.ensure_dataset("quick", root=data_root, progress=False)
    assert again.root == quick.root
    assert manifest.stat().st_mtime_ns == before


def test_damaged_file_is_caught_and_regenerated(tmp_path):
    small = Profile("tiny", subjects=1, rows=64, columns=64, slices=(66, 66), train_slices=64)
    data = datasets.ensure_dataset(small, root=tmp_path, progress=False)
    victim = data.subjects[0].nifti
    victim.write_bytes(victim.read_bytes()[:-100])  # truncated, as a killed copy leaves it
    with pytest.raises(DatasetError, match="checksum"):
        datasets.Dataset.open(data.root)
    messages = []
    fixed = datasets.ensure_dataset(small, root=tmp_path, progress=messages.append)
    assert any("damaged" in m for m in messages)
    datasets.Dataset.open(fixed.root)  # verifies every checksum


def test_half_written_dataset_is_not_used(tmp_path):
    small = Profile("tiny", subjects=1, rows=64, columns=64, slices=(66, 66), train_slices=64)
    data = datasets.ensure_dataset(small, root=tmp_path, progress=False)
    (data.root / "manifest.json").unlink()  # as if the generator was killed before the end
    with pytest.raises(DatasetError, match="half-written"):
        datasets.Dataset.open(data.root)
    shutil.rmtree(data.root)
    assert datasets.ensure_dataset(small, root=tmp_path, progress=False).root == data.root


def test_not_enough_disk_is_refused_up_front(tmp_path):
    huge = Profile("huge", 10**6, rows=512, columns=512, slices=(300, 300), train_slices=64)
    with pytest.raises(DatasetError, match="not enough free disk"):
        datasets.ensure_dataset(huge, root=tmp_path, progress=False)
    assert not list(tmp_path.glob("huge-*"))


def test_unknown_profile_is_a_clear_error():
    with pytest.raises(DatasetError, match="unknown profile 'nope'"):
        datasets.ensure_dataset("nope")


def test_concurrent_runs_share_one_generation(tmp_path):
    """Two processes asking at once: one generates under the lock, the other reuses it."""
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from radibench.data import datasets\n"
        "p = datasets.Profile('tiny', 2, 64, 64, (66, 70), 64)\n"
        "d = datasets.ensure_dataset(p, root=Path(sys.argv[1]), progress=print)\n"
        "print('ROOT', d.root)\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    roots = {line for out in outputs for line in out.splitlines() if line.startswith("ROOT")}
    assert len(roots) == 1
    built = [out for out in outputs if "MB on disk" in out]
    assert len(built) == 1, outputs  # generated once, not twice
    datasets.Dataset.open(Path(roots.pop().split(" ", 1)[1]))
    assert not list(tmp_path.glob("*.partial-*"))


# A generated profile's name is its identity in every benchmark version (suite.dataset_id), so
# its spec must never change under the same name: results would join another dataset's series.
PINNED = {"quick": "quick-f398b0253f", "default": "default-e11414d65c", "large": "large-1bf2e11578"}


@pytest.mark.parametrize("name", sorted(datasets.PROFILES))
def test_a_profile_name_always_means_the_same_data(name):
    assert datasets.dataset_name(datasets.PROFILES[name]) == PINNED[name], (
        f"profile {name!r} changed: give the changed profile a new name instead"
    )


def test_an_imported_dataset_is_named_in_every_benchmark_version(quick, monkeypatch):
    from radibench import suite

    monkeypatch.delenv("RADIBENCH_DATASET", raising=False)
    monkeypatch.setenv("RADIBENCH_PROFILE", "quick")
    assert suite.version("warm-batch-1") == "warm-batch-1-quick"
    monkeypatch.setenv("RADIBENCH_DATASET", str(quick.root))
    digest = quick.name.rsplit("-", 1)[-1]
    assert suite.version("warm-batch-1") == f"warm-batch-1-custom-{digest}"
    assert suite.DATASET_ID.search(suite.version("a-b-1"))["id"] == f"custom-{digest}"
