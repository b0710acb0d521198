"""Bad input to the API gets a specific 4xx that names the field, never a 500, and writes nothing.

Every refused request is checked the same way (``refused``): the status, the field named in the error
body, and the row counts of the patient tables before and after (no half-written record). The clinic
is shared by the module (alex's accepted check-ins and doses accumulate; nothing here depends on them).
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from service_support import NAMES, Signed, World, build_world, field_names
from sqlalchemy import text

from benzokit.service import schemas

PATIENT_TABLES = ("dose_logs", "checkins", "scale_scores", "alerts", "plan_versions", "pauses")


def phq9(**answers: object) -> dict[str, object]:
    """A complete PHQ-9 with every answer 0 (item9 0: no escalation), overridden by ``answers``."""
    return {f"item{i}": 0 for i in range(1, 10)} | answers


def gad7(value: int = 1) -> dict[str, int]:
    return {f"item{i}": value for i in range(1, 8)}


@pytest.fixture(scope="module")
def alex(module_world: World) -> Signed:
    return module_world.sign_in("alex")


@pytest.fixture(scope="module")
def rivera(module_world: World) -> Signed:
    return module_world.sign_in("dr.rivera")


@pytest.fixture(scope="module")
def admin(module_world: World) -> Signed:
    return module_world.sign_in("admin")


@pytest.fixture
def unchanged(module_world: World) -> Iterator[None]:
    """The test's requests leave every patient and account table as it was."""
    before = module_world.counts()
    yield
    after = module_world.counts()
    assert {t: after[t] for t in before if t != "sessions"} == {
        t: before[t] for t in before if t != "sessions"
    }


def checkins_url(w: World, who: str = "alex") -> str:
    return f"/api/v1/patients/{w.patients[who]}/checkins"


def doses_url(w: World, who: str = "alex") -> str:
    return f"/api/v1/patients/{w.patients[who]}/doses"


def refused(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    """Assert the status and that the error names ``field`` (exactly, or as the start of a path)."""
    assert response.status_code == status, response.text[:500]
    body: dict[str, Any] = response.json()
    assert "error" in body and body["error"]["message"], body
    if field is not None:
        named = field_names(response)
        assert any(n == field or n.startswith(field + ".") for n in named), (field, named)
    return body


# ----------------------------------------------------------------------------- check-in answers


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(4, id="above-range"),
        pytest.param(-1, id="negative"),
        pytest.param("x", id="text"),
        pytest.param(1.5, id="fraction"),
        pytest.param(True, id="boolean"),
        pytest.param(None, id="null"),
        pytest.param([1], id="list"),
        pytest.param("1.0", id="decimal-text"),
    ],
)
def test_out_of_range_answer_names_the_item(
    module_world: World, alex: Signed, unchanged: None, value: object
) -> None:
    response = alex.post(checkins_url(module_world), {"scales": {"phq9": phq9(item1=value)}})
    refused(response, 422)
    named = field_names(response)
    # score_scale names "phq9.item1"; pydantic's type check names "scales.phq9.item1[.<type>]"
    assert any(n == "phq9.item1" or n.startswith("scales.phq9.item1") for n in named), named


@pytest.mark.parametrize("value", [0, 3, "2", 2.0], ids=["0", "3", "digit-text", "integral-float"])
def test_answers_in_range_are_accepted(module_world: World, alex: Signed, value: object) -> None:
    """The other side of the range: the same request with an allowed answer is saved."""
    before = module_world.counts()["checkins"]
    response = alex.post(checkins_url(module_world), {"scales": {"phq9": phq9(item1=value)}})
    assert response.status_code == 201, response.text
    answers = dict(response.json()["checkin"]["scales"][0]["answers"])
    assert answers["item1"] == int(str(value).split(".")[0])
    assert module_world.counts()["checkins"] == before + 1


