"""Where the instructions went (radibench.tools.where): callgrind_annotate's listings read as
they are printed, functions ranked by their change in self instructions with the callers that
explain it, Python calls that changed with RadiObject's first; and a real callgrind run of a
tiny loader that copies each patch, named down to numpy's copy and the Python line calling it."""

import json
import subprocess
import sys
import textwrap

from radibench.measure import instructions, profiles
from radibench.measure.process import child_env
from radibench.tools import where

# Excerpts of real `callgrind_annotate --auto=no --threshold=100` output (callgrind 3.19, the
# quick profile's loader), cut to a few entries.
HEADER = """\
--------------------------------------------------------------------------------
Ir
--------------------------------------------------------------------------------
902,521,007 (100.0%)  PROGRAM TOTALS

--------------------------------------------------------------------------------
Ir                    file:function
--------------------------------------------------------------------------------
"""
LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6"
NUMPY = "/venv/lib/python3.11/site-packages/numpy/_core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so"  # noqa: E501
PYTHON = "/root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0"
MEMCPY = (
    "./string/../sysdeps/x86_64/multiarch/memmove-vec-unaligned-erms.S:__memcpy_avx_unaligned_erms"  # noqa: E501
)
EVAL = "/tmp/python-build/Python-3.11.7/Python/ceval.c:_PyEval_EvalFrameDefault'2"
FLAT = (
    HEADER
    + f"""\
 28,691,864 ( 3.18%)  {MEMCPY} [{LIBC}]
  8,347,828 ( 0.94%)  {EVAL} [{PYTHON}]
     65,440 ( 0.01%)  ???:void std::__cxx11::basic_string<char>::_M_construct<char*>(char*, char*, std::forward_iterator_tag) [clone .isra.0] [/venv/lib/python3.11/site-packages/torch/lib/libtorch_python.so]
     45,793 ( 1.74%)  /tmp/python-build/Python-3.11.7/Python/ceval.c:PyObject_Vectorcall
          1 ( 0.00%)  ???:0x00000000049367b8 [???]

"""  # noqa: E501
)


def tree(copy_cost: int) -> str:
    """`--inclusive=yes --tree=caller` of np.array's copy path, copies costing `copy_cost`."""
    return HEADER + textwrap.dedent(f"""\

        {copy_cost:,} ( 1.86%)  < ???:_contig_to_contig (64x) [{NUMPY}]
          8,388,336 ( 0.93%)  < ???:at::native::structured_cat_out_cpu::impl(c10::IListRef<at::Tensor> const&, long) (16x) [/venv/torch/lib/libtorch_cpu.so]
        {copy_cost + 8388336:,} ( 3.18%)  *  {MEMCPY} [{LIBC}]

        {copy_cost:,} ( 1.86%)  < ???:raw_array_assign_array (64x) [{NUMPY}]
        {copy_cost:,} ( 1.86%)  *  ???:_contig_to_contig [{NUMPY}]

        {copy_cost:,} ( 1.86%)  < ???:array_array (64x) [{NUMPY}]
        {copy_cost:,} ( 1.86%)  *  ???:raw_array_assign_array [{NUMPY}]

        {copy_cost + 76852:,} ( 1.09%)  < {EVAL} (32x) [{PYTHON}]
        {copy_cost + 76852:,} ( 1.10%)  *  ???:array_array [{NUMPY}]

         49,515,734 ( 5.49%)  < /tmp/python-build/Python-3.11.7/Objects/call.c:_PyFunction_Vectorcall'2 (3,185x)
         49,515,734 ( 5.49%)  *  /tmp/python-build/Python-3.11.7/Python/ceval.c:_PyEval_Vector'2 [{PYTHON}]
        """)  # noqa: E501


def profile(copy_cost: int, calls: dict, batches: int = 4) -> where.Profile:
    costs, objects = where.self_costs(FLAT.replace("28,691,864", f"{copy_cost + 8388336:,}"))
    return where.Profile(batches, costs, objects, where.caller_costs(tree(copy_cost)), calls)


