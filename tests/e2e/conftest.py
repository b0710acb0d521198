"""Playwright fixtures for the end-to-end browser tests: real headless Chromium, sync API.

- ``browser`` (module scope): Debian's Chromium (``chromium_path``), launched headless. Never
  ``playwright install``: the wheel ships Playwright's driver, the browser comes from Debian.
- ``page`` (per test): a page in a fresh browser context (own cookies and storage); on failure a
  screenshot is saved to ``test-artifacts/screenshots/``.
- ``screenshot_dir``: that folder (created; git-ignored), for screenshots a test takes itself.

Why module scope, not session: while Playwright's sync API is started it keeps its asyncio loop
marked as running in this thread, so ``asyncio.run`` (and anything built on it) fails in every
later test of the same xdist worker. Module scope stops it when the worker leaves the module;
a launch costs about a second. Do not use these fixtures from ``async def`` tests.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "test-artifacts" / "screenshots"

# Debian's chromium as root in a container, headless: no sandbox (it needs user namespaces), no
# GPU, and nothing that phones home (no network but the test server's is reachable in CI).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Fail fast: a missing element fails the test in 10 s, not Playwright's default 30 s.
DEFAULT_TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """``test-artifacts/screenshots/`` at the repository root (created; an artifact folder)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Playwright's sync API, started for one test module (see the module docstring)."""
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser(chromium_path: Path, playwright: Playwright) -> Iterator[Browser]:
    """Headless Chromium from ``chromium_path``, shared by the tests of one module."""
    browser = playwright.chromium.launch(
        executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield browser
    finally:
        browser.close()


_CALL_REPORT = pytest.StashKey[pytest.TestReport]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep the call phase's report on the item, for the ``page`` fixture's failure screenshot."""
    del call
    report = yield
    if report.when == "call":
        item.stash[_CALL_REPORT] = report
    return report


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a new browser context; screenshotted into ``screenshot_dir`` if the test fails."""
    context = browser.new_context()
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        page = context.new_page()
        yield page
        report = request.node.stash.get(_CALL_REPORT, None)
        if report is not None and report.failed and not page.is_closed():
            SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
            page.screenshot(path=SCREENSHOT_DIR / f"FAILED-{name}.png", full_page=True)
    finally:
        context.close()
