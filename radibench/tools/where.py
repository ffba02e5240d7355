"""Where a count went between two commits: the part of the verdict that says which functions
a rise in instructions per batch came from (so a reviewer need not rerun callgrind), and which
arrays a rise in S3 requests or bytes went to.

Reads what the benchmarks keep when RADIBENCH_PROFILES is set (radibench.measure.profiles):
per commit, the callgrind profile of the counted batches and the Python calls of as many
further batches (cProfile), and the S3 requests and response bytes per batch by array.

- C functions (callgrind, through `callgrind_annotate`), ranked by the change of their SELF
  instructions (spent in the function itself). Each comes with the chain of callers whose
  calls to it rose most (their inclusive cost, from the call graph), up to the C function
  Python called. Not ranked by inclusive totals: TileDB's thread pool runs a read's tasks on
  a worker or inline in the waiting thread as the scheduler has it, so between two runs of
  identical code (quick profile) the inclusive totals of everything above a read (the
  interpreter, the Python bindings) moved by up to three quarters, while no function's self
  total moved by more than 0.03% of a batch's instructions.
- Python functions (cProfile call counts, with file:line): what callgrind cannot see, and where
  RadiObject's own code shows (it is pure Python). Functions of RadiObject, and functions
  RadiObject's code calls more or less often, come first.
- Arrays: TileDB counts bytes, tiles and array opens per process, not per array; the S3 run
  of the same loader (through the counting proxy, radibench.storage.netem) splits requests by
  kind and response bytes by the array or group they are for.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path

from radibench.measure.profiles import CALLGRIND, CALLS, REQUESTS

TOP = 10  # rows per table
CHAIN = 8  # callers followed up from a function
# Self instructions of TileDB's thread-pool waiting (locks, condition waits, frees) moved by up
# to 0.03% of a batch between two runs of identical code: changes under this are not shown.
NOISE = 0.0005
COST = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(\*\s+|<\s+)?(.*?)\s*$")
# An entry: file:function, then (callers only) its call count, then its object (a path, or ???;
# C++ names may hold brackets of their own: "[clone .isra.0]", "operator[]").
OBJECT = re.compile(
    r"^(?P<name>.*?)(?: \((?P<calls>[\d,]+)x\))?(?: \[(?P<object>(?:/|\?\?\?)[^\[\]]*)\])?$"
)
OWN = "radiobject/"  # RadiObject's own files, as `short_path` gives them


def annotate(profile: Path, *options: str) -> str:
    """`callgrind_annotate` of every function (no threshold, no source annotation)."""
    tool = shutil.which("callgrind_annotate")
    if not tool:
        raise FileNotFoundError("callgrind_annotate is not installed (it comes with valgrind)")
    command = [tool, "--auto=no", "--threshold=100", *options, str(profile)]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def _entry(text: str) -> tuple[str, str]:
    """('file:function', object) of an annotate entry, the call count of a caller line dropped."""
    found = OBJECT.match(text)
    return found["name"], found["object"] or ""


def self_costs(flat: str) -> tuple[dict[str, int], dict[str, str]]:
    """file:function -> self instructions, and -> its object (library), from
    `callgrind_annotate` (flat). Keyed without the object: callgrind names the one copy of
    code that two libraries share (folded C++ templates) after either of them, run to run."""
    costs: dict[str, int] = {}
    objects: dict[str, str] = {}
    for line in flat.split("file:function", 1)[-1].splitlines():
        found = COST.match(line)
        if found and not found[2]:
            name, obj = _entry(found[3])
            costs[name] = costs.get(name, 0) + int(found[1].replace(",", ""))
            objects.setdefault(name, obj)
    return costs, objects


def caller_costs(tree: str) -> dict[str, dict[str, int]]:
    """file:function -> its callers -> the inclusive cost of their calls to it, from
    `callgrind_annotate --inclusive=yes --tree=caller` (callers are listed above the function,
    marked `<`; the function itself `*`)."""
    graph: dict[str, dict[str, int]] = {}
    callers: dict[str, int] = {}
    for line in tree.split("file:function", 1)[-1].splitlines():
        found = COST.match(line)
        if not line.strip():  # a blank line ends a function's block
            callers = {}
        if not found or not found[2]:
            continue
        cost, name = int(found[1].replace(",", "")), _entry(found[3])[0]
        if found[2].startswith("<"):
            callers[name] = callers.get(name, 0) + cost
        else:
            graph.setdefault(name, {})
            for caller, n in callers.items():
                graph[name][caller] = graph[name].get(caller, 0) + n
            callers = {}
    return graph


def short_path(path: str) -> str:
    """A source path without the machine's prefix: from the package folder on."""
    for marker in ("site-packages/", "dist-packages/"):
        if marker in path:
            return path.rsplit(marker, 1)[1]
    found = re.search(r"/lib/python3\.\d+/(.*)$", path)
    return found[1] if found else path


