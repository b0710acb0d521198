"""No dead names: vulture finds no unused function, class, variable, attribute or property in src, tests
or benchmarks. What only a framework, a template or a data file uses is listed, with the reason, under
``[tool.vulture]`` in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_no_dead_names() -> None:
    found = subprocess.run(
        [sys.executable, "-m", "vulture"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert found.returncode == 0, (
        f"dead names (remove them, or list a false positive):\n{found.stdout}{found.stderr}"
    )
