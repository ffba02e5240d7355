"""Every adapter yields the study's batches, and every patch is a real sub-volume of the data.

Patches are found voxel for voxel in a reference read of the training cohort (nibabel, HU),
after the stated differences: RadiObject's values and slice order map onto the NIfTI by the
ValueMapping detected from the data, as setup_cache does (on this synthetic data, DICOM's stored
values HU + 1024 with the slices the other way round; see tests/test_dicom_mapping.py).
"""

import nibabel
import numpy as np
import pytest

from radibench import frameworks
from radibench.frameworks import LoaderSpec

SPEC = LoaderSpec()


@pytest.fixture(scope="module")
def reference(quick):
    return {s.id: np.asanyarray(nibabel.load(s.train_nifti).dataobj) for s in quick.subjects}


def locate(patch: np.ndarray, volumes: dict) -> tuple[str, tuple[int, int, int]] | None:
    """Where `patch` sits in one of `volumes`, comparing every voxel; None if nowhere.

    Candidates come from the patch voxel whose value is rarest in the volume (air is common)."""
    rng = np.random.default_rng(0)
    probes = [tuple(rng.integers(0, n) for n in patch.shape) for _ in range(64)]
    for subject, volume in volumes.items():
        counts = [np.count_nonzero(volume == patch[p]) for p in probes]
        probe = np.array(probes[int(np.argmin(counts))])
        for hit in np.argwhere(volume == patch[tuple(probe)]):
            ox, oy, oz = hit - probe
            if min(ox, oy, oz) < 0 or any(
                o + n > v for o, n, v in zip((ox, oy, oz), patch.shape, volume.shape, strict=True)
            ):
                continue
            block = volume[ox : ox + patch.shape[0], oy : oy + patch.shape[1]]
            if np.array_equal(block[:, :, oz : oz + patch.shape[2]], patch):
                return subject, (int(ox), int(oy), int(oz))
    return None


@pytest.fixture(scope="module")
def adapter(quick, radiobject_uri, radiobject_mapping, request):
    def make(name):
        niftis = [s.train_nifti for s in quick.subjects]
        fw = frameworks.make(name, niftis, radiobject_uri, radiobject_mapping)
        fw.import_modules()
        fw.prepare(SPEC)  # the cached recipes build their cache first
        request.addfinalizer(fw.close)
        return fw

    return make


@pytest.mark.parametrize("name", sorted(frameworks.ADAPTERS))
def test_batches_are_real_patches_of_the_cohort(name, adapter, reference):
    fw = adapter(name)
    batches = fw.batches(SPEC)
    found = set()
    for _ in range(3):  # more than one epoch of the 4-subject cohort
        batch = next(batches)
        assert tuple(batch.shape) == (SPEC.batch_size, 1, *SPEC.patch_size)
        for patch in batch[:, 0].numpy().astype(np.int32):
            if fw.flipped_axes:
                patch = np.flip(patch, axis=fw.flipped_axes)
            where = locate(patch - fw.hu_offset, reference)
            assert where is not None, f"{name}: a patch is not a sub-volume of any subject"
            found.add(where)
    subjects = {subject for subject, _ in found}
    assert subjects <= set(reference)
    assert len(subjects) >= 2  # shuffled across subjects, not one volume over and over


@pytest.mark.parametrize("name", ["radiobject_random", "monai", "torchio_queue"])
def test_random_patches_move(name, adapter):
    """Not the shipped RadiObject loader: it seeds each patch with the item index, so on the quick
    data (one batch an epoch) its second batch is its first reshuffled, equal 1 time in 24
    (test_recipes.py checks that it repeats itself)."""
    fw = adapter(name)
    batches = fw.batches(SPEC)
    first, second = next(batches), next(batches)
    assert not np.array_equal(first.numpy(), second.numpy())


def test_torchio_crop_or_pad_is_the_centre(adapter, reference):
    """Stated in the docs: the study's TorchIO loader always gives the central block."""
    fw = adapter("torchio")
    patch = next(fw.batches(SPEC))[0, 0].numpy()
    subject, offset = locate(patch.astype(np.int32), reference)
    shape = reference[subject].shape
    assert offset == tuple((n - 64) // 2 for n in shape)


def test_too_few_subjects_for_a_batch_is_an_error(quick, radiobject_uri):
    fw = frameworks.make("monai", [quick.subjects[0].train_nifti])
    with pytest.raises(frameworks.EmptyEpoch, match="no batch"):
        next(fw.batches(SPEC))


def test_unknown_framework():
    with pytest.raises(ValueError, match="unknown framework"):
        frameworks.make("tensorflow")


def test_bytes_read_per_batch_is_the_same_every_run(quick, radiobject_uri, radiobject_mapping):
    """loaders.BytesRead is noise-free: two runs read exactly the same bytes, and a batch of
    four 64^3 uint16 patches needs at least their own size from disk."""
    from benchmarks.loaders import BytesRead

    cache = {"niftis": [str(s.train_nifti) for s in quick.subjects], "problems": {}}
    cache.update(radiobject_uri=radiobject_uri, mapping=radiobject_mapping.to_json())
    values = []
    for _ in range(2):
        bench = BytesRead()
        bench.setup(cache, "radiobject")
        values.append(bench.track_bytes_per_batch(cache, "radiobject"))
    print("bytes per batch", values)
    assert values[0] == values[1]
    assert values[0] >= 4 * 64**3 * 2 * 0.5  # tiles are compressed, but not to nothing