def test_missing_item_is_named(module_world: World, alex: Signed, unchanged: None) -> None:
    answers = phq9()
    del answers["item3"]
    body = refused(
        alex.post(checkins_url(module_world), {"scales": {"phq9": answers}}), 422, "phq9.item3"
    )
    assert "missing" in body["error"]["allowed"]


def test_unknown_scale_is_named(module_world: World, alex: Signed, unchanged: None) -> None:
    body = refused(
        alex.post(checkins_url(module_world), {"scales": {"hads": {"item1": 1}}}), 422, "scales"
    )
    assert body["error"]["value"] == "hads"
    assert "gad7" in body["error"]["allowed"] and "phq9" in body["error"]["allowed"]


def test_unknown_item_is_named(module_world: World, alex: Signed, unchanged: None) -> None:
    body = refused(
        alex.post(checkins_url(module_world), {"scales": {"phq9": phq9(item10=1)}}),
        422,
        "phq9.item10",
    )
    assert "item9" in body["error"]["allowed"]


def test_one_bad_scale_saves_none_of_the_check_in(
    module_world: World, alex: Signed, unchanged: None
) -> None:
    """A valid GAD-7 with an invalid PHQ-9: nothing of the check-in is saved."""
    response = alex.post(
        checkins_url(module_world),
        {"scales": {"gad7": gad7(), "phq9": phq9(item9=7)}, "seizures": 2},
    )
    refused(response, 422, "phq9.item9")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"seizures": "many"}, "seizures"),
        ({"seizures": -1}, "seizures"),
        ({"seizures": 101}, "seizures"),
        ({"seizures": 1.5}, "seizures"),
        ({"sleep_hours": 25}, "sleep_hours"),
        ({"sleep_hours": "long"}, "sleep_hours"),
        ({"sleep_quality": 5}, "sleep_quality"),
        ({"note": 12}, "note"),
        ({"note": "x" * (schemas.MAX_NOTE + 1)}, "note"),
        ({"client_token": "short"}, "client_token"),
        ({"scales": ["phq9"]}, "scales"),
        ({"scales": {"phq9": [0, 0, 0]}}, "scales.phq9"),
        ({"mood": "fine"}, "mood"),
    ],
    ids=[
        "seizures-text",
        "seizures-negative",
        "seizures-too-many",
        "seizures-fraction",
        "sleep-hours-above-24",
        "sleep-hours-text",
        "sleep-quality-above-4",
        "note-not-text",
        "note-oversized",
        "client-token-short",
        "scales-not-object",
        "scale-answers-not-object",
        "unknown-field",
    ],
)
def test_wrong_types_name_the_field(
    module_world: World, alex: Signed, unchanged: None, body: dict[str, Any], field: str
) -> None:
    refused(alex.post(checkins_url(module_world), body), 422, field)


def test_note_at_the_limit_is_accepted(module_world: World, alex: Signed) -> None:
    response = alex.post(checkins_url(module_world), {"note": "x" * schemas.MAX_NOTE})
    assert response.status_code == 201, response.text[:300]
    assert len(response.json()["checkin"]["note"]) == schemas.MAX_NOTE


def test_body_not_an_object(module_world: World, alex: Signed, unchanged: None) -> None:
    refused(alex.post(checkins_url(module_world), []), 422, "body")
    response = alex.client.post(
        checkins_url(module_world),
        content=b"{not json",
        headers=alex.headers | {"content-type": "application/json"},
    )
    refused(response, 422)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"sleep_hours": 1e400}', id="huge-number"),
        pytest.param(b'{"sleep_hours": NaN}', id="NaN"),
        pytest.param(b'{"scales": {"phq9": {"item1": Infinity}}}', id="Infinity"),
    ],
)
def test_non_finite_number_is_refused_not_500(
    module_world: World, alex: Signed, unchanged: None, raw: bytes
) -> None:
    response = alex.client.post(
        checkins_url(module_world),
        content=raw,
        headers=alex.headers | {"content-type": "application/json"},
    )
    refused(response, 422)


