"""Shared fixtures, markers and hypothesis profiles.

Real services, never mocks, for the tests that need them:

- ``postgres_url`` / ``fresh_postgres_url``: a PostgreSQL server named by
  ``BENZOKIT_TEST_POSTGRES_URL`` (``source .ci/services.sh; start_postgres`` starts a throwaway one).
- ``chromium_path``: Debian's Chromium (``BENZOKIT_CHROMIUM``, else ``/usr/bin/chromium``); the
  Playwright fixtures built on it (``browser``, ``page``) are in ``tests/e2e/conftest.py``.

When a service is not configured, its tests are skipped on a developer's machine and fail under CI
(``CI`` set), so that CI never passes by skipping them. Tests using these fixtures are marked
``postgres`` / ``browser`` automatically (``-m "not browser"`` deselects them).

Tiers (markers registered in pyproject.toml): tests under ``tests/cli``, ``tests/service`` and
``tests/e2e`` go through a whole entry point and are marked ``e2e``; ``tests/sim/test_trial_dask.py`` is
marked ``dask``; long tests are marked ``slow`` where they are written. ``make test-fast`` runs the rest
(the pure unit tests); ``make test`` runs everything.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy.engine import make_url

# Build matplotlib's font cache once, before any test (and any CLI subprocess, which inherits the
# variable): on a fresh machine the first import logs "building the font cache" to stderr.
os.environ.setdefault("MPLCONFIGDIR", str(Path(tempfile.gettempdir()) / "benzokit-test-mplconfig"))
import matplotlib.font_manager  # noqa: F401

# CI draws the same examples on every run (a red run names a reproducible case, never a coin toss);
# developers' runs draw new ones each time, so the search goes on where it is cheap to look.
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

POSTGRES_URL_VAR = "BENZOKIT_TEST_POSTGRES_URL"
CHROMIUM_VAR = "BENZOKIT_CHROMIUM"
DEFAULT_CHROMIUM = Path("/usr/bin/chromium")

TESTS = Path(__file__).parent
# Markers for the tests that need a real service: marker -> the fixture that provides the service.
_SERVICE_MARKERS = {"postgres": "postgres_url", "browser": "chromium_path"}
# Markers by place: a folder (or file) of tests/ -> its marker.
_PLACE_MARKERS = {
    "cli": "e2e",
    "service": "e2e",
    "e2e": "e2e",
    "sim/test_trial_dask.py": "dask",
    "test_readme_commands.py": "e2e",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test by its place, and by the service fixtures it uses (directly or not)."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        for marker, fixture in _SERVICE_MARKERS.items():
            if fixture in names:
                item.add_marker(marker)
        for marker in _place_markers(item.path):
            item.add_marker(marker)


def _place_markers(path: Path) -> set[str]:
    try:
        parts = path.relative_to(TESTS).parts
    except ValueError:
        return set()
    places = {"/".join(parts[: n + 1]) for n in range(len(parts))}
    return {marker for place, marker in _PLACE_MARKERS.items() if place in places}


def in_ci() -> bool:
    """True under CI (``CI`` set to anything but empty, ``0``, ``false`` or ``no``)."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def service_missing(message: str) -> NoReturn:
    """Skip the test on a developer's machine; fail it under CI, which must never skip silently."""
    if in_ci():
        pytest.fail(f"{message} (CI must run these tests, not skip them)", pytrace=False)
    pytest.skip(message)


# --- PostgreSQL ---------------------------------------------------------------------------------


def libpq_url(url: str) -> str:
    """The libpq form of a SQLAlchemy URL (``postgresql+psycopg://`` → ``postgresql://``)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """SQLAlchemy URL of the shared test database (``BENZOKIT_TEST_POSTGRES_URL``).

    Its role may create databases. Tests that need an empty database use ``fresh_postgres_url``;
    tests using this one share it with the other tests and xdist workers, so must clean up.
    """
    url = os.environ.get(POSTGRES_URL_VAR, "").strip()
    if not url:
        service_missing(f"PostgreSQL not configured: set {POSTGRES_URL_VAR} (see .ci/services.sh)")
    import psycopg

    try:
        with psycopg.connect(libpq_url(url), connect_timeout=10) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        # Configured but unreachable: a broken setup, never a reason to skip.
        pytest.fail(f"cannot connect to {POSTGRES_URL_VAR}={url}: {exc}", pytrace=False)
    return url


@pytest.fixture
def fresh_postgres_url(postgres_url: str) -> Iterator[str]:
    """SQLAlchemy URL of a new, empty database, created for this test and dropped after it."""
    import psycopg
    from psycopg import sql

    # Unique across xdist workers (and across runs sharing a server); at most 63 characters.
    worker = re.sub(r"[^a-z0-9]", "", os.environ.get("PYTEST_XDIST_WORKER", "main").lower())
    name = f"benzokit_t_{worker[:16]}_{uuid.uuid4().hex[:16]}"
    admin = libpq_url(postgres_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            # A connection the test left open (an engine not disposed) would block the drop.
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            force = sql.SQL(" WITH (FORCE)") if conn.info.server_version >= 130000 else sql.SQL("")
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {}{}").format(sql.Identifier(name), force)
            )


# --- Chromium -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """The Chromium executable for Playwright: ``BENZOKIT_CHROMIUM``, else ``/usr/bin/chromium``.

    Playwright's own browser downloads are never used (``playwright install`` cannot reach its
    servers here); Debian's ``chromium`` package is installed by ``.ci/run``.
    """
    configured = os.environ.get(CHROMIUM_VAR, "").strip()
    if configured:
        path = Path(configured)
        if not (path.is_file() and os.access(path, os.X_OK)):
            # Named but not there: a broken setup, never a reason to skip.
            found = shutil.which(configured)
            if found is None:
                pytest.fail(f"{CHROMIUM_VAR}={configured} is not an executable", pytrace=False)
            path = Path(found)
        return path
    if DEFAULT_CHROMIUM.is_file() and os.access(DEFAULT_CHROMIUM, os.X_OK):
        return DEFAULT_CHROMIUM
    service_missing(
        f"Chromium not found: install Debian's chromium or set {CHROMIUM_VAR} to its executable"
    )
