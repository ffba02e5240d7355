"""How RadiObject's voxels map onto the NIfTI files is detected per dataset, never assumed.

Two datasets that differ where it matters: the synthetic LIDC-like one (unsigned storage with
RescaleIntercept -1024, InstanceNumber counting down the z axis) and a CT-derived-like one
(signed int16 HU with RescaleIntercept 0, InstanceNumber counting up the z axis, as a real
series was seen to be). RadiObject's DICOM ingest keeps the stored values and sorts slices by
InstanceNumber, so the two map differently; on each, the detected mapping must make RadiObject,
MONAI and TorchIO read the very voxels nibabel reads, at the same positions.
"""

import numpy as np
import pydicom
import pytest
from conftest import detected, ingested

from radibench import frameworks
from radibench.data import datasets, synthetic_ct
from radibench.frameworks.base import LoaderSpec
from radibench.frameworks.mapping import ValueMapping, read_nifti
from radibench.prepare.ingest import detect_mapping

SPEC = LoaderSpec()
SLICES = (68, 69, 70, 71)


def write_ct_derived_series(folder, subject_id: str, seed: int, slices: int) -> None:
    """The synthetic phantom stored as a CT-derived series: int16 HU (PixelRepresentation 1,
    RescaleIntercept 0, RescaleSlope 1) numbered by InstanceNumber along +z, the opposite of
    synthetic_ct.write_series; ImagePositionPatient is kept, so positions stay consistent."""
    files = synthetic_ct.write_series(
        folder, subject_id, seed, rows=128, columns=128, slices=slices
    )
    for k, path in enumerate(files):  # file k lies at z = -k * thickness
        ds = pydicom.dcmread(path)
        hu = ds.pixel_array.astype(np.int16) + np.int16(synthetic_ct.INTERCEPT)
        ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope = 0, 1
        ds.InstanceNumber = len(files) - k
        ds.PixelData = hu.tobytes()
        ds.save_as(path)