def test_lone_surrogate_is_refused_not_500(
    module_world: World, alex: Signed, unchanged: None
) -> None:
    response = alex.client.post(
        checkins_url(module_world),
        content=b'{"note": "a\\ud800b"}',
        headers=alex.headers | {"content-type": "application/json"},
    )
    refused(response, 422, "note")


def test_nul_character_is_not_a_500_on_postgres(fresh_postgres_url: str) -> None:
    """On SQLite a NUL is stored; PostgreSQL text cannot hold one, so it must be refused up front."""
    w = build_world(fresh_postgres_url)
    try:
        alex = w.sign_in("alex")
        note = alex.post(checkins_url(w), {"note": "before\x00after"})
        login = w.client().post("/api/v1/session", json={"username": "al\x00ex", "password": "x"})
        assert (note.status_code, login.status_code) == (422, 422), (note.text, login.text)
    finally:
        w.close()


# ----------------------------------------------------------------------------- body size


def test_oversized_body_is_413(module_world: World, alex: Signed, unchanged: None) -> None:
    limit = module_world.app.state.settings.max_body_bytes
    assert limit == 64 * 1024
    response = alex.post(checkins_url(module_world), {"note": "x" * (limit + 1)})
    body = refused(response, 413)
    assert body["error"]["field"] == "body"


def test_body_at_the_limit_is_not_413(module_world: World, alex: Signed, unchanged: None) -> None:
    """Just under the limit the body is read and judged on its content (here: the note's length)."""
    limit = module_world.app.state.settings.max_body_bytes
    payload = json.dumps({"note": "x" * (limit - 20)}).encode()
    assert len(payload) <= limit
    response = alex.client.post(
        checkins_url(module_world),
        content=payload,
        headers=alex.headers | {"content-type": "application/json"},
    )
    refused(response, 422, "note")


def test_oversized_chunked_body_is_413(module_world: World, alex: Signed, unchanged: None) -> None:
    limit = module_world.app.state.settings.max_body_bytes

    def chunks() -> Iterator[bytes]:  # no Content-Length: the size shows only while reading
        yield b'{"note": "'
        yield b"x" * (limit + 10)
        yield b'"}'

    response = alex.client.post(
        checkins_url(module_world),
        content=chunks(),
        headers=alex.headers | {"content-type": "application/json"},
    )
    refused(response, 413, "body")


# ----------------------------------------------------------------------------- records that are not there


def test_unknown_patient_is_404(alex: Signed, rivera: Signed, unchanged: None) -> None:
    for who in (alex, rivera):
        for url in ("/api/v1/patients/987654", "/api/v1/patients/987654/today"):
            refused(who.get(url), 404)
    refused(alex.post("/api/v1/patients/987654/checkins", {"scales": {"gad7": gad7()}}), 404)
    refused(rivera.post("/api/v1/patients/987654/plan/pause", {"reason": "no such patient"}), 404)


@pytest.mark.parametrize("ident", ["0", "-1", str(2**31), str(2**63), "9" * 30])
def test_id_out_of_any_range_is_refused(
    alex: Signed, rivera: Signed, unchanged: None, ident: str
) -> None:
    """Ids past the database's integer range are refused as the API declares them (1 to 2**31 - 1;
    they used to be a 500); the page does not know such a record."""
    refused(alex.get(f"/api/v1/patients/{ident}"), 422, "patient_id")
    refused(rivera.get(f"/api/v1/patients/{ident}/alerts"), 422, "patient_id")
    refused(rivera.post(f"/api/v1/alerts/{ident}/acknowledge"), 422, "alert_id")
    page = rivera.get(f"/clinic/patients/{ident}")
    assert page.status_code == 404


def test_patient_id_not_a_number_is_422(alex: Signed, unchanged: None) -> None:
    refused(alex.get("/api/v1/patients/alex"), 422, "patient_id")


