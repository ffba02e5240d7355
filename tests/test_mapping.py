"""detect() finds how a reader's stored voxels map onto the NIfTI's (axis reversals and one
integer offset, or a rescale slope and its offset) from the data alone, and refuses, saying what
it saw, when nothing maps exactly. Synthetic arrays only: fast, no dataset."""

import dataclasses
import time

import numpy as np
import pytest

from radibench.frameworks.mapping import MappingError, ValueMapping, detect


def volume(shape=(40, 36, 24), dtype=np.int16, seed=0) -> np.ndarray:
    """CT-like values: mostly air and tissue plus noise, so no flip maps it onto itself."""
    rng = np.random.default_rng(seed)
    hu = np.full(shape, -1000.0)
    hu[shape[0] // 4 : -shape[0] // 4, shape[1] // 5 :, 2:] = 40.0
    return (hu + rng.normal(0, 20, shape)).astype(dtype)


def stored_as(reference, mapping: ValueMapping, dtype=None) -> np.ndarray:
    flipped = np.flip(reference, axis=mapping.flipped_axes) if mapping.flipped_axes else reference
    return (flipped.astype(np.int64) + mapping.offset).astype(dtype or reference.dtype)


@pytest.mark.parametrize("flips", [(), (2,), (0,), (0, 1), (0, 1, 2)])
@pytest.mark.parametrize(
    ("offset", "dtype"), [(0, np.int16), (2048, np.uint16), (-7, np.int32), (1024, np.float32)]
)
def test_each_flip_and_offset_is_found(flips, offset, dtype):
    reference = volume()
    expected = ValueMapping(offset, flips)
    stored = stored_as(reference, expected, dtype)
    found = detect(stored, reference)
    assert found == expected
    assert isinstance(found.offset, int) and found.flipped_axes == flips
    assert np.array_equal(found.to_reference(stored), reference)


def test_slices_are_mapped_without_their_dropped_axis():
    reference = volume()
    mapping = ValueMapping(1024, (0, 2))
    stored = stored_as(reference, mapping)
    for axis in range(3):
        index = 5
        native = reference.shape[axis] - 1 - index if axis in mapping.flipped_axes else index
        got = mapping.to_reference(stored.take(native, axis), dropped_axis=axis)
        assert np.array_equal(got, reference.take(index, axis)), axis


def test_json_round_trip():
    mapping = ValueMapping(1024, (2,))
    assert mapping.to_json() == {"offset": 1024, "flipped_axes": [2]}
    assert ValueMapping.from_json(mapping.to_json()) == mapping
    assert ValueMapping.from_json('{"offset": -3, "flipped_axes": [1, 0]}') == ValueMapping(
        -3, (0, 1)
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        mapping.offset = 0
    rescaled = ValueMapping(511.5, (2,), slope=2)
    assert rescaled.to_json() == {"offset": 511.5, "flipped_axes": [2], "slope": 2}
    assert ValueMapping.from_json(rescaled.to_json()) == rescaled


def test_a_flip_right_on_the_samples_but_wrong_somewhere_is_not_taken():
    """A volume symmetric in x but for one voxel: the sampled comparison cannot tell the two
    candidates apart, the whole-volume confirmation must."""
    half = volume((10, 30, 20))
    reference = np.concatenate([half, half[::-1]])
    reference[2, 3, 4] += 1
    stored = stored_as(reference, ValueMapping(5, (0,)))
    assert detect(stored, reference) == ValueMapping(5, (0,))
    # Perfectly symmetric: either is exact; the one with fewest reversals is kept.
    symmetric = np.concatenate([half, half[::-1]])
    assert detect(symmetric + 5, symmetric) == ValueMapping(5, ())


def test_other_shapes_are_named():
    with pytest.raises(MappingError, match=r"\(40, 36, 24\).*\(40, 36, 23\)"):
        detect(volume(), volume()[:, :, 1:])


@pytest.mark.parametrize("flips", [(), (2,), (0, 1)])
def test_a_rescale_slope_is_found_with_its_offset(flips):
    """RescaleSlope 2, RescaleIntercept -1024: RadiObject keeps the raw values, HU = 2 x raw -
    1024 = 2 x (raw - 512)."""
    reference = volume().astype(np.int32) * 2  # HU a slope of 2 can produce: even numbers
    raw = (reference + 1024) // 2
    stored = np.flip(raw, axis=flips) if flips else raw
    found = detect(stored.astype(np.int16), reference.astype(np.float32))
    assert found == ValueMapping(512, flips, slope=2)
    assert np.array_equal(found.to_reference(stored), reference)
    half = detect(stored, reference + 1)  # intercept -1023: a fractional offset
    assert half == ValueMapping(511.5, flips, slope=2)


def test_a_rescale_that_changes_from_slice_to_slice_is_refused_with_the_spread_seen():
    reference = volume().astype(np.int32) * 2
    stored = (reference + 1024) // 2
    stored[:, :, 10:] = reference[:, :, 10:] + 1024  # slope 1 from slice 10 on
    with pytest.raises(MappingError, match=r"between -?\d+ and -?\d+ over"):
        detect(stored, reference)
    with pytest.raises(MappingError, match="not an integer offset"):
        detect(volume().astype(np.float32) + 0.5, volume())


def test_other_data_is_refused():
    with pytest.raises(MappingError, match="no axis reversal and constant offset"):
        detect(volume(seed=1), volume(seed=2))


def test_a_default_profile_volume_takes_well_under_seconds():
    reference = volume((512, 512, 96))
    stored = stored_as(reference, ValueMapping(1024, (2,)))
    start = time.perf_counter()
    assert detect(stored, reference) == ValueMapping(1024, (2,))
    assert time.perf_counter() - start < 10  # ~0.2 s on a 2-core machine


def test_to_hu_is_float32_hu_in_the_references_order():
    """What radiobject_random hands a training step: stored 2 x 2 x 2 values, z reversed,
    HU = 2 x (stored - 512), as float32 in the reference's order."""
    stored = np.array([[[600, 512], [513, 0]], [[1, 2], [3, 4]]], dtype=np.int16)
    hu = ValueMapping(512, (2,), 2).to_hu(stored)
    assert hu.dtype == np.float32 and hu.flags["C_CONTIGUOUS"]
    assert hu.tolist() == [[[0, 176], [-1024, 2]], [[-1020, -1022], [-1016, -1018]]]
    same = ValueMapping(1024).to_hu(np.array([[[1024, 0]]], dtype=np.int16))
    assert same.tolist() == [[[0, -1024]]]