@dataclasses.dataclass
class Profile:
    """One commit's kept profiles, totals over `batches` batches."""

    batches: int
    self_cost: dict[str, int]  # file:function -> instructions
    objects: dict[str, str]  # file:function -> the library it is in
    callers: dict[str, dict[str, int]]
    calls: dict[tuple[str, str], dict]  # (short file, function) -> calls, line, callers

    @classmethod
    def load(cls, folder: Path, framework: str) -> Profile:
        callgrind = folder / CALLGRIND.format(framework=framework)
        recorded = json.loads((folder / CALLS.format(framework=framework)).read_text())
        calls: dict[tuple[str, str], dict] = {}
        for f in recorded["functions"]:
            key = (short_path(f["file"]), f["function"])
            entry = calls.setdefault(key, {"calls": 0, "line": f["line"], "callers": {}})
            entry["calls"] += f["calls"]
            for c in f["callers"]:
                caller = (short_path(c["file"]), c["function"])
                entry["callers"][caller] = entry["callers"].get(caller, 0) + c["calls"]
        return cls(
            recorded["batches"],
            *self_costs(annotate(callgrind)),
            caller_costs(annotate(callgrind, "--inclusive=yes", "--tree=caller")),
            calls,
        )


def kept(root: Path, commit: str) -> Path | None:
    """The folder of `commit`'s profiles under `root` (named by the full hash; `commit` may be
    a prefix of it), or None."""
    found = [p for p in root.glob(f"{commit}*") if p.is_dir()] if root.is_dir() else []
    return found[0] if len(found) == 1 else None


def interpreter(obj: str) -> bool:
    """Whether a callgrind object is the Python interpreter: where a C chain reaches Python."""
    return Path(obj).name.startswith(("libpython", "python"))


def short_name(function: str, limit: int = 60) -> str:
    """A C or C++ function's name without its file, argument list and clone suffixes, cut to
    `limit` characters (C++ template names run to hundreds)."""
    name = function.partition(":")[2] or function
    name = re.sub(r" \[clone [^\]]*\]", "", name)
    if name.endswith((")", ") const")):  # drop the argument list: the last balanced (...)
        depth, end = 0, len(name.removesuffix(" const"))
        for i in range(end - 1, -1, -1):
            depth += {")": 1, "(": -1}.get(name[i], 0)
            if depth == 0:
                name = name[:i] + name[end:].removeprefix(" const")
                break
    return name if len(name) <= limit else name[: limit - 1] + "…"


def chain(base: Profile, head: Profile, function, rise: float) -> list[str]:
    """The callers whose calls to `function` rose most, each the next one's callee, up to the
    C function the interpreter called ("Python") or until no caller accounts for half of
    `rise` (a fall when `rise` is negative)."""
    path: list[str] = []
    seen = {function}
    if interpreter(head.objects.get(function) or base.objects.get(function, "")):
        return path  # the interpreter itself: the Python calls say what it ran
    while len(path) < CHAIN:
        now, before = head.callers.get(function, {}), base.callers.get(function, {})
        changed = {c: now.get(c, 0) - before.get(c, 0) for c in set(now) | set(before)}
        if not changed:
            break
        caller = max(changed, key=lambda c: changed[c] * (1 if rise >= 0 else -1))
        if abs(changed[caller]) < abs(rise) / 2 or caller in seen:
            break
        if interpreter(head.objects.get(caller) or base.objects.get(caller, "")):
            path.append("Python")
            break
        path.append(short_name(caller, 40))
        seen.add(caller)
        function = caller
    return path