def test_acknowledgement_note_too_long_is_422(
    module_world: World, rivera: Signed, unchanged: None
) -> None:
    """The note is bounded as on the page (``MAX_ACK_NOTE`` characters); nothing is acknowledged."""
    long_note = "x" * (schemas.MAX_ACK_NOTE + 1)
    refused(rivera.post("/api/v1/alerts/1/acknowledge", {"note": long_note}), 422, "note")
    by_key = f"/api/v1/patients/{module_world.patients['alex']}/alerts/acknowledge"
    refused(rivera.post(by_key, {"key": "quiet:1999-01-01", "note": long_note}), 422, "note")
    refused(rivera.post("/api/v1/alerts/1/acknowledge", {"note": "ok", "extra": 1}), 422, "extra")


def test_unknown_alert_is_404(module_world: World, rivera: Signed, unchanged: None) -> None:
    refused(rivera.post("/api/v1/alerts/987654/acknowledge"), 404)
    by_key = f"/api/v1/patients/{module_world.patients['alex']}/alerts/acknowledge"
    refused(rivera.post(by_key, {"key": "quiet:1999-01-01"}), 404)


def test_bad_query_day_is_422(module_world: World, alex: Signed) -> None:
    url = f"/api/v1/patients/{module_world.patients['alex']}/today"
    refused(alex.get(url, params={"day": "2026-02-30"}), 422, "day")
    refused(alex.get(url, params={"day": "yesterday"}), 422, "day")


# ----------------------------------------------------------------------------- dose confirmations


def today_dose(w: World) -> dict[str, Any]:
    time, drug, _ = w.doses_today("alex")[0]
    return {"day": w.clinic.today().isoformat(), "time": time, "drug": drug, "status": "taken"}


def test_dose_time_not_in_plan(module_world: World, alex: Signed, unchanged: None) -> None:
    planned = {t for t, _, _ in module_world.doses_today("alex")}
    assert "13:37" not in planned
    body = refused(
        alex.post(doses_url(module_world), today_dose(module_world) | {"time": "13:37"}),
        422,
        "time",
    )
    assert all(t in body["error"]["allowed"] for t in planned)


@pytest.mark.parametrize("days", [-7, 1, -400], ids=["outside-the-window", "tomorrow", "last-year"])
def test_dose_day_out_of_range(
    module_world: World, alex: Signed, unchanged: None, days: int
) -> None:
    day = module_world.clinic.today() + timedelta(days=days)
    body = today_dose(module_world) | {"day": day.isoformat()}
    refused(alex.post(doses_url(module_world), body), 422, "day")


@pytest.mark.parametrize("days", [0, -1, -6], ids=["today", "yesterday", "six-days-back"])
def test_dose_days_in_range_are_accepted(module_world: World, alex: Signed, days: int) -> None:
    day = module_world.clinic.today() + timedelta(days=days)
    response = alex.post(
        doses_url(module_world), today_dose(module_world) | {"day": day.isoformat()}
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("status", "field"), [("taken", "time"), ("different", "time"), ("missed", "status")]
)
def test_a_dose_still_ahead_cannot_be_recorded(
    module_world: World, alex: Signed, unchanged: None, status: str, field: str
) -> None:
    """The issue's case: the 20:00 dose cannot be marked taken (or missed) at 14:45."""
    later = [t for t, _, _ in module_world.doses_today("alex") if t > "14:45"]
    assert later, "alex has an evening dose"
    was = module_world.clock.now
    module_world.clock.now = was.replace(hour=14, minute=45)
    try:
        body = today_dose(module_world) | {"time": later[0], "status": status}
        if status == "different":
            body["taken_mg"] = 0.25
        at_1445 = module_world.sign_in("alex")  # (the morning's session has gone idle by 14:45)
        error = refused(at_1445.post(doses_url(module_world), body), 422, field)
        assert "still ahead" in error["error"]["allowed"]
    finally:
        module_world.clock.now = was


