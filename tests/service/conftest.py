"""Fixtures of the service tests: a fresh seeded clinic per test on SQLite in ``tmp_path``, and its
fixed clock (helpers and the clinic's contents: ``service_support.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from service_support import Clock, World, build_world, make_template


@pytest.fixture(scope="session")
def clinic_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded clinic database, made once per test process and copied for each test."""
    return make_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(tmp_path: Path, clock: Clock, clinic_template: Path) -> Iterator[World]:
    """A fresh clinic for one test (the clock is the ``clock`` fixture: move it to move time)."""
    built = build_world(tmp_path / "clinic.db", clock, template=clinic_template)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture(scope="module")
def module_world(
    tmp_path_factory: pytest.TempPathFactory, clinic_template: Path
) -> Iterator[World]:
    """One clinic shared by the tests of a module (its own clock at ``T0``); for tests that either
    only read or tolerate the changes the module's other tests make. Its sessions are shared by the
    module's tests, some of which move the clock by hours: they do not go idle (12 h, idle or not)."""
    folder = tmp_path_factory.mktemp("clinic")
    built = build_world(
        folder / "clinic.db",
        Clock(),
        template=clinic_template,
        session_lifetime=timedelta(hours=12),
        session_idle=timedelta(hours=12),
    )
    try:
        yield built
    finally:
        built.close()
