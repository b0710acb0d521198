"""The main flows through the API: signing in and out, doses, check-ins and their alerts, the
clinician's plan changes, the withdrawal-rising alert, the FHIR export and the OpenAPI document.

Each test gets a fresh clinic (``world``) whose clock is the ``clock`` fixture, fixed at ``T0``
(2026-03-10 12:00 UTC): alex's plan started on 2026-02-18 and its first cut is on day 28
(2026-03-18, 1.875 → 1.75 mg/day); dates below are derived from the plan, not assumed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from service_support import NAMES, PASSWORDS, Clock, Signed, World, build_world, field_names
from sqlalchemy import text

from benzokit.errors import InputError
from benzokit.knowledge import Knowledge
from benzokit.monitor.alerts import load_alert_rules
from benzokit.service.settings import ServiceSettings
from benzokit.store import records

SESSION_COOKIE = "benzokit_session"


def sign_in_response(w: World, username: str, password: str, client: Any = None) -> Any:
    client = client or w.client()
    return client.post("/api/v1/session", json={"username": username, "password": password})


def first_cut(w: World, patient: str = "alex") -> date:
    """The first day on which the patient's planned daily dose falls (read from the stored plan)."""
    with w.clinic.db.transaction() as session:
        course = records.course(session, w.patients[patient])
    assert course is not None
    day = w.clinic.today()
    for _ in range(120):
        day += timedelta(days=1)
        if course.daily_dose_mg(day) < course.daily_dose_mg(day - timedelta(days=1)) - 1e-9:
            return day
    raise AssertionError("no cut within 120 days")


def today_mg(signed: Signed, patient_id: int, day: date | None = None) -> tuple[str, list[float]]:
    params = {"day": day.isoformat()} if day else {}
    body = signed.get(f"/api/v1/patients/{patient_id}/today", params=params).json()
    return body["status"], [s["dose_mg"] for s in body["slots"]]


def gad7_answers(total: int) -> dict[str, int]:
    """Seven GAD-7 answers (0-3) adding up to ``total``."""
    assert 0 <= total <= 21
    answers = [min(3, max(0, total - 3 * i)) for i in range(7)]
    assert sum(answers) == total
    return {f"item{i + 1}": a for i, a in enumerate(answers)}


def phq9(**answers: int) -> dict[str, int]:
    return {f"item{i}": 0 for i in range(1, 10)} | answers


# ----------------------------------------------------------------------------- signing in


def test_wrong_password_is_422_on_password_without_cookie(world: World) -> None:
    response = sign_in_response(world, "alex", "not-the-password")
    assert response.status_code == 422
    assert field_names(response) == ["password"]
    assert "set-cookie" not in response.headers
    unknown = sign_in_response(world, "nobody.here", "not-the-password")
    # an unknown user reads exactly like a wrong password (no account enumeration)
    assert unknown.status_code == 422 and unknown.json() == response.json()
    with world.clinic.db.engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM sessions")) == 0


def test_login_rate_limit_blocks_then_lifts(world: World, clock: Clock) -> None:
    allowed = world.app.state.settings.login_failures_allowed
    assert allowed == 5
    client = world.client()
    for attempt in range(allowed):
        response = sign_in_response(world, "alex", f"wrong-{attempt}", client)
        assert response.status_code == 422, (attempt, response.text)
        clock.advance(timedelta(seconds=10))
    assert failed_attempts(world) == allowed
    blocked = sign_in_response(world, "alex", "wrong-again", client)  # the 6th failure
    assert blocked.status_code == 429
    assert_blocked_until_window_passes(world, clock, client, blocked)


def failed_attempts(w: World) -> int:
    with w.clinic.db.engine.connect() as connection:
        query = "SELECT count(*) FROM login_attempts WHERE NOT succeeded"
        return int(connection.scalar(text(query)) or 0)


def assert_blocked_until_window_passes(w: World, clock: Clock, client: Any, blocked: Any) -> None:
    window = w.app.state.settings.login_window
    assert blocked.status_code == 429
    retry_after = int(blocked.headers["retry-after"])
    assert 0 < retry_after <= window.total_seconds()
    assert "set-cookie" not in blocked.headers
    assert blocked.json()["error"]["message"].startswith("too many failed sign-ins")
    # the right password does not get through while the window lasts ...
    right = sign_in_response(w, "alex", PASSWORDS["alex"], client)
    assert right.status_code == 429 and "set-cookie" not in right.headers
    # ... while another account from the same address still can (a clinic shares one address)
    assert sign_in_response(w, "sam", PASSWORDS["sam"], client).status_code == 200
    clock.advance(window - timedelta(minutes=1))
    assert sign_in_response(w, "alex", PASSWORDS["alex"], client).status_code == 429
    clock.advance(timedelta(minutes=2))  # now past the window of every failure
    lifted = sign_in_response(w, "alex", PASSWORDS["alex"], client)
    assert lifted.status_code == 200, lifted.text
    assert SESSION_COOKIE in lifted.headers["set-cookie"]