def test_a_dose_taken_early_is_recorded_at_the_time_given(world: World) -> None:
    later = [t for t, _, _ in world.doses_today("alex") if t > "14:45"]
    world.clock.now = world.clock.now.replace(hour=14, minute=45)
    alex = world.sign_in("alex")  # (signed in at 14:45: a session ends when idle)
    body = today_dose(world) | {"time": later[0], "status": "taken", "taken_time": "14:30"}
    done = alex.post(doses_url(world), body)
    assert done.status_code == 201, done.text
    assert done.json()["dose"]["taken_at"].endswith("14:30:00Z")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"status": "different"}, "taken_mg"),
        ({"status": "different", "taken_mg": 50}, "taken_mg"),
        ({"status": "different", "taken_mg": 0}, "taken_mg"),
        ({"status": "missed", "taken_mg": 0.5}, "taken_mg"),
        ({"status": "forgot"}, "status"),
        ({"time": "8:00"}, "time"),
        ({"time": "24:00"}, "time"),
        ({"day": "2026-02-30"}, "day"),
        ({"taken_time": "noon", "status": "late"}, "taken_time"),
        ({"note": "x" * 501}, "note"),
        ({"client_token": "bad token!"}, "client_token"),
        ({"dose": 1}, "dose"),
    ],
    ids=[
        "different-without-amount",
        "above-labelled-maximum",
        "zero-amount",
        "missed-with-amount",
        "unknown-status",
        "time-one-digit-hour",
        "time-24h",
        "impossible-day",
        "late-time-not-a-time",
        "note-oversized",
        "client-token-bad",
        "unknown-field",
    ],
)
def test_bad_dose_confirmation_names_the_field(
    module_world: World, alex: Signed, unchanged: None, change: dict[str, Any], field: str
) -> None:
    body = today_dose(module_world)
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    refused(alex.post(doses_url(module_world), body), 422, field)


def test_dose_for_a_drug_not_in_the_plan_names_the_drug(
    module_world: World, alex: Signed, unchanged: None
) -> None:
    body = today_dose(module_world) | {"drug": "diazepam"}
    refused(alex.post(doses_url(module_world), body), 422, "drug")


def test_labelled_maximum_is_the_limit(module_world: World, alex: Signed) -> None:
    """Exactly the highest labelled daily dose is accepted; the refusal above says what it is."""
    over = alex.post(
        doses_url(module_world),
        today_dose(module_world) | {"status": "different", "taken_mg": 20.5},
    )
    assert "20 mg" in refused(over, 422, "taken_mg")["error"]["allowed"]
    at = alex.post(
        doses_url(module_world), today_dose(module_world) | {"status": "different", "taken_mg": 20}
    )
    assert at.status_code == 201, at.text
    assert at.json()["dose"]["taken_mg"] == 20


# ----------------------------------------------------------------------------- CSRF


