"""The monitoring service end to end, in real headless Chromium, on SQLite and on PostgreSQL.

The real console script (``benzokit serve --demo``) runs in a subprocess on a free loopback port.
A patient confirms a dose and completes a check-in whose PHQ-9 item 9 is not "Not at all": the
crisis lines are shown at once. The clinician sees the urgent alert in the patient list and on the
patient's page and pauses the taper; the patient then sees the paused plan.

Every control is found by its role and accessible name or by its label, so the test also checks
that the forms can be used without seeing them. Screenshots of the main pages go to
``screenshot_dir`` (``<backend>-NN-<page>.png``); the phone pages must not scroll sideways.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from benzokit.service.demo import DEMO_LOGINS

BENZOKIT = Path(sys.executable).parent / "benzokit"
STARTUP_TIMEOUT_S = 45.0
DEFAULT_TIMEOUT_MS = 10_000
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PASSWORDS = {login.username: login.password for login in DEMO_LOGINS}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MIN_SCREENSHOT_BYTES = 8_000  # a blank page of this size is a few hundred bytes

PHQ9_ITEM9 = re.compile(r"^9\. Thoughts that you would be better off dead")


# ----------------------------------------------------------------------------- the server


@dataclass(frozen=True, slots=True)
class LiveServer:
    backend: str
    url: str  # without the trailing slash
    process: subprocess.Popen[bytes]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_serving(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Poll the sign-in page until it answers 200; fail (with the server's output) otherwise."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"benzokit serve exited with {process.returncode}:\n{log.read_text()}",
                pytrace=False,
            )
        try:
            if httpx.get(f"{url}/login", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling for readiness, not a sleep standing in for an assertion
    pytest.fail(f"benzokit serve not ready in {STARTUP_TIMEOUT_S} s:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def evening_zone() -> str:
    """A fixed-offset zone where it is now 21:00-21:59, so that both of the demo's daily doses
    (08:00, 20:00) have come: a dose still ahead cannot be recorded, whatever hour the tests run."""
    hour = datetime.now(UTC).hour
    offset = (21 - hour) % 24
    if offset > 14:
        offset -= 24
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # POSIX sign: GMT-3 is UTC+3


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """``benzokit serve --demo`` on a new database of the given backend."""
    backend: str = request.param
    if backend == "sqlite":
        database = f"sqlite:///{tmp_path / 'clinic.db'}"
    else:
        database = request.getfixturevalue("fresh_postgres_url")
    port = free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "COLUMNS": "200", "MPLBACKEND": "Agg"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                *(str(BENZOKIT), "serve", "--port", str(port), "--database", database, "--demo"),
                *("--timezone", evening_zone()),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
            env=env,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(process, url, log)
        yield LiveServer(backend, url, process)
    finally:
        stop(process)
    # Nothing unexpected on the server's side: no tracebacks, no 500s.
    output = log.read_text()
    assert "Traceback" not in output, output
    assert "Internal Server Error" not in output, output


# ----------------------------------------------------------------------------- browser helpers


@contextmanager
def browser_context(
    browser: Browser, viewport: ViewportSize, failure_shot: Path
) -> Iterator[BrowserContext]:
    """A fresh context (own cookies); its open pages are screenshotted if the block raises."""
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context
    except BaseException:
        for index, open_page in enumerate(context.pages):
            if not open_page.is_closed():
                open_page.screenshot(path=failure_shot.with_suffix(f".{index}.png"), full_page=True)
        raise
    finally:
        context.close()


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_MAGIC, f"{path} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def shoot(page: Page, path: Path) -> Path:
    page.screenshot(path=path, full_page=True)
    return path


def assert_fits_phone(page: Page) -> None:
    """Nothing on a phone page is wider than the screen (no sideways scrolling)."""
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"], f"{page.url} is {scroll_width} px wide on a phone"


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORDS[username])
    page.get_by_role("button", name="Sign in").click()


def answer(page: Page, scale: str, item: str | re.Pattern[str], option: str) -> None:
    """Tick ``option`` for the item whose question (fieldset legend) is ``item``."""
    region = page.get_by_role("region", name=re.compile(rf"^{re.escape(scale)}\b"))
    group = region.get_by_role("group", name=item)
    expect(group).to_have_count(1)
    group.get_by_label(option, exact=True).check()


def answer_all(page: Page, scale: str, option: str) -> None:
    region = page.get_by_role("region", name=re.compile(rf"^{re.escape(scale)}\b"))
    groups = region.get_by_role("group")
    count = groups.count()
    assert count > 0, f"no questions found for {scale}"
    for index in range(count):
        groups.nth(index).get_by_label(option, exact=True).check()


# ----------------------------------------------------------------------------- the flow


def test_patient_alert_reaches_clinician_who_pauses(
    browser: Browser, server: LiveServer, screenshot_dir: Path
) -> None:
    base, name = server.url, server.backend
    shots: list[Path] = []
    failure = screenshot_dir / f"FAILED-{name}-monitor-flow"

    # --- the patient: sign in, confirm a dose, check in with an urgent answer -------------------
    with browser_context(browser, PHONE, failure.with_name(failure.name + "-patient")) as patient:
        page = patient.new_page()
        page.goto(f"{base}/")
        expect(page).to_have_url(f"{base}/login")
        expect(page.get_by_label("Username")).to_be_visible()
        shots.append(shoot(page, screenshot_dir / f"{name}-01-login.png"))
        assert_fits_phone(page)

        sign_in(page, base, "alex")
        expect(page).to_have_url(f"{base}/me")
        expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Today, "))
        doses = page.get_by_role("list").filter(
            has=page.get_by_role("heading", name=re.compile(r"\d\d:\d\d · .* mg"))
        )
        first = doses.get_by_role("listitem").first
        first_title = first.get_by_role("heading").inner_text()
        expect(first.get_by_text("Recorded:")).to_have_count(0)
        first.get_by_role("button", name="Taken", exact=True).click()
        expect(page).to_have_url(f"{base}/me?done=dose")
        expect(page.get_by_role("status").filter(has_text="Saved")).to_have_text(
            "Saved: your dose is recorded."
        )
        dose = page.get_by_role("listitem").filter(
            has=page.get_by_role("heading", name=first_title, exact=True)
        )
        expect(dose.get_by_role("status")).to_contain_text("Recorded: taken")
        shots.append(shoot(page, screenshot_dir / f"{name}-02-patient-today.png"))
        assert_fits_phone(page)

        page.get_by_role("navigation", name="Main").get_by_role(
            "link", name="Check in", exact=True
        ).click()
        expect(page).to_have_url(f"{base}/me/checkin")
        expect(page.get_by_role("heading", name="Check in", level=1)).to_be_visible()
        answer_all(page, "GAD-7", "Several days")
        answer_all(page, "PHQ-9", "Not at all")
        answer_all(page, "Withdrawal checklist", "A little")
        answer(page, "PHQ-9", PHQ9_ITEM9, "Several days")
        page.get_by_label("Seizures since your last check-in").fill("0")
        page.get_by_label("Hours of sleep last night").fill("5.5")
        page.get_by_label("How well did you sleep?").select_option(label="poorly")
        page.get_by_label("Anything else you want your clinician to know").fill(
            "A hard week; end-to-end test."
        )
        shots.append(shoot(page, screenshot_dir / f"{name}-03-checkin.png"))
        assert_fits_phone(page)
        page.get_by_role("button", name="Save check-in").click()

        # The crisis guidance comes at once, on the page the check-in returns.
        expect(page).to_have_url(f"{base}/me/checkin")
        crisis = page.get_by_role("alert").filter(
            has=page.get_by_role("heading", name="Get help now")
        )
        expect(crisis).to_be_visible()
        expect(crisis).to_contain_text("988")
        expect(page.get_by_role("status")).to_have_text("Your check-in is saved.")
        shots.append(shoot(page, screenshot_dir / f"{name}-04-help.png"))
        assert_fits_phone(page)

        page.get_by_role("button", name=re.compile(r"^Sign out")).click()
        expect(page).to_have_url(f"{base}/login")

    # --- the clinician: the urgent alert, then pause the taper ----------------------------------
    with browser_context(browser, DESKTOP, failure.with_name(failure.name + "-clinician")) as desk:
        page = desk.new_page()
        sign_in(page, base, "dr.rivera")
        expect(page).to_have_url(f"{base}/clinic")
        table = page.get_by_role("table", name=re.compile(r"^Most urgent first"))
        rows = table.get_by_role("row")
        expect(rows).to_have_count(4)  # the header, Alex, Kai and Sam
        alex_row = rows.nth(1)  # most urgent first
        expect(alex_row.get_by_role("rowheader")).to_have_text("Alex Morgan")
        expect(alex_row).to_contain_text("urgent")
        expect(alex_row).to_contain_text("2 open")  # and the demo's rising GAD-7
        kai_row = rows.nth(2)  # a warning (the demo's rising checklist), the next step waiting
        expect(kai_row.get_by_role("rowheader")).to_have_text("Kai Turner")
        expect(kai_row).to_contain_text("next step waiting for you")
        expect(rows.nth(3).get_by_role("rowheader")).to_have_text("Sam Lee")
        expect(rows.nth(3)).not_to_contain_text("urgent")
        shots.append(shoot(page, screenshot_dir / f"{name}-05-clinic-list.png"))
        page.set_viewport_size(PHONE)  # a clinician on a phone: wide tables scroll by themselves
        assert_fits_phone(page)
        page.set_viewport_size(DESKTOP)

        alex_row.get_by_role("link", name="Alex Morgan").click()
        expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/clinic/patients/\d+$"))
        expect(page.locator("#course-status")).to_have_text("active")
        alerts = page.get_by_role("region", name="Alerts").get_by_role("listitem")
        urgent = alerts.filter(has_text=re.compile(r"urgent", re.IGNORECASE))
        expect(urgent).to_have_count(1)
        expect(urgent).to_contain_text("Alex Morgan")
        expect(urgent).to_contain_text("assess suicide risk")
        expect(urgent.get_by_role("button", name="Acknowledge")).to_be_visible()
        shots.append(shoot(page, screenshot_dir / f"{name}-06-clinic-patient.png"))
        page.set_viewport_size(PHONE)
        assert_fits_phone(page)
        page.set_viewport_size(DESKTOP)

        pause = page.get_by_role("form", name="Pause")
        pause.get_by_label("Reason").fill("PHQ-9 item 9 answered: review before the next cut")
        pause.get_by_role("button", name="Pause the taper").click()
        expect(page).to_have_url(re.compile(r"\?done=pause$"))
        expect(page.get_by_role("status")).to_contain_text("The taper is paused")
        expect(page.locator("#course-status")).to_have_text("paused")
        expect(page.get_by_role("form", name="Resume")).to_be_visible()
        expect(page.get_by_role("form", name="Pause")).to_have_count(0)
        shots.append(shoot(page, screenshot_dir / f"{name}-07-clinic-paused.png"))

    # --- the patient again: the paused plan -----------------------------------------------------
    with browser_context(browser, PHONE, failure.with_name(failure.name + "-paused")) as patient:
        page = patient.new_page()
        sign_in(page, base, "alex")
        expect(page).to_have_url(f"{base}/me")
        paused = page.get_by_role("status").filter(has_text="paused")
        expect(paused).to_contain_text("Your taper is paused.")
        # The dose confirmed before the pause is still recorded.
        dose = page.get_by_role("listitem").filter(
            has=page.get_by_role("heading", name=first_title, exact=True)
        )
        expect(dose.get_by_role("status")).to_contain_text("Recorded: taken")
        shots.append(shoot(page, screenshot_dir / f"{name}-08-patient-paused.png"))
        assert_fits_phone(page)

    for shot in shots:
        assert shot.is_file(), shot
        assert shot.stat().st_size > MIN_SCREENSHOT_BYTES, f"{shot} looks blank"
        width, height = png_size(shot)
        expected = DESKTOP["width"] if "-clinic-" in shot.name else PHONE["width"]
        assert width == expected, f"{shot}: {width} px wide, expected {expected}"
        assert height >= (PHONE if width == PHONE["width"] else DESKTOP)["height"], shot