def test_rate_limit_from_recorded_failures_blocks_then_lifts(world: World, clock: Clock) -> None:
    """The limit itself, from failures already in the attempt log (e.g. from another client)."""
    from benzokit.store import accounts

    allowed = world.app.state.settings.login_failures_allowed
    client = world.client()
    with world.clinic.db.transaction() as session:
        for _ in range(allowed - 1):
            accounts.record_attempt(session, "alex", "testclient", clock(), False)
    # one failure short of the limit: the right password still works
    assert sign_in_response(world, "alex", PASSWORDS["alex"], client).status_code == 200
    with world.clinic.db.transaction() as session:
        accounts.record_attempt(session, "alex", "testclient", clock(), False)
    blocked = sign_in_response(world, "alex", "wrong", client)
    assert_blocked_until_window_passes(world, clock, client, blocked)


def test_session_cookie_flags(world: World) -> None:
    response = sign_in_response(world, "alex", PASSWORDS["alex"])
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    parts = [p.strip().lower() for p in cookie.split(";")]
    assert parts[0].startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in parts
    assert "samesite=strict" in parts
    assert "path=/" in parts
    assert f"max-age={int(world.app.state.settings.session_lifetime.total_seconds())}" in parts
    assert "secure" not in parts  # default: plain HTTP for local use
    body = response.json()
    assert body["account"]["username"] == "alex" and len(body["csrf_token"]) >= 32


def test_secure_cookie_when_configured(tmp_path: Path, clinic_template: Path) -> None:
    secure = build_world(tmp_path / "secure.db", template=clinic_template, secure_cookies=True)
    try:
        response = sign_in_response(secure, "alex", PASSWORDS["alex"])
        parts = [p.strip().lower() for p in response.headers["set-cookie"].split(";")]
        assert "secure" in parts and "httponly" in parts and "samesite=strict" in parts
    finally:
        secure.close()


def test_logout_invalidates_the_session(world: World) -> None:
    alex = world.sign_in("alex")
    token = alex.client.cookies[SESSION_COOKIE]
    assert alex.get("/api/v1/me").status_code == 200
    response = alex.client.delete("/api/v1/session", headers=alex.headers)
    assert response.status_code == 204
    assert alex.get("/api/v1/me").status_code == 401
    replay = world.client()
    replay.cookies.set(SESSION_COOKIE, token)
    assert replay.get("/api/v1/me").status_code == 401
    assert replay.get(f"/api/v1/patients/{world.patients['alex']}").status_code == 401
    assert replay.get("/me").headers["location"] == "/login"


def test_session_expires(world: World, clock: Clock) -> None:
    """Idle for the idle timeout: signed out."""
    alex = world.sign_in("alex")
    clock.advance(world.app.state.settings.session_idle - timedelta(minutes=1))
    assert alex.get("/api/v1/me").status_code == 200
    idle = world.sign_in("alex")
    clock.advance(world.app.state.settings.session_idle + timedelta(seconds=1))
    assert idle.get("/api/v1/me").status_code == 401


def test_session_idle_timeout_slides_with_activity(world: World, clock: Clock) -> None:
    """A request every 20 minutes keeps the session (the idle end moves on with each request) ..."""
    settings = world.app.state.settings
    assert settings.session_idle == timedelta(minutes=30)  # the defaults the README explains
    assert settings.session_lifetime == timedelta(hours=8)
    alex = world.sign_in("alex")
    step, steps = timedelta(minutes=20), int(settings.session_lifetime / timedelta(minutes=20)) - 1
    for _ in range(steps):
        clock.advance(step)
        assert alex.get("/api/v1/me").status_code == 200
    assert step * steps > 10 * settings.session_idle  # kept far past one idle timeout