@dataclasses.dataclass(frozen=True)
class Change:
    function: str  # file:function
    obj: str  # the library
    base: float  # per batch
    head: float
    through: list[str]  # callers, innermost first

    @property
    def change(self) -> float:
        return self.head - self.base


def instruction_changes(base: Profile, head: Profile, top: int = TOP) -> list[Change]:
    """The C functions whose self instructions per batch changed most, largest change first;
    none that changed by less than NOISE of the base's instructions per batch."""
    keys = set(base.self_cost) | set(head.self_cost)
    before = {k: base.self_cost.get(k, 0) / base.batches for k in keys}
    after = {k: head.self_cost.get(k, 0) / head.batches for k in keys}
    floor = NOISE * sum(before.values())
    ranked = sorted(keys, key=lambda k: (-abs(after[k] - before[k]), k))[:top]
    return [
        Change(
            k,
            head.objects.get(k) or base.objects.get(k, ""),
            before[k],
            after[k],
            chain(base, head, k, after[k] - before[k]),
        )
        for k in ranked
        if abs(after[k] - before[k]) >= floor
    ]


@dataclasses.dataclass(frozen=True)
class CallChange:
    file: str
    line: int
    function: str
    base: float  # calls per batch
    head: float
    callers: list[tuple[str, float]]  # "file:line function" -> change in its calls per batch

    @property
    def change(self) -> float:
        return self.head - self.base

    @property
    def own(self) -> bool:
        """RadiObject's function, or one RadiObject's code calls more or less often."""
        return self.file.startswith(OWN) or any(c.startswith(OWN) for c, _ in self.callers)


def call_changes(base: Profile, head: Profile, top: int = TOP) -> list[CallChange]:
    """Python functions whose calls per batch changed, RadiObject's first, then by change."""
    found = []
    for key in set(base.calls) | set(head.calls):
        was, now = base.calls.get(key, {}), head.calls.get(key, {})
        before, after = was.get("calls", 0) / base.batches, now.get("calls", 0) / head.batches
        if before == after:
            continue
        was_by, now_by = was.get("callers", {}), now.get("callers", {})
        by = {}
        for caller in set(was_by) | set(now_by):
            moved = now_by.get(caller, 0) / head.batches - was_by.get(caller, 0) / base.batches
            if moved:
                line = (head.calls.get(caller) or base.calls.get(caller) or {}).get("line", 0)
                by[f"{caller[0]}:{line} {caller[1]}"] = moved
        callers = sorted(by.items(), key=lambda c: (not c[0].startswith(OWN), -abs(c[1]), c[0]))
        found.append(CallChange(key[0], (now or was)["line"], key[1], before, after, callers))
    found.sort(key=lambda c: (not c.own, -abs(c.change), c.file, c.function))
    return found[:top]


def _count(value: float, sign: bool = False) -> str:
    """An instruction or call count per batch, as a reader takes it in."""
    text = f"{value:+,.0f}" if sign else f"{value:,.0f}"
    if value and abs(value) < 10 and value != round(value):
        text = f"{value:+.2f}" if sign else f"{value:.2f}"
    return text


def _cell(text: str, limit: int = 90, tail: bool = False) -> str:
    """Table-safe code text (C++ names run long and may hold `|`), cut to `limit` characters:
    at the end, or at the start with `tail` (a path's end says most)."""
    if len(text) > limit:
        text = "…" + text[1 - limit :] if tail else text[: limit - 1] + "…"
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def _c_function(change: Change) -> str:
    """The function's name, then its source file where the library has debug information, and
    the library."""
    file = change.function.partition(":")[0]
    where = [Path(file).name] if file not in ("", "???") else []
    where += [Path(change.obj).name] if change.obj else []
    name = _cell(short_name(change.function))
    return f"{name} ({', '.join(where)})" if where else name


