"""The recipe comparison (benchmarks/recipes.py) on the quick data: each recipe reads the voxels
it claims, the shipped RadiObject loader's fixed patches show as a finding, caches are built
before the clock and timed on their own, TileDB keeps to the thread budget, a cache over the
memory budget is n/a with the numbers named, and a queue's short-lived workers are in the
exact memory peak."""

import dataclasses

import pytest

from radibench import frameworks
from radibench.frameworks import radiobject as radiobject_api
from radibench.measure.protocol import run_recipe
from radibench.measure.voxels import reference_check
from radibench.prepare import recipes

SPEC = frameworks.LoaderSpec(threads=1, start_method=None)


@pytest.fixture(scope="module")
def run(quick, radiobject_uri, radiobject_mapping, tmp_path_factory):
    reads = {
        ".nii.gz": [str(s.train_nifti) for s in quick.subjects],
        ".nii": recipes.uncompressed(tmp_path_factory.mktemp("nii"), quick, len(quick.subjects)),
    }

    def run(name):
        files = reads[frameworks.recipe(name).reads]
        fw = frameworks.make(name, files, radiobject_uri, radiobject_mapping)
        fw.import_modules()
        return run_recipe(fw, SPEC, len(files), reference_check(files), warmup=1, timed=2)

    return run


@pytest.mark.parametrize("name", sorted(frameworks.ADAPTERS))
def test_every_recipe_reads_the_voxels_it_claims(name, run):
    result = run(name)
    assert result.first_batch_voxels == SPEC.batch_size * 64**3
    assert result.first_batch_mismatches == 0
    assert result.batch_shape == [SPEC.batch_size, 1, 64, 64, 64]
    assert result.peak_memory >= result.start_memory > 0
    assert result.peak_memory_hwm >= result.start_memory_hwm > 0
    assert result.hwm_unread == 0
    assert result.samples_per_epoch == 4 * SPEC.samples_per_volume


@pytest.mark.parametrize("name", sorted(frameworks.ADAPTERS))
def test_the_best_recipes_hand_over_float32_hu_and_the_study_keeps_its_own(name, run):
    """Equal output: every best recipe gives a training step float32 HU in the NIfTI's order
    (RadiObject's mapped inside its loader, so the timed batches pay for it; the first-batch
    check compares them with nibabel's read as they are); the study's recipes stay as the
    study ran them (RadiObject's shipped loader: the stored integers, its own slice order)."""
    recipe = frameworks.recipe(name)
    result = run(name)
    assert result.first_batch_mismatches == 0
    if recipe.set == "best":
        assert result.dtype == "torch.float32"
    elif recipe.framework == "radiobject":
        assert "float" not in result.dtype  # the stored integers (uint16 here)


@pytest.mark.parametrize(
    ("name", "distinct"),
    [("radiobject", 1), ("torchio", 1), ("radiobject_random", 6), ("monai_cache", 6)],
)
def test_distinct_patches_show_a_loader_that_repeats_itself(name, distinct, run):
    """The shipped loader seeds each item's position with its index (one patch per subject,
    every epoch) and CropOrPad is always the centre; random recipes move (2 epochs x 4 each,
    at most 8 distinct; collisions are possible on the small quick volumes)."""
    found = run(name).distinct_patches
    assert found == distinct if distinct == 1 else found >= distinct


@pytest.mark.parametrize("name", ["monai_cache", "monai_persistent"])
def test_a_cache_is_built_before_the_clock_and_timed_on_its_own(name, quick):
    fw = frameworks.make(name, [s.train_nifti for s in quick.subjects])
    fw.import_modules()
    with pytest.raises(AttributeError):
        next(fw.batches(SPEC))  # no loader without its cache: it cannot hide in cold start
    fw.prepare(SPEC)
    assert tuple(next(fw.batches(SPEC)).shape) == (4, 1, 64, 64, 64)
    fw.close()


def test_a_queues_short_lived_workers_are_in_the_exact_peak(quick):
    """TorchIO's Queue starts its workers (forked, as its users get them) for every refill and
    joins them after it: each one's high-water mark is read as it is reaped, none escapes."""
    niftis = [str(s.train_nifti) for s in quick.subjects]
    fw = frameworks.make("torchio_queue", niftis)
    fw.import_modules()
    spec = dataclasses.replace(SPEC, num_workers=2)
    result = run_recipe(fw, spec, len(niftis), reference_check(niftis), warmup=1, timed=2)
    assert result.hwm_unread == 0
    assert result.peak_memory_hwm - result.start_memory_hwm >= 2 * 50 * 2**20  # two workers