def test_session_ends_at_its_absolute_maximum_however_active(world: World, clock: Clock) -> None:
    """... but never past the absolute maximum from sign-in: active all day, signed out after it,
    so the morning dose's session is not still open at the evening dose 12 h later."""
    settings = world.app.state.settings
    alex = world.sign_in("alex")
    step = timedelta(minutes=10)
    spent = timedelta(0)
    while spent + step < settings.session_lifetime:
        clock.advance(step)
        spent += step
        assert alex.get("/api/v1/me").status_code == 200, spent
    clock.advance(settings.session_lifetime - spent)
    assert alex.get("/api/v1/me").status_code == 401
    again = world.sign_in("alex")  # signing in again opens a fresh one
    assert again.get("/api/v1/me").status_code == 200


def test_session_settings_are_checked() -> None:
    with pytest.raises(InputError, match="session_idle"):
        ServiceSettings(session_idle=timedelta(hours=9), session_lifetime=timedelta(hours=8))
    with pytest.raises(InputError, match="session_idle"):
        ServiceSettings(session_idle=timedelta(seconds=5))


# ----------------------------------------------------------------------------- doses and check-ins


def test_dose_confirmation_is_idempotent(world: World) -> None:
    alex = world.sign_in("alex")
    time, drug, mg = world.doses_today("alex")[0]
    body = {
        "day": world.clinic.today().isoformat(),
        "time": time,
        "drug": drug,
        "status": "taken",
        "client_token": "retry-key-0001",
    }
    url = f"/api/v1/patients/{world.patients['alex']}/doses"
    before = world.counts()["dose_logs"]
    first, second = alex.post(url, body), alex.post(url, body)
    assert first.status_code == second.status_code == 201
    assert first.json()["dose"]["id"] == second.json()["dose"]["id"]
    assert first.json()["dose"]["taken_mg"] == mg
    assert world.counts()["dose_logs"] == before + 1
    # another key is another confirmation (a correction), the latest one counts
    corrected = alex.post(url, body | {"client_token": "retry-key-0002", "status": "missed"})
    assert corrected.status_code == 201
    assert world.counts()["dose_logs"] == before + 2
    slot = next(
        s for s in alex.get(url.replace("/doses", "/today")).json()["slots"] if s["time"] == time
    )
    assert slot["log"]["status"] == "missed"


def test_check_in_is_idempotent(world: World) -> None:
    alex = world.sign_in("alex")
    url = f"/api/v1/patients/{world.patients['alex']}/checkins"
    body = {"scales": {"gad7": gad7_answers(5)}, "client_token": "checkin-key-01"}
    before = world.counts()
    first, second = alex.post(url, body), alex.post(url, body)
    assert first.status_code == second.status_code == 201
    assert (first.json()["repeated"], second.json()["repeated"]) == (False, True)
    assert first.json()["checkin"]["id"] == second.json()["checkin"]["id"]
    after = world.counts()
    assert (after["checkins"], after["scale_scores"]) == (
        before["checkins"] + 1,
        before["scale_scores"] + 1,
    )


def test_repeated_check_in_is_audited(world: World) -> None:
    alex = world.sign_in("alex")
    url = f"/api/v1/patients/{world.patients['alex']}/checkins"
    body = {"scales": {"gad7": gad7_answers(3)}, "client_token": "checkin-key-02"}
    assert alex.post(url, body).status_code == 201
    mark = world.last_audit_id()
    again = alex.post(url, body)
    assert again.status_code == 201 and again.json()["repeated"] is True
    rows = world.audit_after(mark)
    assert [(r["user_id"], r["patient_id"]) for r in rows] == [
        (alex.user_id, world.patients["alex"])
    ]