def unsafe_api_calls(w: World) -> list[tuple[str, str, str, dict[str, Any] | None]]:
    """(who, method, url, valid body) for every state-changing API route but signing in."""
    alex_id = w.patients["alex"]
    with w.clinic.db.engine.connect() as connection:
        alert_id, alert_key = connection.execute(
            text("SELECT id, key FROM alerts WHERE patient_id = :p ORDER BY id LIMIT 1"),
            {"p": alex_id},
        ).one()
    assert alert_id is not None
    return [
        ("alex", "POST", f"/api/v1/patients/{alex_id}/doses", today_dose(w)),
        ("alex", "POST", f"/api/v1/patients/{alex_id}/checkins", {"scales": {"gad7": gad7()}}),
        ("alex", "DELETE", "/api/v1/session", None),
        (
            "alex",
            "POST",
            "/api/v1/me/password",
            {"current_password": "demo-patient-alex", "new_password": "csrf-password-1"},
        ),
        ("dr.rivera", "POST", f"/api/v1/alerts/{alert_id}/acknowledge", None),
        (
            "dr.rivera",
            "POST",
            f"/api/v1/patients/{alex_id}/alerts/acknowledge",
            {"key": alert_key},
        ),
        ("dr.rivera", "POST", f"/api/v1/patients/{alex_id}/plan/pause", {"reason": "csrf test"}),
        ("dr.rivera", "POST", f"/api/v1/patients/{alex_id}/plan/resume", {"reason": "csrf test"}),
        (
            "dr.rivera",
            "POST",
            f"/api/v1/patients/{alex_id}/plan/slow",
            {"factor": 2, "reason": "csrf"},
        ),
        (
            "dr.rivera",
            "POST",
            f"/api/v1/patients/{alex_id}/plan/adjust",
            {"strategy": "guideline", "reason": "csrf test"},
        ),
        (
            "dr.rivera",
            "POST",
            f"/api/v1/patients/{alex_id}/plan/pacing",
            {"version": 1, "choice": "hold"},
        ),
        (
            "admin",
            "POST",
            "/api/v1/admin/clinicians",
            {"username": "csrf.clin", "password": "a-long-password", "display_name": "Dr C"},
        ),
        (
            "admin",
            "POST",
            "/api/v1/admin/patients",
            {
                "username": "csrf.pat",
                "password": "a-long-password",
                "display_name": "C Patient",
                "clinician": "dr.rivera",
                "current_regimen": "0.5 mg bid",
                "start_date": w.clinic.today().isoformat(),
            },
        ),
        (
            "alex",
            "PUT",
            "/api/v1/me/notifications",
            {"email": "alex@example.org", "timezone": "UTC", "dose_reminder_times": ["08:00"]},
        ),
        ("alex", "DELETE", "/api/v1/me/notifications", None),
        ("alex", "POST", f"/api/v1/patients/{alex_id}/calendar-feed", None),
        ("alex", "DELETE", f"/api/v1/patients/{alex_id}/calendar-feed", None),
    ]


@pytest.fixture(scope="module")
def seizure_alert(module_world: World) -> None:
    """An alert of alex's for the acknowledge call."""
    w = module_world
    w.clinic.recording.submit_checkin(
        w.accounts["alex"], w.patients["alex"], schemas.CheckInForm(seizures=1)
    )


@pytest.mark.parametrize("token", [None, "", "not-the-token"], ids=["missing", "empty", "wrong"])
def test_csrf_header_required_on_every_change(
    module_world: World, seizure_alert: None, unchanged: None, token: str | None
) -> None:
    w = module_world
    calls = unsafe_api_calls(w)
    unsafe = sorted(
        (method.upper(), path)
        for path, operations in w.app.openapi()["paths"].items()
        for method in operations
        if method != "get" and (method, path) != ("post", "/api/v1/session")
    )
    assert len(calls) == len(unsafe), unsafe  # every state-changing API route is tried
    sessions = {who: w.sign_in(who) for who in {c[0] for c in calls}}
    for who, method, url, body in calls:
        signed = sessions[who]
        headers = {} if token is None else {"X-CSRF-Token": token}
        response = signed.client.request(method, url, json=body, headers=headers)
        refused(response, 403)
        assert "form has expired" in response.json()["error"]["message"]
    for signed in sessions.values():  # the sessions are still open: DELETE without CSRF did nothing
        assert signed.get("/api/v1/me").status_code == 200


def test_csrf_token_of_another_session_is_refused(
    module_world: World, alex: Signed, unchanged: None
) -> None:
    other = module_world.sign_in("alex")
    assert other.csrf != alex.csrf
    response = alex.client.post(
        checkins_url(module_world), json={"scales": {"gad7": gad7()}}, headers=other.headers
    )
    refused(response, 403)


def test_page_form_without_csrf_is_refused(
    module_world: World, alex: Signed, unchanged: None
) -> None:
    form = {f"gad7.item{i}": "1" for i in range(1, 8)}
    assert alex.client.post("/me/checkin", data=form).status_code == 403
    assert alex.client.post("/me/checkin", data=form | {"csrf_token": "wrong"}).status_code == 403


# ----------------------------------------------------------------------------- unknown fields