def test_self_costs_are_read_with_their_library_and_cpp_names_kept_whole():
    costs, objects = where.self_costs(FLAT)
    assert costs[MEMCPY] == 28_691_864 and objects[MEMCPY] == LIBC
    assert costs[EVAL] == 8_347_828 and objects[EVAL] == PYTHON
    cloned = next(k for k in costs if "_M_construct" in k)
    assert cloned.endswith("std::forward_iterator_tag) [clone .isra.0]")
    assert objects[cloned].endswith("libtorch_python.so")
    inlined = "/tmp/python-build/Python-3.11.7/Python/ceval.c:PyObject_Vectorcall"
    assert costs[inlined] == 45_793 and objects[inlined] == ""  # an inlined part: no library
    assert "PROGRAM TOTALS" not in " ".join(costs) and len(costs) == 5


def test_callers_are_read_with_the_inclusive_cost_of_their_calls():
    graph = where.caller_costs(tree(16_777_024))
    assert graph[MEMCPY] == {
        "???:_contig_to_contig": 16_777_024,
        "???:at::native::structured_cat_out_cpu::impl(c10::IListRef<at::Tensor> const&, long)": (
            8_388_336
        ),
    }
    assert graph["???:array_array"] == {EVAL: 16_853_876}


def test_cpp_names_lose_their_file_arguments_and_clone_suffix():
    assert where.short_name("???:tiledb::sm::Query::submit() const") == "tiledb::sm::Query::submit"
    name = "???:void f<char*>(char*, std::pair<int, int>) [clone .isra.0]"
    assert where.short_name(name) == "void f<char*>"
    assert where.short_name(MEMCPY) == "__memcpy_avx_unaligned_erms"
    assert len(where.short_name("???:" + "x" * 200)) == 60


def test_the_function_whose_self_instructions_rose_is_named_with_the_path_python_took():
    base, head = profile(8_388_512, {}), profile(16_777_024, {})
    (change,) = where.instruction_changes(base, head)  # the rest did not change
    assert change.function == MEMCPY and change.obj == LIBC
    assert change.change == (16_777_024 - 8_388_512) / 4
    assert change.through == [
        "_contig_to_contig",
        "raw_array_assign_array",
        "array_array",
        "Python",
    ]


def test_a_change_within_the_thread_pools_noise_is_not_listed():
    base = profile(0, {})
    head = where.Profile(4, dict(base.self_cost), base.objects, base.callers, {})
    head.self_cost[EVAL] += 4 * 1_000  # 1,000 per batch: far under 0.05% of a batch
    assert where.instruction_changes(base, head) == []


def calls(numpy_array: int, path_join: int) -> dict:
    """Python calls as Profile.load keeps them: (file, function) -> calls, line, callers."""
    patch = ("radiobject/ml/datasets/collection_dataset.py", "_get_patch_item")
    stack = ("torch/utils/data/_utils/collate.py", "collate")
    return {
        ("~", "<built-in method numpy.array>"): {
            "calls": numpy_array + 8,
            "line": 0,
            "callers": {patch: numpy_array, stack: 8},
        },
        patch: {"calls": 16, "line": 116, "callers": {}},
        stack: {"calls": 4, "line": 188, "callers": {}},
        ("<frozen importlib._bootstrap_external>", "_path_join"): {
            "calls": path_join,
            "line": 126,
            "callers": {},
        },
    }


def test_python_calls_that_changed_list_radiobjects_first_with_their_callers():
    base, head = profile(0, calls(16, 300)), profile(0, calls(32, 540))
    first, second = where.call_changes(base, head)
    assert (first.function, first.base, first.head) == ("<built-in method numpy.array>", 6, 10)
    assert first.callers == [
        ("radiobject/ml/datasets/collection_dataset.py:116 _get_patch_item", 4)
    ]
    assert first.own and not second.own
    assert (second.function, second.change) == ("_path_join", 60)  # larger, but not RadiObject's


def test_paths_lose_the_machines_prefix():
    assert where.short_path("/x/.asv/env/abc/lib/python3.11/site-packages/radiobject/v.py") == (
        "radiobject/v.py"
    )
    assert where.short_path("/usr/lib/python3.11/json/decoder.py") == "json/decoder.py"
    assert where.short_path("~") == "~"


LOADER = """
import json, os, sys
import numpy as np
from radibench.measure.instructions import instrument, python_calls, tools

COPIES = int(sys.argv[1])


def load_patch(i):
    patch = np.full((32, 32, 32), i, dtype=np.int16)
    for _ in range(COPIES):
        patch = np.array(patch, copy=True)
    return patch


def batches():
    i = 0
    while True:
        yield [load_patch(i + k) for k in range(4)]
        i += 4


stream = batches()
next(stream)
_, control = tools()
instrument(control, True)
for _ in range(2):
    next(stream)
instrument(control, False)
with open(sys.argv[2], "w") as out:
    json.dump(python_calls(stream, 2), out)
"""


