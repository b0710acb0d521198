"""Symptom-guided pacing end to end (issue 11), in real headless Chromium, on SQLite and PostgreSQL.

The administrator enrols Robin for Dr Rivera with the Maudsley symptom-guided policy on a guideline
taper that began 30 days ago (its first cut that day; the next step was planned for day 28). Robin's
check-in from before the first cut is on record (written to the database as history, like the demo's:
the catch-up window cannot reach a month back). Robin's Today page keeps the current dose and says the
next step is waiting for the clinician; Robin checks in with a higher withdrawal checklist. Dr Rivera
sees the policy's proposal (hold) with its reasons and the model's peak withdrawal index for each
choice, and accepts "hold" with one click; Robin's Today page then shows the held dose, and the audit
log has the acceptance. Screenshots at 390x844 and 1440x900; axe-core on the new and changed pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from axe import serious_violations
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect
from test_monitor_flow import (
    DEFAULT_TIMEOUT_MS,
    PHONE,
    LiveServer,
    answer_all,
    assert_fits_phone,
    server,
    shoot,
    sign_in,
)

from benzokit.monitor.records import CheckIn
from benzokit.monitor.scales import load_scales, score_scale
from benzokit.store import accounts, records
from benzokit.store.db import Database

__all__ = ["server"]  # the live-server fixture, on both backends

WIDE: ViewportSize = {"width": 1440, "height": 900}
ROBIN = ("robin", "robin-patient-pw")
DAYS_IN = 30
# Robin's answers: before the first cut two items "a little" (2/39); now every item (13/39)
BASELINE_ITEMS = ("sleep", "anxiety")


def database_url(request: pytest.FixtureRequest, server: LiveServer, tmp_path: Path) -> str:
    """The live server's database (the ``server`` fixture's choice for this test)."""
    if server.backend == "sqlite":
        return f"sqlite:///{tmp_path / 'clinic.db'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


def record_checkin_before_the_cut(url: str, first_cut: date) -> None:
    """Robin's check-in of two days before the first cut (noon UTC: before the cut in any zone),
    as history on record."""
    scales = load_scales()
    answers = {
        item.id: int(item.id in BASELINE_ITEMS) for item in scales.get("withdrawal_checklist").items
    }
    score = score_scale("withdrawal_checklist", answers, scales=scales)
    before = first_cut - timedelta(days=2)
    at = datetime(before.year, before.month, before.day, 12, tzinfo=UTC)
    database = Database(url)
    try:
        with database.transaction() as session:
            account = accounts.find_account(session, ROBIN[0])
            assert account is not None
            record = records.patient_of_user(session, account.id)
            assert record is not None
            records.add_checkin(
                session, record.id, CheckIn(recorded_at=at, scales=(score,)), client_token=None
            )
    finally:
        database.dispose()


@contextmanager
def browser_context(
    browser: Browser, viewport: ViewportSize, failure_shot: Path
) -> Iterator[BrowserContext]:
    """A fresh context (own cookies) where axe-core may run (the pages' CSP forbids scripts); its
    open pages are screenshotted if the block raises."""
    context = browser.new_context(viewport=viewport, bypass_csp=True)
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


def check(page: Page, where: str, problems: list[str]) -> None:
    for violation in serious_violations(page):
        problems.append(f"{where}: {violation}")


def both_sizes(page: Page, where: str, problems: list[str], shot: Path) -> list[Path]:
    """axe-core and a screenshot of the page at 1440x900 and at 390x844 (back to where it was)."""
    size = page.viewport_size
    shots = []
    for label, viewport in (("desktop", WIDE), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        check(page, f"{where} {label}", problems)
        shots.append(shoot(page, shot.with_name(f"{shot.stem}-{label}.png")))
        if viewport == PHONE:
            assert_fits_phone(page)
    if size is not None:
        page.set_viewport_size(size)
    return shots


def test_rising_scores_put_a_hold_in_front_of_the_clinician(
    browser: Browser,
    server: LiveServer,
    screenshot_dir: Path,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    base, name = server.url, server.backend
    failure = screenshot_dir / f"FAILED-{name}-pacing"
    problems: list[str] = []
    shots: list[Path] = []

    # --- the administrator enrols Robin for Dr Rivera with a symptom-guided policy ---------------
    with browser_context(browser, WIDE, failure.with_name(failure.name + "-admin")) as desk:
        page = desk.new_page()
        sign_in(page, base, "admin")
        enrol = page.get_by_role("form", name="Enrol a patient")
        enrol.get_by_label("Username", exact=True).fill(ROBIN[0])
        enrol.get_by_label("Name", exact=True).fill("Robin Vale")
        enrol.get_by_label("Password (10 characters or more)").fill(ROBIN[1])
        enrol.get_by_label("Clinician").select_option("dr.rivera")
        enrol.get_by_label("Indication").fill("panic")
        enrol.get_by_label("Current regimen").fill("1 mg bid")
        enrol.get_by_label("Pacing of each next step").select_option(
            label="Symptom-guided (Maudsley step 3)"
        )
        start = page.locator("#p-start").input_value()
        first_cut = date.fromisoformat(start) - timedelta(days=DAYS_IN)
        enrol.get_by_label("Taper starts").fill(first_cut.isoformat())
        shots += both_sizes(page, "admin enrol", problems, screenshot_dir / f"{name}-pace-01-enrol")
        enrol.get_by_role("button", name="Enrol patient").click()
        expect(page).to_have_url(re.compile(r"/admin\?done=patient$"))

    record_checkin_before_the_cut(database_url(request, server, tmp_path), first_cut)

    # --- Robin: the next step waits; a check-in with more withdrawal symptoms --------------------
    with browser_context(browser, PHONE, failure.with_name(failure.name + "-robin")) as phone:
        page = phone.new_page()
        page.goto(f"{base}/login")
        page.get_by_label("Username").fill(ROBIN[0])
        page.get_by_label("Password").fill(ROBIN[1])
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{base}/me")
        plan = page.locator("#today-plan")
        expect(plan).to_contain_text("Your next step is waiting for your clinician.")
        expect(plan).to_contain_text("Keep taking 1.875 mg clonazepam a day")
        expect(plan).not_to_contain_text("Your dose changes today")
        shown = sum(
            float(m) for m in re.findall(r"· ([0-9.]+) mg", page.locator("ul.doses").inner_text())
        )
        assert abs(shown - 1.875) < 1e-9  # the doses listed are the dose to take, not the next cut
        shots += both_sizes(
            page, "robin today waiting", problems, screenshot_dir / f"{name}-pace-02-today-waiting"
        )

        page.get_by_role("link", name="Check in", exact=True).first.click()
        answer_all(page, "GAD-7", "Not at all")
        answer_all(page, "PHQ-9", "Not at all")
        answer_all(page, "Withdrawal checklist", "A little")
        page.get_by_label("Seizures since your last check-in").fill("0")
        page.get_by_role("button", name="Save check-in").click()
        expect(page).to_have_url(f"{base}/me?done=checkin")
        expect(page.locator("#today-plan")).to_contain_text("waiting for your clinician")

    # --- Dr Rivera: the proposal, its reasons and the model; accept "hold" -----------------------
    with browser_context(browser, WIDE, failure.with_name(failure.name + "-clinician")) as desk:
        page = desk.new_page()
        sign_in(page, base, "dr.rivera")
        robin_row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Robin Vale"))
        expect(robin_row).to_contain_text("next step waiting for you")
        robin_row.get_by_role("link", name="Robin Vale").click()
        expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/clinic/patients/(\d+)$"))
        patient_id = page.url.rsplit("/", 1)[1]
        proposal = page.get_by_role("region", name="Next step: the policy proposes to hold")
        expect(proposal).to_be_visible()
        cut = f"{first_cut.day} {first_cut.strftime('%B %Y')}"
        expect(proposal).to_contain_text(
            f"Withdrawal checklist 2/39 → 13/39 since the cut on {cut}"
        )
        expect(proposal).to_contain_text("a rise of 0.28 of the range, ≥ the policy's 0.1")
        expect(proposal).to_contain_text("not a prediction of the patient's scores")
        hold = proposal.get_by_role("form", name="Hold (the policy's proposal)")
        expect(hold).to_contain_text(re.compile(r"Model's peak withdrawal index: 0\.\d{3}"))
        expect(proposal.get_by_role("form", name="Advance")).to_contain_text(
            "peak withdrawal index"
        )
        expect(proposal.get_by_role("form", name="Slow")).to_be_visible()
        shots += both_sizes(
            page, "clinic proposal", problems, screenshot_dir / f"{name}-pace-03-proposal"
        )

        hold.get_by_label("Note (optional, kept with the version)").fill("spoke with Robin")
        hold.get_by_role("button", name="Accept: hold").click()
        expect(page).to_have_url(re.compile(r"\?done=pace$"))
        expect(page.get_by_role("status")).to_contain_text("Your choice is saved")
        expect(page.get_by_role("region", name=re.compile("^Next step"))).to_have_count(0)
        expect(page.locator("p.status").first).to_contain_text("plan version 2 (held)")
        shots += both_sizes(
            page, "clinic accepted", problems, screenshot_dir / f"{name}-pace-04-accepted"
        )

    # --- Robin: the held dose, no waiting message ------------------------------------------------
    with browser_context(browser, PHONE, failure.with_name(failure.name + "-robin-held")) as phone:
        page = phone.new_page()
        page.goto(f"{base}/login")
        page.get_by_label("Username").fill(ROBIN[0])
        page.get_by_label("Password").fill(ROBIN[1])
        page.get_by_role("button", name="Sign in").click()
        plan = page.locator("#today-plan")
        expect(plan).to_contain_text("Your clinician has made a new plan, starting today.")
        expect(plan).to_contain_text(
            "Today's dose: 1.875 mg clonazepam a day, the same as yesterday."
        )
        expect(plan).not_to_contain_text("waiting")
        expect(page.get_by_text(re.compile(r"^Your clinician keeps this dose to "))).to_be_visible()
        shots += both_sizes(
            page, "robin today held", problems, screenshot_dir / f"{name}-pace-05-today-held"
        )

    # --- the administrator: the audit log has the acceptance -------------------------------------
    with browser_context(browser, WIDE, failure.with_name(failure.name + "-audit")) as desk:
        page = desk.new_page()
        sign_in(page, base, "admin")
        page.goto(f"{base}/admin/audit?patient_id={patient_id}&action=write")
        row = page.get_by_role("row").filter(has_text="pace: version 2")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("dr.rivera")
        expect(row).to_contain_text("hold accepted; policy: hold; note: spoke with Robin")
        expect(row).to_contain_text("2/39 → 13/39")
        shots.append(shoot(page, screenshot_dir / f"{name}-pace-06-audit-desktop.png"))

    assert not problems, "\n".join(problems)
    for shot in shots:
        assert shot.is_file() and shot.stat().st_size > 8_000, shot