def test_a_wrong_voxel_is_counted(run, quick, radiobject_uri, radiobject_mapping):
    """The first-batch check is not a formality: an offset one off fails every voxel."""
    niftis = [str(s.train_nifti) for s in quick.subjects]
    wrong = dataclasses.replace(radiobject_mapping, offset=radiobject_mapping.offset + 1)
    fw = frameworks.make("radiobject_random", niftis, radiobject_uri, wrong)
    fw.import_modules()
    result = run_recipe(fw, SPEC, len(niftis), reference_check(niftis), warmup=0, timed=1)
    assert result.first_batch_mismatches == result.first_batch_voxels > 0


def test_tiledb_reads_within_the_thread_budget(radiobject_uri, radiobject_mapping):
    """radiobject's read context defaults to 4 threads; the budget is read back from TileDB."""
    fw = frameworks.make("radiobject", (), radiobject_uri, radiobject_mapping)
    fw.loader(frameworks.LoaderSpec(threads=1))
    assert radiobject_api.configure_read_threads(1) == 1
    assert radiobject_api.configure_read_threads(2) == 2


def test_workers_get_the_thread_budget_too(radiobject_uri, radiobject_mapping):
    """Spawned workers start with radiobject's defaults: the loader's worker_init_fn applies
    the budget there, then radiobject's own worker_init_fn."""
    spec = frameworks.LoaderSpec(num_workers=2, threads=1)
    fw = frameworks.make("radiobject", (), radiobject_uri, radiobject_mapping)
    init = fw.loader(spec).worker_init_fn
    assert init.func is radiobject_api._worker_threads
    assert init.args[0] == 1 and init.args[1] is not None


def test_a_cache_over_the_memory_budget_is_na(quick, monkeypatch):
    monkeypatch.setenv(recipes.MEMORY_BUDGET_ENV, "0.01")
    problems = {}
    assert not recipes._fits(problems, "k", "monai_cache", quick, 100)
    kind, why = problems["k"]
    assert kind == "n/a" and "over the memory budget of 0.0 GB" in why and "needs" in why
    assert not recipes._fits(problems, "k1", "monai_cache_threads", quick, 100)  # same cache
    assert recipes._fits(problems, "k2", "monai_persistent", quick, 100)  # on disk, not RAM


def test_prepare_records_every_recipe_and_copies_larger_cohorts(
    quick, data_root, tmp_path, monkeypatch
):
    """setup_cache as asv runs it: a 6-subject cohort from the 4 quick subjects, every file a
    copy (no framework reads another subject's pages), two fresh processes per recipe whose
    timings reach asv as one sample each, interleaved across the recipes."""
    monkeypatch.setenv("RADIBENCH_PROFILE", "quick")
    monkeypatch.setenv("RADIBENCH_DATA", str(data_root))
    chosen = ["radiobject_random", "monai_cache", "monai_nii"]
    cache = recipes.prepare(chosen, (0,), (6,), cache_dir=tmp_path, rounds=2)
    for suffix in (".nii.gz", ".nii"):  # monai_nii reads uncompressed copies
        copies = sorted((tmp_path / "cohort-6").glob(f"*{suffix}"))
        assert len(copies) == 6 and len({p.stat().st_ino for p in copies}) == 6
    for recipe in chosen:
        result = recipes.result(cache, recipe, 0, 6)
        assert result["subjects"] == 6 and result["first_batch_mismatches"] == 0
        assert result["processes"] == 2
        for timing in recipes.TIMED:
            assert result[timing]["number"] == 1 and len(result[timing]["samples"]) == 2
    assert cache["mappings"][6]["offset"] == 1024


def test_recipes_left_out_by_radibench_recipes_are_na_and_never_run(
    quick, data_root, tmp_path, monkeypatch
):
    """`make bench` names the recipes its answer compares; the rest show n/a, saying why."""
    monkeypatch.setenv("RADIBENCH_PROFILE", "quick")
    monkeypatch.setenv("RADIBENCH_DATA", str(data_root))
    monkeypatch.setenv("RADIBENCH_RECIPES", "radiobject_random")
    cache = recipes.prepare(["radiobject_random", "monai"], (0,), cache_dir=tmp_path, rounds=1)
    assert list(cache["runs"]) == [recipes.key("radiobject_random", 0, cache["subjects"])]
    with pytest.raises(NotImplementedError, match="not in RADIBENCH_RECIPES"):
        recipes.result(cache, "monai", 0)