def test_a_real_profile_names_the_copy_it_added_and_the_python_line_calling_it(tmp_path):
    """Two callgrind runs of a tiny loader (no copy, then two copies per patch), kept as the
    instructions benchmark keeps them, read back into the verdict's tables."""
    script = tmp_path / "loader.py"
    script.write_text(LOADER)
    valgrind, _ = instructions.tools()
    for commit, copies in (("a0", 0), ("b1", 2)):
        folder = tmp_path / "profiles" / f"{commit}{'0' * 38}"
        folder.mkdir(parents=True)
        callgrind = folder / profiles.CALLGRIND.format(framework="radiobject")
        calls = folder / profiles.CALLS.format(framework="radiobject")
        command = [valgrind, "--tool=callgrind", "--instr-atstart=no"]
        command += [f"--callgrind-out-file={callgrind}", sys.executable, str(script)]
        run = subprocess.run(
            [*command, str(copies), str(calls)], capture_output=True, text=True, env=child_env()
        )
        assert run.returncode == 0, run.stderr[-3000:]
    base = where.Profile.load(tmp_path / "profiles" / f"a0{'0' * 38}", "radiobject")
    head = where.Profile.load(tmp_path / "profiles" / f"b1{'0' * 38}", "radiobject")
    top = where.instruction_changes(base, head)[0]
    per_batch = 2 * 4 * 32**3 * 2  # bytes copied: 2 copies of 4 int16 patches
    assert "mem" in top.function and top.change >= per_batch * 0.9, top  # libc's memcpy
    assert "array_array" in top.through and top.through[-1] == "Python", top
    (numpy_array,) = [c for c in where.call_changes(base, head) if "numpy.array" in c.function]
    assert numpy_array.change == 8, numpy_array  # 2 per patch, 4 patches per batch
    assert [n for n, _ in numpy_array.callers] == [f"{script}:9 load_patch"]
    text = where.markdown(tmp_path / "profiles", "a0", "b1")
    assert "### Where the instructions went" in text
    assert "`array_array` < `Python`" in text and ":9 load_patch` (+8)" in text
    assert json.loads(json.dumps(text))  # plain text, ready for the verdict's JSON


def test_a_missing_profile_is_said_not_raised(tmp_path):
    text = where.markdown(tmp_path, "abc123", "def456")
    assert "No profile of `abc123`, `def456`" in text and "RADIBENCH_PROFILES" in text


def requests(volume_heads: float, obs_lists: float) -> dict:
    """counters.s3_requests' output as counts.S3PerBatch keeps it (per batch)."""
    volumes = {"GET": 8, "HEAD": volume_heads, "LIST": 20, "other": 0, "bytes": 2_100_000}
    obs = {"GET": 0, "HEAD": 0, "LIST": obs_lists, "other": 0, "bytes": 0}
    group = {"GET": 0, "HEAD": 0, "LIST": 4, "other": 0, "bytes": 0}
    arrays = {"train/collections/CT/volumes/<n>": volumes, "train/collections/CT/obs": obs}
    return {"kinds": {}, "arrays": arrays | {"train/collections": group}}


def test_the_arrays_whose_requests_changed_are_listed_with_the_kinds_that_moved(tmp_path):
    for commit, kept in (("3062b8e1", requests(8, 0)), ("84edab60", requests(12, 2))):
        (tmp_path / commit).mkdir()
        (tmp_path / commit / profiles.REQUESTS.format(framework="radiobject")).write_text(
            json.dumps(kept)
        )
    text = where.arrays_markdown(tmp_path, "3062b8e1", "84edab60")
    rows = [r for r in text.splitlines() if r.startswith("| `")]
    assert rows == [
        "| `train/collections/CT/volumes/<n>` | 8 | 8 → 12 | 20 | 0 | 2,100,000 |",
        "| `train/collections/CT/obs` | 0 | 0 | 0 → 2 | 0 | 0 |",
    ]  # the group's requests did not change: not listed
    assert "per process, not per array" in text
    same = where.arrays_markdown(tmp_path, "3062b8e1", "3062b8e1")
    assert "No array's S3 requests or bytes changed." in same
    assert "No S3 request counts of `ffff`" in where.arrays_markdown(tmp_path, "3062b8e1", "ffff")
