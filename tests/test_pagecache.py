"""Cold runs (regimes.ColdCache): a recipe's files leave the page cache before its process
starts, checked page by page, and a page that cannot leave stops the run instead of letting it
measure a warm cache."""

import mmap
import os

import pytest

from radibench.measure import pagecache
from radibench.prepare import recipes


@pytest.fixture()
def warm_file(tmp_path):
    path = tmp_path / "volume.nii"
    path.write_bytes(os.urandom(64 * pagecache.PAGE))  # dirty until written back: evict does
    return path


def test_evicted_pages_are_gone(warm_file):
    assert pagecache.resident_bytes([warm_file]) > 0
    assert pagecache.evict([warm_file]) == 64 * pagecache.PAGE
    assert pagecache.resident_bytes([warm_file]) == 0
    with open(warm_file, "rb") as f:
        f.read(pagecache.PAGE)
    assert pagecache.resident_bytes([warm_file]) >= pagecache.PAGE  # reading brings them back


def test_a_folder_is_every_file_under_it(tmp_path, warm_file):
    (tmp_path / "array" / "fragment").mkdir(parents=True)
    (tmp_path / "array" / "fragment" / "a.tdb").write_bytes(b"x" * 10)
    assert set(pagecache.files_of([tmp_path])) == {
        warm_file,
        tmp_path / "array" / "fragment" / "a.tdb",
    }
    with pytest.raises(FileNotFoundError, match="nothing to evict"):
        pagecache.files_of([tmp_path / "missing"])


def test_a_page_that_stays_stops_the_cold_run(warm_file):
    """A page a process keeps mapped is not dropped: eviction says so rather than pass."""
    with open(warm_file, "rb") as f, mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as mapped:
        mapped[:]  # touch every page through the mapping
        with pytest.raises(pagecache.EvictionError, match="not a cold run"):
            pagecache.evict([warm_file])


def test_cold_runs_start_with_their_files_evicted(quick, data_root, tmp_path, monkeypatch):
    """setup_cache as asv runs it, cold: each run's files are evicted before its process."""
    monkeypatch.setenv("RADIBENCH_PROFILE", "quick")
    monkeypatch.setenv("RADIBENCH_DATA", str(data_root))
    evicted = []
    real = pagecache.evict

    def evict(paths):
        paths = list(paths)
        size = real(paths)
        evicted.append((paths, pagecache.resident_bytes(paths)))
        return size

    monkeypatch.setattr(pagecache, "evict", evict)
    chosen = ["radiobject_random", "monai_nii"]
    cache = recipes.prepare(chosen, (0,), cache_dir=tmp_path, rounds=1, cold=True)
    assert not cache["problems"], cache["problems"]
    assert len(evicted) == 2 and all(left == 0 for _, left in evicted)
    radiobject, nii = (paths for paths, _ in evicted)
    assert radiobject == [str(tmp_path / f"radiobject-{len(quick.subjects)}")]
    assert all(p.endswith(".nii") for p in nii) and len(nii) == len(quick.subjects)
    for recipe in ("radiobject_random", "monai_nii"):
        assert recipes.result(cache, recipe, 0)["first_batch_mismatches"] == 0