def test_the_uncompressed_files_hold_the_training_voxels(quick, tmp_path):
    """What the .nii recipes read is the training .nii.gz inflated: the same header and voxels."""
    import nibabel
    import numpy as np

    plain = recipes.uncompressed(tmp_path, quick, len(quick.subjects))
    for subject, path in zip(quick.subjects, plain, strict=True):
        assert path.endswith(".nii")
        a, b = nibabel.load(subject.train_nifti), nibabel.load(path)
        assert np.array_equal(a.affine, b.affine)
        assert np.array_equal(np.asanyarray(a.dataobj), np.asanyarray(b.dataobj))


THREAD_LOADER = """
import sys
from radibench import frameworks
fw = frameworks.make("monai_cache_threads", sys.argv[2:])
spec = frameworks.LoaderSpec(threads=1, start_method=None)
fw.prepare(spec)
batches = fw.batches(spec)
for _ in range(3):
    next(batches)
if sys.argv[1] == "close":
    batches.close()
"""


def test_the_thread_loader_must_be_closed_to_end_cleanly(quick):
    """MONAI's ThreadDataLoader left mid-epoch aborts the interpreter at exit ("terminate called
    without an active exception", SIGABRT): run_recipe closes every loader it opens."""
    import subprocess
    import sys

    niftis = [str(s.train_nifti) for s in quick.subjects]
    ends = {
        how: subprocess.run(
            [sys.executable, "-c", THREAD_LOADER, how, *niftis], capture_output=True, timeout=300
        ).returncode
        for how in ("close", "leave")
    }
    assert ends == {"close": 0, "leave": -6}


def test_the_thread_loader_recipe_has_no_worker_processes(quick):
    fw = frameworks.make("monai_cache_threads", [s.train_nifti for s in quick.subjects])
    with pytest.raises(NotImplementedError, match="num_workers=0"):
        fw.prepare(dataclasses.replace(SPEC, num_workers=2))


@pytest.mark.parametrize("name", ["monai_cache", "torchio_queue_nii", "radiobject_random"])
def test_from_dicom_makes_what_the_recipe_reads(name, quick, tmp_path):
    """recipes.FromDicom times this: the peers' NIfTI files (SimpleITK, as the dataset made the
    training files: the same voxels and affine) or RadiObject's ingest, in a fresh process."""
    import nibabel
    import numpy as np

    from radibench.measure.runner import run_in_fresh_process

    dicom_dirs = [str(s.train_dicom_dir) for s in quick.subjects]
    run = run_in_fresh_process(name, dicom_dirs, from_dicom=tmp_path)
    assert run["seconds"] > 0 and run["subjects"] == len(dicom_dirs), run
    reads = frameworks.recipe(name).reads
    if name.startswith("radiobject"):
        volume = radiobject_api.open_collection(str(tmp_path / "radiobject"))[0]
        assert tuple(volume.shape) == nibabel.load(quick.subjects[0].train_nifti).shape
        return
    for j, subject in enumerate(quick.subjects):
        made = nibabel.load(tmp_path / f"subject-{j:03d}{reads}")
        train = nibabel.load(subject.train_nifti)
        assert np.array_equal(made.affine, train.affine)
        assert np.array_equal(np.asanyarray(made.dataobj), np.asanyarray(train.dataobj))


def test_each_kind_of_preparation_is_made_once_per_round(quick, data_root, tmp_path, monkeypatch):
    monkeypatch.setenv("RADIBENCH_PROFILE", "quick")
    monkeypatch.setenv("RADIBENCH_DATA", str(data_root))
    chosen = ["radiobject_random", "monai_cache", "torchio_queue", "monai_nii"]
    cache = recipes.prepare_from_dicom(chosen, cache_dir=tmp_path, rounds=2)
    assert sorted(cache["runs"]) == [".nii", ".nii.gz", "ingest"]
    assert all(len(runs) == 2 for runs in cache["runs"].values())
    shared = recipes.preparation(cache, "torchio_queue")
    assert shared == recipes.preparation(cache, "monai_cache")  # one conversion for both
    assert shared["number"] == 1 and len(shared["samples"]) == 2
    assert not list(tmp_path.glob("from-dicom-*"))  # nothing left behind
