"""Dependencies point one way: knowledge → model → engine → plan/check → store → service/CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "benzokit"
# what each layer may not import (the layers above it)
FORBIDDEN = {
    "drugs": ("store", "service", "cli", "monitor"),
    "regimen": ("store", "service", "cli", "monitor"),
    "pk": ("store", "service", "cli", "monitor"),
    "pd": ("store", "service", "cli", "monitor"),
    "sim": ("store", "service", "cli", "monitor"),
    "plan": ("store", "service", "cli", "monitor"),
    "safety": ("store", "service", "cli", "monitor"),
    "interop": ("store", "service", "cli"),
    "monitor": ("store", "service", "cli"),
    "store": ("service", "cli"),
    "service": ("cli",),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(layer: str) -> None:
    offending = {
        f"{path.relative_to(SRC)} imports {name}"
        for path in (SRC / layer).rglob("*.py")
        for name in imported_modules(path)
        if any(
            name == f"benzokit.{up}" or name.startswith(f"benzokit.{up}.")
            for up in FORBIDDEN[layer]
        )
    }
    assert not offending, sorted(offending)