def write_rescaled_series(folder, subject_id: str, seed: int, slices: int) -> None:
    """The synthetic phantom stored with RescaleSlope 2 (RescaleIntercept -1024): stored values
    halved, so HU = 2 x stored - 1024, as some scanners write CT."""
    files = synthetic_ct.write_series(
        folder, subject_id, seed, rows=128, columns=128, slices=slices
    )
    for path in files:
        ds = pydicom.dcmread(path)
        ds.PixelData = (ds.pixel_array // 2).astype(ds.pixel_array.dtype).tobytes()
        ds.RescaleSlope = 2
        ds.save_as(path)


def import_series(tmp_path_factory, name: str, write):
    """Four series written by `write`, imported as a user's folder would be."""
    source = tmp_path_factory.mktemp(name)
    for n, slices in enumerate(SLICES, start=1):
        write(source / f"ct{n:02d}" / "series", f"CT-{n:04d}", 10 + n, slices)
    return datasets.import_dicom_dir(
        source,
        batch_size=SPEC.batch_size,
        patch=SPEC.patch_size,
        root=tmp_path_factory.mktemp("data"),
        progress=False,
    )


@pytest.fixture(scope="module")
def ct_derived(tmp_path_factory):
    """The CT-derived-like series imported as a user's folder would be."""
    return import_series(tmp_path_factory, "ct-derived", write_ct_derived_series)


@pytest.fixture(scope="module")
def ct_derived_uri(ct_derived, tmp_path_factory):
    return ingested(ct_derived, tmp_path_factory.mktemp("radi"))


@pytest.fixture(scope="module")
def ct_derived_mapping(ct_derived, ct_derived_uri):
    return detected(ct_derived, ct_derived_uri)


def test_the_series_is_what_it_claims(ct_derived):
    first = sorted(ct_derived.subjects[0].train_dicom_dir.iterdir())
    ds = [pydicom.dcmread(f) for f in first]
    assert {(d.PixelRepresentation, float(d.RescaleIntercept)) for d in ds} == {(1, 0.0)}
    assert ds[0].pixel_array.dtype == np.int16 and ds[0].pixel_array.min() < -900
    by_number = sorted(ds, key=lambda d: int(d.InstanceNumber))
    z = [float(d.ImagePositionPatient[2]) for d in by_number]
    assert z == sorted(z)  # InstanceNumber counts up the z axis
    assert read_nifti(ct_derived.subjects[0].train_nifti).dtype == np.int16


def test_ct_derived_series_maps_as_plain_hu_in_the_niftis_order(ct_derived_mapping):
    """Found by running: RadiObject keeps the int16 HU and, sorting by InstanceNumber, the
    NIfTI's slice order, so the synthetic data's HU + 1024 and z reversal would be wrong here."""
    assert ct_derived_mapping == ValueMapping(offset=0, flipped_axes=())


def test_synthetic_dataset_maps_as_stored_values_with_z_reversed(radiobject_mapping):
    assert radiobject_mapping == ValueMapping(offset=1024, flipped_axes=(2,))


def test_the_adapter_detects_the_same_mapping_itself(
    ct_derived, ct_derived_uri, ct_derived_mapping
):
    niftis = [s.train_nifti for s in ct_derived.subjects]
    fw = frameworks.make("radiobject", niftis, ct_derived_uri)
    assert (fw.hu_offset, fw.flipped_axes) == (0, ())
    assert fw.mapping == ct_derived_mapping
    with pytest.raises(ValueError, match="no NIfTI file to detect it from"):
        _ = frameworks.make("radiobject", (), ct_derived_uri).flipped_axes


def test_a_mapping_that_cannot_be_found_is_recorded_as_failed(ct_derived, ct_derived_uri):
    """Volume 0 against another subject's NIfTI (same shape, other voxels): no flip and offset
    maps them, and setup_cache records that as a failure with what it saw."""
    problems = {}
    other = ct_derived.subjects[1].train_nifti
    assert detect_mapping(problems, "radiobject", ct_derived_uri, other) is None
    kind, message = problems["radiobject"]
    assert kind == "failed"
    assert "no axis reversal and constant offset" in message and "between" in message


# Positions in the NIfTI frame (x, y, z) on 128x128x68 training volumes: near each border, and
# off-centre, so a mirrored read would return other voxels.
SLICE_READS = [(0, 3), (0, 90), (1, 10), (1, 120), (2, 2), (2, 50)]
ROI_READS = [((0, 0, 0), (16, 16, 16)), ((70, 5, 40), (32, 40, 20)), ((100, 90, 3), (28, 38, 64))]


def readers(niftis, uri, mapping):
    return {
        name: frameworks.make(name, niftis, uri, mapping)
        for name in ("radiobject", "monai", "torchio_queue")
    }


def same_voxels_everywhere(dataset, uri, mapping, volumes=(0, 1)):
    """Every reader's slices and ROIs, mapped back, against nibabel's read of the same file."""
    fws = readers([s.train_nifti for s in dataset.subjects], uri, mapping)
    for i in volumes:
        reference = read_nifti(dataset.subjects[i].train_nifti).astype(np.int64)
        for name, fw in fws.items():
            stated = ValueMapping(fw.hu_offset, fw.flipped_axes, fw.hu_slope)
            for axis, index in SLICE_READS:
                got = stated.to_reference(fw.read_slice(i, axis, index), dropped_axis=axis)
                expected = reference.take(index, axis)
                assert np.array_equal(got, expected), f"{name}: volume {i} slice {axis}/{index}"
            for start, size in ROI_READS:
                got = stated.to_reference(fw.read_roi(i, start, size))
                box = tuple(slice(s, s + n) for s, n in zip(start, size, strict=True))
                assert np.array_equal(got, reference[box]), f"{name}: volume {i} ROI at {start}"


def test_every_reader_reads_the_same_voxels_of_the_ct_derived_series(
    ct_derived, ct_derived_uri, ct_derived_mapping
):
    assert ct_derived.train_shape == (128, 128, 68)
    same_voxels_everywhere(ct_derived, ct_derived_uri, ct_derived_mapping)


def test_every_reader_reads_the_same_voxels_of_the_synthetic_dataset(
    quick, radiobject_uri, radiobject_mapping
):
    same_voxels_everywhere(quick, radiobject_uri, radiobject_mapping)


def test_the_synthetic_datas_mapping_would_misread_the_ct_derived_series(
    ct_derived, ct_derived_uri
):
    """What happened before detection: the constants of the synthetic data, applied to the
    CT-derived series, read other voxels (so the tests above can fail)."""
    with pytest.raises(AssertionError, match="radiobject: volume 0"):
        same_voxels_everywhere(ct_derived, ct_derived_uri, ValueMapping(1024, (2,)), volumes=(0,))


@pytest.mark.parametrize("name", sorted(frameworks.ADAPTERS))
def test_every_recipes_first_batch_is_the_ct_derived_series_voxels(
    name, ct_derived, ct_derived_uri, ct_derived_mapping
):
    """The training loaders too, each recipe's first batch checked voxel for voxel where the
    recipe says its patches came from (radibench.measure.voxels)."""
    from radibench.measure.protocol import run_recipe
    from radibench.measure.voxels import reference_check

    niftis = [str(s.train_nifti) for s in ct_derived.subjects]
    fw = frameworks.make(name, niftis, ct_derived_uri, ct_derived_mapping)
    fw.import_modules()
    spec = LoaderSpec(threads=1, start_method=None)
    result = run_recipe(fw, spec, len(niftis), reference_check(niftis), warmup=0, timed=1)
    assert result.first_batch_voxels == spec.batch_size * 64**3
    assert result.first_batch_mismatches == 0


def test_a_series_with_a_rescale_slope_maps_linearly_and_every_reader_agrees(tmp_path_factory):
    """RescaleSlope 2: RadiObject keeps the halved stored values, the NIfTI holds HU; the
    detected mapping is HU = 2 x (stored - 512), and with it every reader reads nibabel's voxels
    and the shipped loader's first batch has no mismatch (it once failed every benchmark)."""
    from radibench.measure.protocol import run_recipe
    from radibench.measure.voxels import reference_check

    rescaled = import_series(tmp_path_factory, "rescaled", write_rescaled_series)
    uri = ingested(rescaled, tmp_path_factory.mktemp("radi"))
    mapping = detected(rescaled, uri)
    assert mapping.slope == 2 and mapping.offset == 512, mapping
    same_voxels_everywhere(rescaled, uri, mapping, volumes=(0,))
    niftis = [str(s.train_nifti) for s in rescaled.subjects]
    fw = frameworks.make("radiobject", niftis, uri, mapping)
    fw.import_modules()
    spec = LoaderSpec(threads=1, start_method=None)
    result = run_recipe(fw, spec, len(niftis), reference_check(niftis), warmup=0, timed=1)
    assert result.first_batch_voxels > 0 and result.first_batch_mismatches == 0