def markdown(root: Path, base: str, head: str, framework: str = "radiobject") -> str:
    """The verdict's "where the instructions went" section, from the profiles kept under
    `root` for `base` and `head`; says what is missing instead when it cannot."""
    lines = ["", "### Where the instructions went", ""]
    folders = {commit: kept(root, commit) for commit in (base, head)}
    missing = [c for c, folder in folders.items() if folder is None]
    if missing:
        listed = ", ".join(f"`{c}`" for c in missing)
        return "\n".join(
            lines
            + [
                f"No profile of {listed} under `{root}`: `asv continuous` keeps them with "
                "RADIBENCH_PROFILES set to that folder (needs valgrind).",
            ]
        )
    before = Profile.load(folders[base], framework)
    after = Profile.load(folders[head], framework)
    lines += [
        "Functions whose instructions per batch changed most, head minus base (callgrind: "
        "self instructions, spent in the function itself; *reached through*: the callers whose "
        "calls to it changed most, up to the C function Python called).",
        "",
        "| function | base | head | change | reached through |",
        "|---|---|---|---|---|",
    ]
    for c in instruction_changes(before, after):
        through = " < ".join(_cell(f) for f in c.through)
        lines.append(
            f"| {_c_function(c)} | {_count(c.base)} | {_count(c.head)} | "
            f"{_count(c.change, True)} | {through} |"
        )
    lines += [
        "",
        "Python calls per batch that changed (cProfile, the same loader's next batches), "
        "RadiObject's first:",
        "",
        "| function | base | head | change | called from (change) |",
        "|---|---|---|---|---|",
    ]
    for c in call_changes(before, after):
        name = c.function if c.file == "~" else f"{c.file}:{c.line} {c.function}"
        callers = ", ".join(
            f"{_cell(n, 70, tail=True)} ({_count(m, True)})" for n, m in c.callers[:3]
        )
        lines.append(
            f"| {_cell(name, tail=True)} | {_count(c.base)} | {_count(c.head)} | "
            f"{_count(c.change, True)} | {callers} |"
        )
    return "\n".join(lines)


ARRAY_COLUMNS = ("GET", "HEAD", "LIST", "other", "bytes")  # counters.s3_requests' per array


def array_changes(base: dict, head: dict) -> list[tuple[str, dict, dict]]:
    """(array, base, head) for each array whose S3 requests or bytes per batch changed (from
    counters.s3_requests' "arrays"), the largest change in requests first."""
    found = []
    for array in sorted(set(base) | set(head)):
        was = {c: base.get(array, {}).get(c, 0) for c in ARRAY_COLUMNS}
        now = {c: head.get(array, {}).get(c, 0) for c in ARRAY_COLUMNS}
        if was != now:
            found.append((array, was, now))
    moved = {a: sum(abs(now[c] - was[c]) for c in ARRAY_COLUMNS[:-1]) for a, was, now in found}
    return sorted(found, key=lambda f: (-moved[f[0]], -abs(f[2]["bytes"] - f[1]["bytes"])))


def _moved(before: float, after: float) -> str:
    return _count(after) if before == after else f"{_count(before)} → {_count(after)}"


def arrays_markdown(root: Path, base: str, head: str, framework: str = "radiobject") -> str:
    """The verdict's "which arrays" section, from the S3 requests kept under `root` for `base`
    and `head`; says what is missing instead when it cannot."""
    lines = ["", "### Which arrays", ""]
    files = {
        c: (kept(root, c) or root / c) / REQUESTS.format(framework=framework) for c in (base, head)
    }
    missing = [c for c, file in files.items() if not file.is_file()]
    if missing:
        listed = ", ".join(f"`{c}`" for c in missing)
        return "\n".join(
            lines
            + [
                f"No S3 request counts of {listed} under `{root}`: counts.S3PerBatch keeps "
                "them when `asv continuous` runs it with RADIBENCH_PROFILES set to that folder "
                "(it needs the S3 server's weed binary).",
            ]
        )
    before, after = (json.loads(files[c].read_text())["arrays"] for c in (base, head))
    lines += [
        "TileDB counts bytes, tiles and array opens per process, not per array. The same "
        "loader reading through the local S3 server's counting proxy (counts.S3PerBatch) splits "
        "its requests and response bytes per batch by array (a collection's volume arrays "
        "together, as `<n>`); the arrays that changed, base → head:",
        "",
    ]
    changed = array_changes(before, after)
    if not changed:
        return "\n".join(lines + ["No array's S3 requests or bytes changed."])
    lines += ["| array | " + " | ".join(ARRAY_COLUMNS) + " |", "|---" * 6 + "|"]
    for array, was, now in changed:
        cells = " | ".join(_moved(was[c], now[c]) for c in ARRAY_COLUMNS)
        lines.append(f"| {_cell(array, tail=True)} | {cells} |")
    return "\n".join(lines)