@pytest.mark.parametrize(
    ("who", "route", "body"),
    [
        ("alex", "checkins", {"scales": {}, "colour": "blue"}),
        ("alex", "doses", {"colour": "blue"}),
        ("dr.rivera", "plan/pause", {"reason": "extra field", "colour": "blue"}),
        ("dr.rivera", "plan/resume", {"colour": "blue"}),
        ("dr.rivera", "plan/slow", {"factor": 2, "reason": "extra field", "colour": "blue"}),
        (
            "dr.rivera",
            "plan/adjust",
            {"strategy": "guideline", "reason": "extra", "colour": "blue"},
        ),
    ],
    ids=["checkin", "dose", "pause", "resume", "slow", "adjust"],
)
def test_unknown_field_is_named(
    module_world: World, unchanged: None, who: str, route: str, body: dict[str, Any]
) -> None:
    signed = module_world.sign_in(who)
    if route == "doses":
        body = today_dose(module_world) | body
    url = f"/api/v1/patients/{module_world.patients['alex']}/{route}"
    body_json = refused(signed.post(url, body), 422, "colour")
    assert body_json["error"]["fields"][0]["message"] == "Extra inputs are not permitted"


def test_unknown_field_on_accounts_and_login(
    module_world: World, admin: Signed, unchanged: None
) -> None:
    clinician = {"username": "x.clin", "password": "a-long-password", "display_name": "X"}
    refused(admin.post("/api/v1/admin/clinicians", clinician | {"role": "admin"}), 422, "role")
    client = module_world.client()
    response = client.post(
        "/api/v1/session", json={"username": "alex", "password": "x", "remember": True}
    )
    refused(response, 422, "remember")
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"username": "alex"}, "username"),
        ({"username": "No Spaces"}, "username"),
        ({"password": "short"}, "password"),
        ({"clinician": "nobody"}, "clinician"),
        ({"clinician": "alex"}, "clinician"),
        pytest.param(
            {"current_regimen": "lots of pills"},
            "current_regimen",
        ),
        ({"drug": "unobtainium"}, "drug"),
        ({"birth_year": 1800}, "birth_year"),
        ({"start_date": "soon"}, "start_date"),
        ({"strategy": "cold-turkey"}, "strategy"),
    ],
    ids=[
        "username-taken",
        "username-spaces",
        "password-short",
        "clinician-unknown",
        "clinician-is-a-patient",
        "regimen-unreadable",
        "drug-unknown",
        "birth-year",
        "start-date",
        "strategy",
    ],
)
def test_bad_enrolment_names_the_field_and_enrols_nobody(
    module_world: World, admin: Signed, unchanged: None, change: dict[str, Any], field: str
) -> None:
    body = {
        "username": "pat.new",
        "password": "a-long-password",
        "display_name": "New Patient",
        "clinician": "dr.rivera",
        "current_regimen": "0.5 mg bid",
        "start_date": module_world.clinic.today().isoformat(),
    } | change
    response = admin.post("/api/v1/admin/patients", body)
    assert response.status_code == 422, response.text[:400]
    named = field_names(response)
    assert any(n == field or n.startswith(field) for n in named), (field, named)


def test_login_missing_password_is_named(module_world: World, unchanged: None) -> None:
    client = module_world.client()
    refused(client.post("/api/v1/session", json={"username": "alex"}), 422, "password")


def test_plan_change_bad_values_name_the_field(
    module_world: World, rivera: Signed, unchanged: None
) -> None:
    base = f"/api/v1/patients/{module_world.patients['alex']}/plan"
    refused(rivera.post(f"{base}/pause", {"reason": "no"}), 422, "reason")
    refused(rivera.post(f"{base}/slow", {"factor": 1, "reason": "too fast"}), 422, "factor")
    refused(rivera.post(f"{base}/slow", {"factor": 5, "reason": "too slow"}), 422, "factor")
    refused(rivera.post(f"{base}/adjust", {"strategy": "nope", "reason": "x y z"}), 422, "strategy")
    refused(
        rivera.post(
            f"{base}/adjust", {"strategy": "guideline", "reason": "abc", "interval_days": 0}
        ),
        422,
        "interval_days",
    )
    refused(rivera.post(f"{base}/resume", {}), 422, "action")  # not paused: nothing to resume


