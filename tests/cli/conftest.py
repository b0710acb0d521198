"""Fixtures for the CLI tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import BENZOKIT, Outcome, run_benzokit


@pytest.fixture(scope="session")
def benzokit_exe() -> Path:
    """The installed console script; the end-to-end tests need it."""
    if not BENZOKIT.is_file():
        pytest.fail(f"console script not installed at {BENZOKIT}; run `pip install -e .`")
    return BENZOKIT


@pytest.fixture
def run_cli(benzokit_exe: Path, tmp_path: Path) -> Callable[..., Outcome]:
    """``run_cli(*args)``: the console script, run in ``tmp_path``."""
    del benzokit_exe

    def run(*args: str, columns: int = 100) -> Outcome:
        return run_benzokit(args, tmp_path, columns)

    return run
