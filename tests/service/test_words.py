"""What the patient reads at the moments that matter: the dose change on Today after a pause and a new
plan, help lines ordered by the cause (a seizure: the emergency number first; self-harm: the crisis
line first), every number a ``tel:`` link, the clinic's own phone, and no promise the service does not
keep."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from service_support import Clock, World, build_world

from benzokit.interop.handout_text import load_handout_text

PHONE = "555-0100"
HOURS = "Mon-Fri 09:00-17:00"


@pytest.fixture
def phoned(tmp_path: Path, clock: Clock, clinic_template: Path) -> Iterator[World]:
    built = build_world(
        tmp_path / "c.db", clock, template=clinic_template, clinic_phone=PHONE, clinic_hours=HOURS
    )
    try:
        yield built
    finally:
        built.close()


def _tel_links(html: str) -> list[str]:
    return re.findall(r'href="tel:([0-9+]+)"', html)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_pause_then_new_plan_says_the_true_dose_change_today(world: World) -> None:
    alex, rivera = world.sign_in("alex"), world.sign_in("dr.rivera")
    pid = world.patients["alex"]
    before = sum(mg for _, _, mg in world.doses_today("alex"))
    paused = rivera.client.post(
        f"/clinic/patients/{pid}/pause", data={"reason": "review", "csrf_token": rivera.csrf}
    )
    assert paused.status_code == 303, paused.text
    assert "Your taper is paused." in _text(alex.client.get("/me").text)
    made = rivera.client.post(
        f"/clinic/patients/{pid}/adjust",
        data={
            "strategy": "guideline",
            "risk": "moderate",
            "reason": "new plan",
            "csrf_token": rivera.csrf,
        },
    )
    assert made.status_code == 303, made.text
    after = sum(mg for _, _, mg in world.doses_today("alex"))
    assert after < before  # the new plan cuts on its first day
    today = _text(alex.client.get("/me").text)
    assert "Your clinician has made a new plan, starting today." in today
    assert f"Your dose changes today from {before:g} mg to {after:g} mg clonazepam a day." in today
    assert "paused" not in today  # the new plan replaced the pause: it is not still in force


def test_a_seizure_shows_the_emergency_number_first_as_a_tel_link(phoned: World) -> None:
    alex = phoned.sign_in("alex")
    page = alex.client.post("/me/checkin", data={"seizures": "1", "csrf_token": alex.csrf})
    assert page.status_code == 200, page.text
    assert _tel_links(page.text)[:3] == ["911", "988", PHONE.replace("-", "")]
    words = _text(page.text)
    assert words.index("call 911") < words.index("988")
    assert "will contact you" not in words and "has been alerted" not in words
    assert HOURS in words


def test_thoughts_of_self_harm_show_the_crisis_line_first(phoned: World) -> None:
    alex = phoned.sign_in("alex")
    form = {f"phq9.item{i}": "0" for i in range(1, 10)} | {"phq9.item9": "1"}
    page = alex.client.post("/me/checkin", data=form | {"csrf_token": alex.csrf})
    assert page.status_code == 200, page.text
    assert _tel_links(page.text)[:2] == ["988", "911"]
    assert "will contact you" not in _text(page.text)


def test_every_help_number_of_a_filled_locale_is_dialable() -> None:
    for code, locale in load_handout_text().locales.items():
        for line in (*locale.crisis, locale.emergency):
            assert line.placeholder or line.phone, f"{code}: {line.text}"


def test_without_a_clinic_phone_the_page_says_so(world: World) -> None:
    page = world.sign_in("alex").client.get("/help").text
    assert "not set up in this service" in _text(page)
    assert _tel_links(page) == ["911", "988"]


def test_a_new_plan_is_previewed_before_it_is_made(world: World) -> None:
    rivera = world.sign_in("dr.rivera")
    pid = world.patients["alex"]
    versions_before = world.counts()["plan_versions"]
    choice = {"strategy": "guideline", "risk": "high", "reason": "slower after the rise"}
    preview = rivera.client.post(
        f"/clinic/patients/{pid}/adjust/preview", data=choice | {"csrf_token": rivera.csrf}
    )
    assert preview.status_code == 200, preview.text
    words = _text(preview.text)
    assert "Nothing is saved yet" in words
    assert "Now: the current plan from today" in words and "New: the plan from today" in words
    assert "Safety findings on the new plan" in words
    assert world.counts()["plan_versions"] == versions_before  # a preview saves nothing
    confirm = rivera.client.post(
        f"/clinic/patients/{pid}/adjust", data=choice | {"csrf_token": rivera.csrf}
    )
    assert confirm.status_code == 303
    assert world.counts()["plan_versions"] == versions_before + 1


def test_the_plan_table_shows_dates_and_marks_the_current_step(world: World) -> None:
    rivera = world.sign_in("dr.rivera")
    page = rivera.client.get(f"/clinic/patients/{world.patients['alex']}").text
    assert 'aria-current="step"' in page
    today = world.clinic.today()
    assert today.strftime("%d %b %Y") not in page or "(now)" in page
    assert "(now)" in _text(page)
    findings = page.find("Safety findings on the current plan")
    assert findings == -1 or findings < page.find("Steer the taper")


def test_a_missed_day_is_caught_up_with_the_time_really_taken(world: World) -> None:
    alex = world.sign_in("alex")
    today = world.clinic.today()
    assert "Not recorded yet" not in _text(alex.client.get("/me").text)  # the demo recorded all
    three_back = today - timedelta(days=3)
    catch_up = alex.client.get(f"/me?day={three_back.isoformat()}")
    assert catch_up.status_code == 200
    assert "Catch up:" in _text(catch_up.text) and "Taken at (time)" in catch_up.text
    doses = alex.get(f"/api/v1/patients/{world.patients['alex']}/doses").json()["doses"]
    time = next(d["time"] for d in doses if d["day"] == three_back.isoformat())
    saved = alex.client.post(
        "/me/doses",
        data={
            "day": three_back.isoformat(),
            "time": time,
            "status": "taken",
            "taken_time": "09:40",
            "csrf_token": alex.csrf,
        },
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/me?day={three_back.isoformat()}&done=dose"
    latest = alex.get(f"/api/v1/patients/{world.patients['alex']}/doses").json()["doses"][-1]
    assert latest["taken_at"].endswith("09:40:00Z") and latest["day"] == three_back.isoformat()
    outside = today - timedelta(days=7)
    refused = alex.client.get(f"/me?day={outside.isoformat()}")
    assert refused.status_code == 422 and "catch-up window" in refused.text


def test_a_check_in_sent_after_the_session_ended_is_kept_through_sign_in(
    world: World, clock: Clock
) -> None:
    alex = world.sign_in("alex")
    form = {f"gad7.item{i}": "2" for i in range(1, 8)} | {
        "note": "written over a long evening",
        "client_token": "kept-token-123",
        "csrf_token": alex.csrf,
    }
    clock.advance(timedelta(hours=13))  # the session (12 h) has ended
    before = world.counts()["checkins"]
    lost = alex.client.post("/me/checkin", data=form)
    assert lost.status_code == 401
    assert "Your session had ended" in lost.text and 'name="resume"' in lost.text
    assert world.counts()["checkins"] == before  # nothing saved without a session
    resume = re.search(r'name="resume" value="([^"]*)"', lost.text)
    login_csrf = re.search(r'name="login_csrf" value="([^"]*)"', lost.text)
    assert resume and login_csrf

    back = alex.client.post(
        "/login",
        data={
            "username": "alex",
            "password": "demo-patient-alex",
            "login_csrf": login_csrf.group(1),
            "resume": html.unescape(resume.group(1)),
        },
    )
    assert back.status_code == 200, back.text
    assert "your answers are kept below" in back.text
    assert "written over a long evening" in back.text and "kept-token-123" in back.text
    assert back.text.count('value="2" checked') == 7


def test_a_check_in_carries_the_time_it_describes(world: World, clock: Clock) -> None:
    alex = world.sign_in("alex")
    url = f"/api/v1/patients/{world.patients['alex']}/checkins"
    two_back = world.clinic.today() - timedelta(days=2)
    made = alex.post(
        url, {"seizures": 0, "describes_day": two_back.isoformat(), "describes_time": "21:15"}
    )
    assert made.status_code == 201, made.text
    body = made.json()["checkin"]
    assert body["describes_at"].startswith(f"{two_back.isoformat()}T21:15")
    assert body["recorded_at"] != body["describes_at"]
    before = world.counts()["checkins"]
    for change, field in (
        (
            {
                "describes_day": (two_back - timedelta(days=6)).isoformat(),
                "describes_time": "09:00",
            },
            "describes_day",
        ),
        (
            {"describes_day": world.clinic.today().isoformat(), "describes_time": "23:59"},
            "describes_time",
        ),
        ({"describes_day": two_back.isoformat()}, "describes_time"),
    ):
        refused = alex.post(url, {"seizures": 0, **change})
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["field"] == field
    assert world.counts()["checkins"] == before  # nothing half-written


def test_an_alert_shows_the_answers_that_raised_it_and_keeps_the_acknowledgement_note(
    world: World,
) -> None:
    alex, rivera = world.sign_in("alex"), world.sign_in("dr.rivera")
    pid = world.patients["alex"]
    alex.post(f"/api/v1/patients/{pid}/checkins", {"seizures": 2, "note": "two fits on Sunday"})
    page = rivera.client.get(f"/clinic/patients/{pid}").text
    assert "The check-in that raised it" in page and "two fits on Sunday" in page
    alert = next(
        a
        for a in rivera.get(f"/api/v1/patients/{pid}/alerts").json()["alerts"]
        if a["code"] == "MON-SEIZURE"
    )
    done = rivera.client.post(
        f"/clinic/alerts/{alert['id']}/acknowledge",
        data={"note": "called, seen in clinic today", "csrf_token": rivera.csrf},
    )
    assert done.status_code == 303
    again = next(
        a
        for a in rivera.get(f"/api/v1/patients/{pid}/alerts").json()["alerts"]
        if a["code"] == "MON-SEIZURE"
    )
    assert again["acknowledged_note"] == "called, seen in clinic today"
    assert "called, seen in clinic today" in rivera.client.get(f"/clinic/patients/{pid}").text


def test_the_audit_log_filters_names_patients_and_exports_csv(world: World) -> None:
    alex, admin = world.sign_in("alex"), world.sign_in("admin")
    alex.client.get("/me")
    today = world.clinic.today().isoformat()
    page = admin.client.get(
        "/admin/audit", params={"user": "alex", "action": "read", "since": today, "until": today}
    )
    assert page.status_code == 200
    rows = re.findall(r"<tr><td>.*?</tr>", page.text)
    assert rows and all("<td>alex</td>" in r and "<td>read</td>" in r for r in rows)
    # the patient's account name, not their name: administrators see no clinical record
    assert "Alex Morgan" not in page.text
    assert f'alex <span class="muted">(record {world.patients["alex"]})</span>' in page.text
    csv_page = admin.client.get("/admin/audit.csv", params={"user": "alex", "action": "read"})
    assert csv_page.status_code == 200 and csv_page.headers["content-type"].startswith("text/csv")
    lines = csv_page.text.strip().splitlines()
    assert lines[0].startswith("at_utc,user,role,action")
    assert len(lines) > 1 and all(",alex,patient,read," in line for line in lines[1:])
    bad = admin.client.get("/admin/audit", params={"action": "delete"})
    assert bad.status_code == 422 and "read, write, denied" in bad.text
    assert alex.client.get("/admin/audit.csv").status_code == 403


def test_long_histories_are_paged_newest_first(world: World, clock: Clock) -> None:
    alex = world.sign_in("alex")
    pid = world.patients["alex"]
    for n in range(30):
        clock.advance(timedelta(minutes=1))
        made = alex.post(
            f"/api/v1/patients/{pid}/checkins", {"seizures": 0, "note": f"entry {n:02d}"}
        )
        assert made.status_code == 201
    rivera = world.sign_in("dr.rivera")
    first = rivera.client.get(f"/clinic/patients/{pid}").text
    assert "entry 29" in first and "entry 00" not in first
    assert "Page 1 of 2" in first and "checkins_page=2" in first
    second = rivera.client.get(f"/clinic/patients/{pid}", params={"checkins_page": "2"}).text
    assert "entry 00" in second and "entry 29" not in second and "Page 2 of 2" in second
    mine = alex.client.get("/me/history", params={"checkins_page": "99"}).text
    assert "Page 2 of 2" in mine  # a page past the end shows the last


def test_the_checklist_is_said_to_be_unvalidated_wherever_it_is_shown(world: World) -> None:
    alex, rivera = world.sign_in("alex"), world.sign_in("dr.rivera")
    assert "Not a validated scale." in alex.client.get("/me/checkin").text
    clinic = rivera.client.get(f"/clinic/patients/{world.patients['alex']}").text
    assert "Withdrawal checklist: not a validated scale." in clinic
    assert "Withdrawal checklist (unvalidated)" in clinic  # the check-in table's column
    assert "Withdrawal checklist (unvalidated)" in alex.client.get("/me/history").text
