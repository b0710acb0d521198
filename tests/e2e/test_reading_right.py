"""The words at the moments that matter, in real headless Chromium, on SQLite and on PostgreSQL.

- pause, then a new plan (previewed before it is made): the patient's Today page says the true dose
  change, not "paused";
- a seizure check-in: the emergency number comes first, as a ``tel:`` link;
- the demo patient's GAD-7 rising 5 -> 6 -> 8 after the plan's first cut (day 0) has raised the
  rising-score alert;
- axe-core finds no serious or critical violation on any page, at 390x844 and at 1440x900.
Screenshots go to ``screenshot_dir`` (``<backend>-words-NN-<page>.png``).
"""

from __future__ import annotations

import re
from pathlib import Path

from axe import serious_violations
from playwright.sync_api import Browser, Page, ViewportSize, expect
from test_monitor_flow import (
    PHONE,
    LiveServer,
    answer_all,
    assert_fits_phone,
    browser_context,
    server,
    shoot,
    sign_in,
)

__all__ = ["server"]  # the live-server fixture, on both backends

WIDE: ViewportSize = {"width": 1440, "height": 900}


def fill_check_in(page: Page, *, seizures: str = "0") -> None:
    for scale in ("GAD-7", "PHQ-9", "Withdrawal checklist"):
        answer_all(page, scale, "Not at all")
    page.get_by_label("Seizures since your last check-in").fill(seizures)


def test_pause_new_plan_seizure_and_rising_alert(
    browser: Browser, server: LiveServer, screenshot_dir: Path
) -> None:
    base, name = server.url, server.backend
    failure = screenshot_dir / f"FAILED-{name}-words"

    with browser_context(browser, WIDE, failure.with_name(failure.name + "-clinician")) as desk:
        page = desk.new_page()
        sign_in(page, base, "dr.rivera")
        page.get_by_role("link", name="Alex Morgan").click()
        alerts = page.get_by_role("region", name="Alerts").get_by_role("listitem")
        rising = alerts.filter(has_text="rose over the last 3 check-ins")
        expect(rising).to_have_count(1)
        expect(rising).to_contain_text("5 → 6 → 8")
        expect(rising).to_contain_text("Consider pausing or slowing")
        shoot(page, screenshot_dir / f"{name}-words-01-rising-alert.png")

        pause = page.get_by_role("form", name="Pause")
        pause.get_by_label("Reason").fill("rising GAD-7 after the first cut")
        pause.get_by_role("button", name="Pause the taper").click()
        expect(page.locator("#course-status")).to_have_text("paused")

        adjust = page.get_by_role("form", name="New plan from today's dose")
        adjust.get_by_label("Risk (pace)").select_option("high")
        adjust.get_by_label("Reason").fill("slower after the pause")
        adjust.get_by_role("button", name="Preview the new plan").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Preview: new plan for Alex Morgan"
        )
        change = page.locator("p.change")
        expect(change).to_contain_text("Today's dose would change")
        expect(page.get_by_role("region", name="Now: the current plan from today")).to_be_visible()
        shoot(page, screenshot_dir / f"{name}-words-02-preview.png")
        page.get_by_role("button", name="Confirm and make this plan").click()
        expect(page).to_have_url(re.compile(r"\?done=adjust$"))
        expect(page.locator("#course-status")).to_have_text("active")

    with browser_context(browser, PHONE, failure.with_name(failure.name + "-patient")) as phone:
        page = phone.new_page()
        sign_in(page, base, "alex")
        plan = page.locator("#today-plan")
        expect(plan).to_contain_text("Your clinician has made a new plan, starting today.")
        expect(plan).to_contain_text(
            re.compile(r"Your dose changes today from [0-9.]+ mg to [0-9.]+ mg clonazepam a day")
        )
        expect(plan).not_to_contain_text("paused")
        words = plan.inner_text()
        found = re.search(r"from ([0-9.]+) mg to ([0-9.]+) mg", words)
        assert found and float(found.group(2)) < float(found.group(1)), words
        shown = sum(
            float(m) for m in re.findall(r"· ([0-9.]+) mg", page.locator("ul.doses").inner_text())
        )
        assert abs(shown - float(found.group(2))) < 1e-6  # the doses listed are the new dose
        shoot(page, screenshot_dir / f"{name}-words-03-today-new-plan.png")
        assert_fits_phone(page)

        page.get_by_role("link", name="Check in", exact=True).first.click()
        fill_check_in(page, seizures="1")
        page.get_by_role("button", name="Save check-in").click()
        crisis = page.get_by_role("alert").filter(
            has=page.get_by_role("heading", name="Get help now")
        )
        first_link = crisis.get_by_role("link").first
        expect(first_link).to_have_attribute("href", "tel:911")
        expect(first_link).to_have_text("911")
        expect(crisis.get_by_role("link", name="988")).to_have_attribute("href", "tel:988")
        expect(crisis).not_to_contain_text("will contact you")
        expect(crisis.locator(".clinic-contact a")).to_have_attribute("href", "tel:5550100")
        shoot(page, screenshot_dir / f"{name}-words-04-seizure-help.png")
        assert_fits_phone(page)


def _check(page: Page, where: str, problems: list[str]) -> None:
    for violation in serious_violations(page):
        problems.append(f"{where}: {violation}")


def test_no_serious_accessibility_violation_on_any_page(
    browser: Browser, server: LiveServer, screenshot_dir: Path
) -> None:
    base, name = server.url, server.backend
    problems: list[str] = []
    for size_name, size in (("phone", PHONE), ("desktop", WIDE)):
        context = browser.new_context(viewport=size, bypass_csp=True)
        try:
            page = context.new_page()
            for path in ("/login", "/help"):
                page.goto(base + path)
                _check(page, f"{size_name} {path}", problems)
            sign_in(page, base, "alex")
            for path in ("/me", "/me/checkin", "/me/history", "/account", "/help"):
                page.goto(base + path)
                _check(page, f"{size_name} alex {path}", problems)
            page.goto(base + "/me")
            page.get_by_role("button", name=re.compile(r"^Sign out")).click()
            sign_in(page, base, "dr.rivera")
            _check(page, f"{size_name} /clinic", problems)
            page.get_by_role("link", name="Alex Morgan").click()
            _check(page, f"{size_name} clinic patient", problems)
            shoot(page, screenshot_dir / f"{name}-words-05-clinic-patient-{size_name}.png")
            slow = page.get_by_role("form", name="Slow")
            slow.get_by_label("Reason").fill("axe check")
            slow.get_by_role("button", name="Preview the slower plan").click()
            _check(page, f"{size_name} plan preview", problems)
            page.goto(base + "/clinic")
            page.get_by_role("button", name=re.compile(r"^Sign out")).click()
            sign_in(page, base, "admin")
            for path in ("/admin", "/admin/audit"):
                page.goto(base + path)
                _check(page, f"{size_name} admin {path}", problems)
        finally:
            context.close()
    assert not problems, "\n".join(problems)
