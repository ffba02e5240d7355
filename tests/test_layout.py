"""The package layout keeps its promises: rooms whose imports point one way, no import circle,
no private name used across modules, thin benchmark modules (docs/contributing.md, "Layout")."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What each room of radibench/ may import besides itself (and the package root's REPO_ROOT).
# benchmarks -> prepare -> measure, frameworks, suite -> data, storage; tools read results.
ALLOWED = {
    "atomic": set(),
    "data": set(),
    "storage": set(),
    "frameworks": set(),
    # what asv publish shows is read through tools' model; what the gate judges, from suite
    "asv_plugins": {"atomic", "suite", "tools"},
    "suite": {"data"},
    "measure": {"frameworks", "data"},  # the runner times making a recipe's files from DICOM
    "prepare": {"suite", "data", "frameworks", "measure", "storage"},
    "tools": {"atomic", "suite", "data", "frameworks", "measure", "storage"},  # studies measure too
    "cli": {"data", "frameworks", "tools", "asv_plugins"},
}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / "radibench").rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


MODULES = modules()


def imports(name: str) -> list[tuple[str, list[str]]]:
    """(imported module, names taken from it) for every import in the module, also those inside
    functions, resolved to modules of this repository where they are ones."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append((sub, []) if sub in MODULES else (base, [alias.name]))
    return [
        (target, names)
        for target, names in found
        if target.split(".")[0] in ("radibench", "benchmarks")
    ]


def room(name: str) -> str:
    parts = name.split(".")
    return parts[0] if parts[0] == "benchmarks" else (parts[1] if len(parts) > 1 else "")


def test_no_import_circle():
    graph = {m: {t for t, _ in imports(m) if t in MODULES and t != m} for m in MODULES}
    state: dict[str, int] = {}

    def visit(node, stack):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if name_is_ancestor(nxt, node):
                continue  # a package's __init__ seen from inside it
            if state.get(nxt) == 1:
                pytest.fail("import circle: " + " -> ".join(stack[stack.index(nxt) :] + [nxt]))
            if not state.get(nxt):
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for module in graph:
        if not state.get(module):
            visit(module, [module])


def name_is_ancestor(package: str, module: str) -> bool:
    return module.startswith(package + ".")


@pytest.mark.parametrize("name", [m for m in MODULES if m.startswith("radibench.")])
def test_rooms_import_only_downward(name):
    here = room(name)
    for target, _ in imports(name):
        there = room(target)
        if target == "radibench" or there == here or target.startswith("benchmarks"):
            assert not target.startswith("benchmarks"), f"{name} imports the suite ({target})"
            continue
        assert there in ALLOWED.get(here, set()), f"{name} ({here}) imports {target} ({there})"


@pytest.mark.parametrize("name", list(MODULES))
def test_no_private_name_crosses_a_module(name):
    tree = ast.parse(MODULES[name].read_text())
    aliases = {}
    for target, names in imports(name):
        private = [n for n in names if n.startswith("_") and n != "__version__"]
        assert not private, f"{name} imports private {private} from {target}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                aliases[alias.asname or alias.name.split(".")[-1]] = alias.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            pytest.fail(f"{name} uses {node.value.id}.{node.attr}, private to another module")


@pytest.mark.parametrize("path", sorted((ROOT / "benchmarks").glob("*.py")), ids=lambda p: p.name)
def test_benchmark_modules_stay_thin(path):
    lines = len(path.read_text().splitlines())
    assert lines <= 160, f"{path.name}: {lines} lines; move the logic into radibench/"


def test_the_graph_sees_function_level_imports():
    """The circle test must see imports inside functions (where circles used to hide)."""
    targets = {t for t, _ in imports("radibench.prepare.partial_reads")}
    assert "radibench.frameworks.monai" in targets