def test_page_check_in_keeps_the_answers_and_names_the_field(
    module_world: World, alex: Signed, unchanged: None
) -> None:
    form = {f"phq9.item{i}": "0" for i in range(1, 10)} | {"phq9.item4": "9", "note": "kept text"}
    response = alex.client.post("/me/checkin", data=form | {"csrf_token": alex.csrf})
    assert response.status_code == 422
    assert "phq9.item4" in response.text
    assert "kept text" in response.text  # what the patient typed is shown again


# ----------------------------------------------------------------------------- property: never a 500

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
ITEM_IDS = st.sampled_from([f"item{i}" for i in range(0, 11)]) | st.text(
    string.ascii_lowercase, max_size=6
)
ANSWERS = st.dictionaries(ITEM_IDS, JSON_SCALARS | st.integers(0, 3), max_size=11)
SCALE_IDS = st.sampled_from(["phq9", "gad7", "ciwa_b", "PHQ9", ""])
FIELDS = {
    "scales": st.dictionaries(SCALE_IDS, ANSWERS | JSON_VALUES, max_size=3) | JSON_VALUES,
    "seizures": st.integers(-5, 200) | JSON_SCALARS,
    "sleep_hours": st.floats(-1, 30, allow_nan=False) | JSON_SCALARS,
    "sleep_quality": st.integers(-1, 6) | JSON_SCALARS,
    "note": st.text(max_size=60) | JSON_SCALARS,
    "client_token": st.from_regex(r"[A-Za-z0-9_\-]{6,70}", fullmatch=True) | JSON_SCALARS,
}
CHECKIN_OBJECTS = st.fixed_dictionaries({}, optional=FIELDS) | st.dictionaries(
    st.text(max_size=12), JSON_VALUES, max_size=5
)


@pytest.fixture(scope="module")
def property_client(module_world: World) -> tuple[World, Signed]:
    return module_world, module_world.sign_in("alex")


@given(body=CHECKIN_OBJECTS)
def test_any_json_object_gets_below_500(
    property_client: tuple[World, Signed], body: dict[str, Any]
) -> None:
    """Any JSON object posted as a check-in: a 2xx or a 4xx naming a field, never a 500; a refused
    one writes nothing. (Non-finite numbers and lone surrogates are excluded: known 500s above.)"""
    w, alex = property_client
    before = w.counts()
    response = alex.post(checkins_url(w), body)
    assert response.status_code < 500, (body, response.text[:300])
    after = w.counts()
    if response.status_code >= 400:
        assert response.status_code == 422, response.text[:300]
        assert field_names(response), response.text[:300]
        assert {t: after[t] for t in PATIENT_TABLES} == {t: before[t] for t in PATIENT_TABLES}
    else:
        assert response.status_code == 201
        repeated = response.json()["repeated"]
        assert after["checkins"] == before["checkins"] + (0 if repeated else 1)
    assert NAMES["sam"] not in response.text and NAMES["quinn"] not in response.text


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"status": "late"}, "taken_time"),  # late: when, then?
        ({"status": "late", "taken_time": "23:59"}, "taken_time"),  # not yet (clock at 12:00)
        ({"status": "late", "taken_time": "11:00", "taken_mg": 0.5}, "taken_mg"),  # another amount?
        ({"status": "taken", "taken_mg": 0.5}, "taken_mg"),
        ({"status": "missed", "taken_time": "09:00"}, "taken_time"),
    ],
    ids=[
        "late-without-time",
        "late-in-the-future",
        "late-with-mg",
        "taken-with-mg",
        "missed-with-time",
    ],
)
def test_dose_details_must_fit_the_status(
    module_world: World, alex: Signed, unchanged: None, extra: dict[str, Any], field: str
) -> None:
    refused(alex.post(doses_url(module_world), today_dose(module_world) | extra), 422, field)