def test_urgent_check_ins_alert_the_clinician(world: World, clock: Clock) -> None:
    alex, rivera = world.sign_in("alex"), world.sign_in("dr.rivera")
    alex_id = world.patients["alex"]
    url = f"/api/v1/patients/{alex_id}/checkins"

    harm = alex.post(url, {"scales": {"phq9": phq9(item9=1)}})
    assert harm.status_code == 201, harm.text
    assert [(a["code"], a["level"]) for a in harm.json()["alerts"]] == [("MON-SELF-HARM", "urgent")]
    guidance = " ".join(harm.json()["guidance"])
    assert "988" in guidance

    clock.advance(timedelta(hours=1))  # idle longer than a session lasts: both sign in again
    alex, rivera = world.sign_in("alex"), world.sign_in("dr.rivera")
    seizure = alex.post(url, {"seizures": 1})
    assert seizure.status_code == 201, seizure.text
    assert [(a["code"], a["level"]) for a in seizure.json()["alerts"]] == [
        ("MON-SEIZURE", "urgent")
    ]
    assert seizure.json()["guidance"]  # the emergency line, at once

    calm = alex.post(url, {"scales": {"phq9": phq9(item1=1)}})
    assert calm.status_code == 201 and calm.json()["alerts"] == [] and calm.json()["guidance"] == []

    listed = rivera.get("/api/v1/patients").json()["patients"]
    assert listed[0]["patient"]["id"] == alex_id  # the most urgent first
    # the two urgent ones and the demo's own: GAD-7 rising 5 -> 6 -> 8 after the plan's first cut
    assert listed[0]["top_level"] == "urgent" and listed[0]["open_alerts"] == 3
    open_alerts = rivera.get(
        f"/api/v1/patients/{alex_id}/alerts", params={"open_only": True}
    ).json()
    codes = {a["code"]: a for a in open_alerts["alerts"]}
    assert set(codes) == {"MON-SELF-HARM", "MON-SEIZURE", "MON-WITHDRAWAL-RISING"}
    assert "Alex Morgan" in codes["MON-SEIZURE"]["message"]

    note = "Phoned Alex: seen in clinic today; plan held."
    ack = rivera.post(f"/api/v1/alerts/{codes['MON-SEIZURE']['id']}/acknowledge", {"note": note})
    assert ack.status_code == 200, ack.text
    assert ack.json()["alert"]["acknowledged_at"] is not None
    assert ack.json()["alert"]["acknowledged_note"] == note  # kept, as the page's note is
    listed = rivera.get("/api/v1/patients").json()["patients"]
    row = next(p for p in listed if p["patient"]["id"] == alex_id)
    assert row["open_alerts"] == 2 and row["top_level"] == "urgent"
    still_open = rivera.get(f"/api/v1/patients/{alex_id}/alerts", params={"open_only": True}).json()
    assert [a["code"] for a in still_open["alerts"]] == ["MON-SELF-HARM", "MON-WITHDRAWAL-RISING"]
    every = rivera.get(f"/api/v1/patients/{alex_id}/alerts").json()["alerts"]
    assert {a["code"] for a in every} == set(codes)  # acknowledged ones kept
    assert next(a for a in every if a["code"] == "MON-SEIZURE")["acknowledged_note"] == note
    bare = rivera.post(f"/api/v1/alerts/{codes['MON-SELF-HARM']['id']}/acknowledge")
    assert bare.status_code == 200 and bare.json()["alert"]["acknowledged_note"] == ""  # optional


def test_urgent_check_in_page_shows_crisis_lines(world: World) -> None:
    alex = world.sign_in("alex")
    form = {f"phq9.item{i}": "0" for i in range(1, 10)} | {"phq9.item9": "2"}
    page = alex.client.post("/me/checkin", data=form | {"csrf_token": alex.csrf})
    assert page.status_code == 200
    assert "988" in page.text and "911" in page.text


# ----------------------------------------------------------------------------- the clinician's plan changes


@pytest.fixture
def long_world(tmp_path: Path, clock: Clock, clinic_template: Path) -> Iterator[World]:
    """A fresh clinic whose sessions last 90 days (idle or not), for tests that move the clock by
    days."""
    built = build_world(
        tmp_path / "long.db",
        clock,
        template=clinic_template,
        session_lifetime=timedelta(days=90),
        session_idle=timedelta(days=90),
    )
    try:
        yield built
    finally:
        built.close()


