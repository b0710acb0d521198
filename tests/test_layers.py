"""The dependency graph is one-way, and this test is where it is written down.

Every module of ``src/benzokit`` belongs to a layer; a module may import modules of its own layer and of
the layers below, never above. Imports inside functions count like any other (a function-level import is
still a dependency; hiding one there is how cycles used to creep in), and so does every import of a
``benzokit`` module whatever its spelling (``from benzokit.plan import taper`` names the module
``benzokit.plan.taper``). On top of the layering: no import cycle between modules, and none between the
units the layers are made of (packages, with the trial runner a unit of its own).

The layers, bottom to top (``docs/architecture.md`` says why each unit sits where it does):
- core: errors, units, shared types, the knowledge base object, file writing, the disclaimer, the patient
- model: the drug facts, regimens, PK, PD (what is simulated)
- engine: single-subject solvers, the population kernel, its dispatchers (how it is computed)
- decide: planning and safety checking
- app: the trial runner and its store, strategy comparison, monitoring logic (use of the above)
- adapters, in their own order: exports and plots, the check of a whole knowledge base (it loads the
  files of every layer, exports included), the database store, the web service, the CLI, and last the
  public API of ``import benzokit``
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src"
PACKAGE = SRC / "benzokit"

# Bottom to top. A unit is a module or package prefix; the longest matching prefix decides.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "core",
        (
            "benzokit.errors",
            "benzokit.units",
            "benzokit.types",
            "benzokit.knowledge",
            "benzokit.files",
            "benzokit._disclaimer",
            "benzokit._version",
            "benzokit.patient",
        ),
    ),
    ("model", ("benzokit.drugs", "benzokit.regimen", "benzokit.pk", "benzokit.pd")),
    ("engine", ("benzokit.sim",)),
    ("decide", ("benzokit.plan", "benzokit.safety")),
    (
        "app",
        ("benzokit.sim.trial", "benzokit.monitor", "benzokit.compare"),
    ),
    ("exports", ("benzokit.interop", "benzokit.viz")),
    ("whole knowledge base", ("benzokit.knowledge_check",)),
    ("store", ("benzokit.store",)),
    ("service", ("benzokit.service",)),
    ("cli", ("benzokit.cli",)),
    ("public api", ("benzokit",)),
)
RANK = {unit: rank for rank, (_, units) in enumerate(LAYERS) for unit in units}
LAYER_NAME = {unit: name for name, units in LAYERS for unit in units}

# Only the CLI defers imports into functions, for start-up time (a command imports the heavy parts it
# needs - the trial engine, matplotlib, the web service - when it runs). Such imports still obey the layers.
DEFERRED_IMPORTS_ALLOWED_IN = ("benzokit.cli",)


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def all_modules() -> frozenset[str]:
    return frozenset(module_name(p) for p in PACKAGE.rglob("*.py"))


def unit_of(module: str) -> str:
    """The longest layer unit that ``module`` is, or is inside."""
    candidates = [u for u in RANK if module == u or module.startswith(u + ".")]
    return max(candidates, key=len)


def _resolve(name: str) -> str | None:
    """The benzokit module a dotted import name refers to (a module, or the module defining a name)."""
    while name:
        if name in all_modules():
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(path: Path) -> Iterator[tuple[str, int, bool]]:
    """(imported benzokit module, line, inside a function) for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            inside.update(id(child) for child in ast.walk(node) if child is not node)
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            if name == "benzokit" or name.startswith("benzokit."):
                target = _resolve(name)
                if target is not None:
                    yield target, node.lineno, id(node) in inside


@cache
def import_graph() -> dict[str, tuple[tuple[str, int, bool], ...]]:
    return {module_name(p): tuple(imports_of(p)) for p in sorted(PACKAGE.rglob("*.py"))}


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in edges.get(node, ()):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _is_package_init(module: str) -> bool:
    return (PACKAGE.parent / module.replace(".", "/") / "__init__.py").exists()


def test_every_module_is_in_a_layer() -> None:
    assert all(unit_of(m) != "benzokit" or m == "benzokit" for m in all_modules()), sorted(
        m for m in all_modules() if unit_of(m) == "benzokit" and m != "benzokit"
    )


def test_no_module_imports_a_layer_above_its_own() -> None:
    offending = [
        f"{module}:{line} imports {target} ({LAYER_NAME[unit_of(module)]} -> "
        f"{LAYER_NAME[unit_of(target)]})"
        for module, imports in import_graph().items()
        for target, line, _ in imports
        if RANK[unit_of(target)] > RANK[unit_of(module)]
    ]
    assert not offending, "\n".join(offending)


def test_no_import_cycle_between_modules() -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for module, imports in import_graph().items():
        for target, _, _ in imports:
            # a package's __init__ re-exporting its own modules is not a cycle of the package
            if target != module and not (
                _is_package_init(module) and target.startswith(module + ".")
            ):
                edges[module].add(target)
    assert not _cycles(edges), _cycles(edges)


def test_no_import_cycle_between_units() -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for module, imports in import_graph().items():
        for target, _, _ in imports:
            if unit_of(target) != unit_of(module):
                edges[unit_of(module)].add(unit_of(target))
    assert not _cycles(edges), _cycles(edges)


def test_only_the_cli_imports_inside_functions() -> None:
    hidden = sorted(
        {
            f"{module}:{line} imports {target}"
            for module, imports in import_graph().items()
            for target, line, inside in imports
            if inside and unit_of(module) not in DEFERRED_IMPORTS_ALLOWED_IN
        }
    )
    assert not hidden, "\n".join(hidden)


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("benzokit.sim.trial.runner", "app"),
        ("benzokit.sim.population.kernel", "engine"),
        ("benzokit.plan.taper", "decide"),
        ("benzokit.knowledge", "core"),
        ("benzokit", "public api"),
    ],
)
def test_units_are_assigned_to_the_layers_the_docstring_names(module: str, expected: str) -> None:
    assert LAYER_NAME[unit_of(module)] == expected
