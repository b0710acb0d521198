"""Fixtures of the service tests: a fresh seeded clinic per test on SQLite in ``tmp_path``, and its
fixed clock (helpers and the clinic's contents: ``service_support.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from service_support import Clock, World, build_world


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(tmp_path: Path, clock: Clock) -> Iterator[World]:
    """A fresh clinic for one test (the clock is the ``clock`` fixture: move it to move time)."""
    built = build_world(tmp_path / "clinic.db", clock)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture(scope="module")
def module_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One clinic shared by the tests of a module (its own clock at ``T0``); for tests that either
    only read or tolerate the changes the module's other tests make."""
    built = build_world(tmp_path_factory.mktemp("clinic") / "clinic.db", Clock())
    try:
        yield built
    finally:
        built.close()
