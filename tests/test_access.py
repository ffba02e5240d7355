"""Every reader returns the same voxels for the same access, after the stated differences.

RadiObject's values and slice order map onto the NIfTI by the ValueMapping setup_cache detected
after ingest (hu_offset, flipped_axes; on this synthetic data DICOM's stored values HU + 1024
with the slices the other way round); every other reader gives the NIfTI file's int16 or
float32 HU in its order.
"""

import os

import nibabel
import numpy as np
import pytest

from radibench.data import baselines, store
from radibench.frameworks.mapping import ValueMapping, detect
from radibench.measure import protocol, reads
from radibench.measure.protocol import relative_cost
from radibench.prepare import partial_reads as cohort


@pytest.fixture(scope="module")
def prepared(quick, data_root, tmp_path_factory):
    """setup_cache of benchmarks/access.py and ingest.py on the quick dataset."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RADIBENCH_DATA", str(data_root))
        mp.setenv("RADIBENCH_PROFILE", "quick")
        mp.delenv("RADIBENCH_DATASET", raising=False)
        mp.delenv("RADIBENCH_FRAMEWORKS", raising=False)
        cache = cohort.prepare(tmp_path_factory.mktemp("access"))
    assert not cache["problems"], cache["problems"]
    return cache


@pytest.fixture(scope="module")
def reference(quick):
    """Volume 0 of the cohort, read independently of any adapter (nibabel, int16 HU)."""
    return np.asanyarray(nibabel.load(quick.subjects[0].train_nifti).dataobj)


@pytest.fixture(scope="module")
def readers(prepared):
    return {name: cohort.reader(prepared, name) for name in cohort.READERS}


def in_nifti_frame(result, fw, op: reads.Read) -> np.ndarray:
    """Undo the stated differences of `fw`: axis order and value offset."""
    return ValueMapping(fw.hu_offset, fw.flipped_axes).to_reference(result, op.axis)


def file_mapped(array) -> bool:
    """Whether `array` is (a view of) a numpy memmap: voxels not yet read from the file."""
    while array is not None:
        if isinstance(array, np.memmap):
            return True
        array = getattr(array, "base", None)
    return False


@pytest.mark.parametrize("operation", reads.OPERATIONS)
def test_every_reader_reads_the_same_voxels(operation, readers, reference):
    op = reads.seeded_read(operation, reference.shape)
    expected = reference[op.region].astype(np.int32)
    assert expected.ndim == (2 if op.axis is not None else 3)
    assert np.ptp(expected) > 0  # not a block of air: a misplaced read would not go unseen
    for name, fw in readers.items():
        result = op(fw)
        # A memory-mapped result would be an unread view: the timing would measure nothing.
        assert not file_mapped(result), f"{name}: returned a view of a mapped file, not voxels"
        got = in_nifti_frame(result, fw, op)
        assert got.shape == expected.shape, name
        assert np.array_equal(got, expected), f"{name}: {operation} read other voxels"


def test_radiobject_states_its_differences(prepared, readers, reference):
    """The readers use the mapping setup_cache detected and recorded, it maps every voxel, and
    it is not the identity here (so the test above could fail without it)."""
    for name in cohort.RADIOBJECT:
        fw = readers[name]
        mapping = ValueMapping.from_json(prepared["mappings"][name])
        assert fw.mapping == mapping, name
        raw = fw.read_volume(0)
        assert detect(raw, reference) == mapping
        assert np.array_equal(mapping.to_reference(raw), reference)
        assert mapping != ValueMapping() and not np.array_equal(raw, reference)


def test_positions_are_fixed_and_inside(reference):
    shape = reference.shape
    for name in reads.OPERATIONS:
        op = reads.seeded_read(name, shape)
        assert op == reads.seeded_read(name, shape)
        if op.start is not None:
            assert all(
                s >= 0 and s + n <= m for s, n, m in zip(op.start, op.size, shape, strict=True)
            )
    assert reads.seeded_read("roi_128", shape).size == tuple(min(128, n) for n in shape)
    with pytest.raises(ValueError, match="unknown operation"):
        reads.seeded_read("roi_7", shape)


def test_baseline_files_are_cached_and_reused(quick):
    subject = quick.subjects[:1]
    first = baselines.ensure(quick, subject)[0]
    stamp = {p: p.stat().st_mtime_ns for p in first.root.rglob("*") if p.is_file()}
    again = baselines.ensure(quick, subject)[0]
    assert again == first
    assert {p: p.stat().st_mtime_ns for p in again.root.rglob("*") if p.is_file()} == stamp
    assert not list(first.root.parent.glob("*.partial-*"))


def test_damaged_baseline_files_are_rebuilt(quick):
    subject = quick.subjects[:1]
    files = baselines.ensure(quick, subject)[0]
    good = np.load(files.npy)
    with open(files.npy, "r+b") as f:
        f.seek(-4, os.SEEK_END)
        f.write(b"\0\0\0\0")
    with pytest.raises(store.DatasetError, match="checksum"):
        store.read_manifest(files.root)
    rebuilt = baselines.ensure(quick, subject)[0]
    store.read_manifest(rebuilt.root)
    assert np.array_equal(np.load(rebuilt.npy), good)


def resident_fraction(path) -> float:
    """Share of a file's pages in the page cache (mincore through libc)."""
    import ctypes
    import mmap

    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int]
    libc.mmap.argtypes += [ctypes.c_int, ctypes.c_long]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    size = path.stat().st_size
    pages = -(-size // mmap.PAGESIZE)
    with open(path, "rb") as f:
        addr = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, f.fileno(), 0)
    assert addr not in (None, ctypes.c_void_p(-1).value)
    try:
        vec = (ctypes.c_ubyte * pages)()
        assert libc.mincore(ctypes.c_void_p(addr), ctypes.c_size_t(size), vec) == 0
        return sum(v & 1 for v in vec) / pages
    finally:
        libc.munmap(addr, size)


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="no posix_fadvise")
def test_eviction_empties_the_page_cache(prepared):
    paths = cohort.files_of(prepared, "memmap")
    assert paths
    for path in paths:
        path.read_bytes()
    assert min(map(resident_fraction, paths)) > 0.9
    reads.evict(paths)
    assert max(map(resident_fraction, paths)) < 0.1


def test_relative_cost_alternates(monkeypatch):
    """The calls alternate and the ratio is the subject's summed time over the reference's: on
    a clock the calls themselves advance, so no machine noise enters the test."""
    now, calls = [0.0], []
    monkeypatch.setattr(protocol.time, "perf_counter", lambda: now[0])

    def call(name: str, seconds: float) -> None:
        calls.append(name)
        now[0] += seconds

    ratio = relative_cost(lambda: call("subject", 3.0), lambda: call("reference", 1.0), repeats=3)
    assert calls == ["subject", "reference"] * 3
    assert ratio == 3.0


def test_footprints_are_the_files_sizes(prepared):
    voxels = int(np.prod(prepared["shape"]))
    size = {f: cohort.footprint(prepared, f) for f in cohort.FORMATS}
    size.update({key: cohort.footprint(prepared, key) for key, _, _ in cohort.INGESTS})
    assert 2 * voxels < size["npy"] < 2 * voxels + 4096  # int16 and a header
    assert 2 * voxels < size["nii"] < 2 * voxels + 4096
    assert size["nii.gz"] < size["nii"]
    assert all(n > 0 for n in size.values()), size