def assert_change_response(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text[:500]
    body: dict[str, Any] = response.json()
    assert isinstance(body["findings"], list)
    assert "decision support" in body["disclaimer"]
    assert body["message"]
    return body


def test_pause_holds_the_dose_and_resume_restarts(long_world: World, clock: Clock) -> None:
    world = long_world
    alex, rivera = world.sign_in("alex"), world.sign_in("dr.rivera")
    alex_id = world.patients["alex"]
    cut = first_cut(world)
    clock.set_day(cut - timedelta(days=1))  # pause the day before a cut: the cut must not come
    status, held = today_mg(alex, alex_id)
    assert status == "active"
    _, planned_next = today_mg(alex, alex_id, cut)
    assert sum(planned_next) < sum(held)  # without a pause the dose would fall tomorrow

    paused = assert_change_response(
        rivera.post(f"/api/v1/patients/{alex_id}/plan/pause", {"reason": "withdrawal symptoms"})
    )
    assert paused["course"]["paused"] is True
    assert paused["course"]["pauses"][-1]["end"] is None
    assert today_mg(alex, alex_id) == ("paused", held)

    clock.advance(timedelta(days=1))
    assert world.clinic.today() == cut
    assert today_mg(alex, alex_id) == ("paused", held)  # the same dose the next day
    page = rivera.get(f"/clinic/patients/{alex_id}")
    assert '<strong id="course-status">paused</strong>' in page.text

    resumed = assert_change_response(
        rivera.post(f"/api/v1/patients/{alex_id}/plan/resume", {"reason": "better"})
    )
    assert resumed["course"]["paused"] is False
    assert resumed["course"]["pauses"][-1]["end"] == cut.isoformat()
    assert today_mg(alex, alex_id) == ("active", held)  # the clock stood still for one day ...
    _, after = today_mg(alex, alex_id, cut + timedelta(days=1))
    assert after == planned_next  # ... so the cut comes one day later
    plan = rivera.get(f"/api/v1/patients/{alex_id}/plan").json()
    assert len(plan["course"]["versions"]) == 1  # a pause makes no new version


def test_pause_twice_is_refused(world: World) -> None:
    rivera = world.sign_in("dr.rivera")
    url = f"/api/v1/patients/{world.patients['alex']}/plan"
    assert_change_response(rivera.post(f"{url}/pause", {"reason": "first pause"}))
    before = world.counts()
    again = rivera.post(f"{url}/pause", {"reason": "second pause"})
    assert again.status_code == 422 and field_names(again) == ["action"]
    assert world.counts()["pauses"] == before["pauses"]


def test_slow_and_adjust_add_versions_and_keep_the_old(world: World) -> None:
    rivera = world.sign_in("dr.rivera")
    alex_id = world.patients["alex"]
    url = f"/api/v1/patients/{alex_id}/plan"
    original = rivera.get(url).json()
    assert "decision support" in original["disclaimer"]
    (version1,) = original["course"]["versions"]

    slowed = assert_change_response(rivera.post(f"{url}/slow", {"factor": 2, "reason": "anxious"}))
    versions = slowed["course"]["versions"]
    assert [v["number"] for v in versions] == [1, 2]
    assert versions[0] == version1  # version 1 is kept unchanged
    assert (versions[1]["change"], versions[1]["reason"]) == ("slowed", "anxious")
    assert versions[1]["created_by"] == "Dr Ana Rivera"
    new_plan = versions[1]["plan"]
    assert new_plan["start_date"] == world.clinic.today().isoformat()
    old_days = version1["plan"]["steps"][-1]["end_day"] - 20  # what was left of version 1 today
    assert new_plan["steps"][-1]["end_day"] >= 2 * old_days - 1

    adjusted = assert_change_response(
        rivera.post(f"{url}/adjust", {"strategy": "hyperbolic", "reason": "new plan"})
    )
    versions = adjusted["course"]["versions"]
    assert [v["number"] for v in versions] == [1, 2, 3]
    assert versions[0] == version1 and versions[1] == slowed["course"]["versions"][1]
    assert versions[2]["change"] == "adjusted"
    assert versions[2]["plan"]["strategy"] == "hyperbolic"
    # the findings returned are those of the new version's safety check
    assert adjusted["findings"] == versions[2]["plan"]["findings"]
    assert all({"code", "severity", "message"} <= set(f) for f in adjusted["findings"])
    assert len(rivera.get(url).json()["course"]["versions"]) == 3
    today = rivera.get(f"/api/v1/patients/{alex_id}/today").json()
    assert today["plan_version"] == 3


def test_adjust_with_guideline_reports_findings(world: World) -> None:
    rivera = world.sign_in("dr.rivera")
    url = f"/api/v1/patients/{world.patients['alex']}/plan/adjust"
    body = assert_change_response(rivera.post(url, {"strategy": "guideline", "reason": "again"}))
    assert body["findings"], "the guideline plan from 1.875 mg/day has safety findings"
    assert {f["code"] for f in body["findings"]} & {"BZK-TAPER-RATE", "PLAN-PRODUCT-LIMITED"}


# ----------------------------------------------------------------------------- withdrawal rising


def test_withdrawal_rising_after_a_cut(long_world: World, clock: Clock) -> None:
    world = long_world
    rule = load_alert_rules().withdrawal_rising
    assert rule.consecutive_checkins.value == 3 and "gad7" in rule.scales
    alex, rivera = world.sign_in("alex"), world.sign_in("dr.rivera")
    alex_id = world.patients["alex"]
    url = f"/api/v1/patients/{alex_id}/checkins"
    cut = first_cut(world)

    def check_in(day: date, total: int) -> list[str]:
        clock.set_day(day)
        response = alex.post(url, {"scales": {"gad7": gad7_answers(total)}})
        assert response.status_code == 201, response.text
        return [a["code"] for a in response.json()["alerts"]]

    # the demo's own rise after the plan's first cut (day 0) is already raised, once
    assert cut > world.clinic.today() + timedelta(days=3)
    for n, total in enumerate((10, 11, 12), start=1):
        assert check_in(world.clinic.today() + timedelta(days=1), total) == [], n
    # after the next cut: two rises are not yet enough, the third check-in rising is
    assert check_in(cut + timedelta(days=1), 4) == []
    assert check_in(cut + timedelta(days=2), 6) == []
    assert check_in(cut + timedelta(days=3), 9) == ["MON-WITHDRAWAL-RISING"]
    alerts = rivera.get(f"/api/v1/patients/{alex_id}/alerts", params={"open_only": True}).json()
    rising = [
        a
        for a in alerts["alerts"]
        if a["code"] == "MON-WITHDRAWAL-RISING" and cut.isoformat() in a["message"]
    ]
    assert len(rising) == 1 and rising[0]["level"] == "warning"
    assert "4 → 6 → 9" in rising[0]["message"] and cut.isoformat() in rising[0]["message"]
    assert "pausing or slowing" in rising[0]["suggestion"]
    # a fourth rise is the same episode: not raised again
    assert check_in(cut + timedelta(days=4), 12) == []
    row = next(
        p
        for p in rivera.get("/api/v1/patients").json()["patients"]
        if p["patient"]["id"] == alex_id
    )
    assert row["top_level"] == "warning"


def test_withdrawal_not_rising_after_a_cut(long_world: World, clock: Clock) -> None:
    world = long_world
    alex = world.sign_in("alex")
    url = f"/api/v1/patients/{world.patients['alex']}/checkins"
    cut = first_cut(world)
    for offset, total in ((1, 4), (2, 6), (3, 6), (4, 5)):
        clock.set_day(cut + timedelta(days=offset))
        response = alex.post(url, {"scales": {"gad7": gad7_answers(total)}})
        assert response.status_code == 201 and response.json()["alerts"] == [], (offset, total)


# ----------------------------------------------------------------------------- FHIR and OpenAPI


@pytest.mark.parametrize("who", ["dr.rivera", "alex"])
def test_fhir_export_validates(world: World, who: str) -> None:
    signed = world.sign_in(who)
    response = signed.get(f"/api/v1/patients/{world.patients['alex']}/fhir")
    assert response.status_code == 200
    data = response.json()
    bundle = Bundle.model_validate(data)
    assert bundle.type == "collection"
    types = {e.resource.get_resource_type() for e in bundle.entry or () if e.resource}
    assert {
        "MedicationRequest",
        "MedicationStatement",
        "QuestionnaireResponse",
        "Observation",
    } <= types
    assert NAMES["sam"] not in response.text and NAMES["quinn"] not in response.text


def test_openapi_lists_every_api_route(world: World) -> None:
    from fastapi.routing import APIRoute

    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: app.routes is already flat
        iter_route_contexts = iter  # type: ignore[assignment]

    response = world.client().get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    listed = {(m.upper(), path) for path, ops in document["paths"].items() for m in ops}
    routes = {
        (method, str(route.path))
        for route in iter_route_contexts(world.app.routes)
        if isinstance(getattr(route, "original_route", route), APIRoute)
        and str(route.path).startswith("/api/v1/")
        for method in route.methods or ()
    }
    assert len(routes) >= 20
    assert routes == {r for r in listed if r[1].startswith("/api/v1/")}
    assert all(path.startswith("/api/v1/") for _, path in listed), "pages are not in the API docs"
    assert "decision support" in document["info"]["description"]
    assert world.client().get("/api/docs").status_code == 200


def test_refused_requests_are_audited(world: World) -> None:
    """Who tried what and was refused: a patient reading another's record, a missing CSRF token."""
    alex = world.sign_in("alex")
    before = world.last_audit_id()
    sam = world.patients["sam"]
    assert alex.get(f"/api/v1/patients/{sam}/today").status_code == 404
    no_csrf = alex.client.post(f"/api/v1/patients/{world.patients['alex']}/checkins", json={})
    assert no_csrf.status_code == 403
    refused = [r for r in world.audit_after(before) if r["action"] == "denied"]
    assert [(r["user_id"], r["what"], r["detail"]) for r in refused] == [
        (
            alex.user_id,
            f"GET /api/v1/patients/{sam}/today",
            f"answered 404; asked for patient {sam}",
        ),
        (
            alex.user_id,
            f"POST /api/v1/patients/{world.patients['alex']}/checkins",
            f"answered 403; asked for patient {world.patients['alex']}",
        ),
    ]
    assert all(r["patient_id"] is None for r in refused)


def test_administrator_reads_the_audit_log(world: World) -> None:
    alex = world.sign_in("alex")
    patient = world.patients["alex"]
    assert alex.get(f"/api/v1/patients/{patient}/today").status_code == 200
    admin = world.sign_in("admin")
    entries = admin.get(f"/api/v1/admin/audit?patient_id={patient}&limit=5").json()["entries"]
    assert 1 <= len(entries) <= 5
    assert entries[0]["username"] == "alex" and entries[0]["what"] == "today"
    assert all(e["patient_id"] == patient for e in entries)
    # every row names the knowledge base the request was served with
    assert {e["knowledge_version"] for e in entries} == {Knowledge.shipped().version}
    too_many = admin.get("/api/v1/admin/audit?limit=100000")
    assert too_many.status_code == 422 and too_many.json()["error"]["fields"][0]["field"] == "limit"
    page = admin.get("/admin/audit")
    assert page.status_code == 200 and "Audit log" in page.text and "alex" in page.text


def test_no_enrolment_where_the_crisis_lines_are_placeholders(world: World) -> None:
    """The en-GB lines in handout_text.toml are placeholders: a patient there would see none."""
    from benzokit.errors import InputError
    from benzokit.service import schemas
    from benzokit.service.enrol import SYSTEM

    form = schemas.NewPatient(
        username="pat.gb",
        password="long-enough-gb",
        display_name="Robin Hale",
        clinician="dr.rivera",
        current_regimen="1 mg bid",
        start_date=world.clinic.today(),
        locale="en-GB",
    )
    before = world.counts()
    with pytest.raises(InputError, match="crisis lines") as raised:
        world.clinic.enrolment.create_patient(SYSTEM, form)
    assert raised.value.field == "locale" and "en-US" in raised.value.allowed
    assert world.counts() == before


def test_changing_the_password_ends_the_other_sessions(world: World) -> None:
    phone, laptop = world.sign_in("alex"), world.sign_in("alex")
    body = {"current_password": PASSWORDS["alex"], "new_password": "a-new-password-7"}
    short = phone.post("/api/v1/me/password", json=body | {"new_password": "short"})
    assert (
        short.status_code == 422 and short.json()["error"]["fields"][0]["field"] == "new_password"
    )
    assert phone.post("/api/v1/me/password", json=body).status_code == 204
    assert phone.get("/api/v1/me").status_code == 200  # this session stays
    assert laptop.get("/api/v1/me").status_code == 401  # the other one ended
    client = world.client()
    old = client.post("/api/v1/session", json={"username": "alex", "password": PASSWORDS["alex"]})
    assert old.status_code == 422
    new = client.post("/api/v1/session", json={"username": "alex", "password": "a-new-password-7"})
    assert new.status_code == 200
    again = phone.post("/api/v1/me/password", json=body)  # the old one is no longer current
    assert again.status_code == 422 and again.json()["error"]["field"] == "current_password"


def test_every_response_carries_the_security_headers(world: World) -> None:
    alex = world.sign_in("alex")
    for url in ("/login", "/me", f"/api/v1/patients/{world.patients['alex']}/today", "/nowhere"):
        headers = alex.get(url).headers
        assert headers["x-frame-options"] == "DENY", url
        assert headers["x-content-type-options"] == "nosniff", url
        assert headers["cache-control"] == "no-store", url
        assert "frame-ancestors 'none'" in headers["content-security-policy"], url
        assert "script-src 'none'" in headers["content-security-policy"], url


def test_a_page_form_with_a_bad_field_answers_with_a_page(world: World) -> None:
    client = world.client()
    response = client.post(
        "/login", data={"username": "x" * 65, "password": "p", "login_csrf": "t"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "username" in response.text and "Traceback" not in response.text


def test_new_plans_made_one_after_another_are_judged_together(world: World) -> None:
    """Each new plan cuts on its first day: two on one day fall faster than the guideline allows."""
    rivera = world.sign_in("dr.rivera")
    sam = world.patients["sam"]
    body = {"strategy": "guideline", "reason": "first change"}
    first = rivera.post(f"/api/v1/patients/{sam}/plan/adjust", json=body).json()
    codes = [[f["code"] for f in r["findings"]] for r in (first,)]
    second = rivera.post(
        f"/api/v1/patients/{sam}/plan/adjust", json=body | {"reason": "again"}
    ).json()
    third = rivera.post(
        f"/api/v1/patients/{sam}/plan/adjust", json=body | {"risk": "low", "reason": "and again"}
    ).json()
    assert "BZK-CHANGE-PACE" not in codes[0]
    across = [f for f in third["findings"] if f["code"] == "BZK-CHANGE-PACE"]
    assert across and across[0]["severity"] == "warning", (second["findings"], third["findings"])
    assert across[0]["day"] == 0 and across[0]["fraction"] > 0.25  # reached today, the plan's day 0


def test_many_failures_from_one_address_block_every_account_there(world: World) -> None:
    """Password spraying: the per-address limit is far higher than the per-username one."""
    from benzokit.store import accounts

    settings = world.app.state.settings
    assert settings.login_failures_per_client > settings.login_failures_allowed
    with world.clinic.db.transaction() as session:
        for index in range(settings.login_failures_per_client):
            accounts.record_attempt(session, f"guess{index}", "testclient", world.clock(), False)
    blocked = sign_in_response(world, "sam", PASSWORDS["sam"], world.client())
    assert blocked.status_code == 429
    assert "15 minutes" in blocked.json()["error"]["message"]


def test_guessing_the_current_password_is_limited_and_audited(world: World) -> None:
    alex = world.sign_in("alex")
    allowed = world.app.state.settings.login_failures_allowed
    body = {"current_password": "a-wrong-guess", "new_password": "a-new-password-9"}
    for _ in range(allowed):
        wrong = alex.post("/api/v1/me/password", json=body)
        assert wrong.status_code == 422 and wrong.json()["error"]["value"] == "(hidden)"
    assert alex.post("/api/v1/me/password", json=body).status_code == 429
    with world.clinic.db.engine.connect() as connection:
        denied = connection.scalar(
            text("SELECT count(*) FROM audit_log WHERE what = 'password' AND action = 'denied'")
        )
    assert denied == allowed


def test_a_dose_above_every_labelled_maximum_is_refused_at_once(world: World) -> None:
    admin = world.sign_in("admin")
    body = {
        "username": "pat.huge",
        "password": "a-long-password",
        "display_name": "Huge Dose",
        "clinician": "dr.rivera",
        "current_regimen": "500 mg bid",
        "start_date": world.clinic.today().isoformat(),
    }
    before = world.counts()
    refused = admin.post("/api/v1/admin/patients", json=body)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["field"] == "current_regimen" and "mg/day" in error["allowed"]
    assert world.counts() == before


def test_a_dose_only_the_liquid_can_make_is_explained_in_the_forms_words(world: World) -> None:
    rivera = world.sign_in("dr.rivera")
    alex = world.patients["alex"]
    url = f"/api/v1/patients/{alex}/plan/adjust"
    liquid = rivera.post(url, json={"strategy": "guideline", "liquid": True, "reason": "liquid"})
    assert liquid.status_code == 200, liquid.text
    tablets = rivera.post(url, json={"strategy": "guideline", "reason": "tablets again"})
    error = tablets.json()["error"]
    assert tablets.status_code == 422 and error["field"] == "liquid", error
    assert "oral liquid" in error["allowed"]


def test_signing_in_and_out_is_audited(world: World) -> None:
    mark = world.last_audit_id()
    alex = world.sign_in("alex")
    assert alex.client.delete("/api/v1/session", headers=alex.headers).status_code == 204
    failed = sign_in_response(world, "alex", "not-the-password")
    assert failed.status_code == 422
    rows = [(r["user_id"], r["action"], r["what"], r["detail"]) for r in world.audit_after(mark)]
    assert rows == [
        (alex.user_id, "write", "session", "signed in"),
        (alex.user_id, "write", "session", "signed out"),
    ]  # a failed sign-in is a login-attempt row only: no typed username is copied to the audit log
