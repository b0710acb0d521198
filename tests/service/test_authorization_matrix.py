"""The authorization matrix: every route × every role × own/other record, with no cross-patient access.

Roles: anonymous; patient ``alex`` (own record: alex; others: sam, of the same clinician, and
pat.other "Quinn Okafor", of another clinician); clinician ``dr.rivera`` (own: alex; other: Quinn);
admin (no clinical record is theirs). ``MATRIX`` states the expected status of each cell; a route of
the app without a row fails ``test_matrix_covers_every_route``.

Every request is valid for the record it names, so a refusal is about access, not the input. A
refused request writes nothing (row counts of the patient tables unchanged) and its body names no
patient the actor may not see; an allowed read or write of patient data leaves an ``audit_log`` row.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from service_support import COUNTED_TABLES, NAMES, PASSWORDS, Signed, World, csrf_of_page

from benzokit.service import schemas
from benzokit.store import records

try:
    from fastapi.routing import iter_route_contexts
except ImportError:  # FastAPI before lazily included routers: app.routes is already flat
    iter_route_contexts = iter  # type: ignore[assignment]

Role = Literal["anonymous", "patient", "clinician", "admin"]
ROLES: tuple[Role, ...] = ("anonymous", "patient", "clinician", "admin")
USER_OF: dict[Role, str] = {"patient": "alex", "clinician": "dr.rivera", "admin": "admin"}

# (relation, record) each role tries on a route about one patient's record (or one of its alerts)
PATIENT_TARGETS: dict[Role, tuple[tuple[str, str], ...]] = {
    "anonymous": (("other", "alex"),),
    "patient": (("own", "alex"), ("other", "sam"), ("other", "quinn")),
    "clinician": (("own", "alex"), ("other", "quinn")),
    "admin": (("other", "alex"), ("other", "quinn")),
}
# on enrolment the "record" is the clinician the new patient is assigned to
CLINICIAN_TARGETS: dict[Role, tuple[tuple[str, str], ...]] = {
    "anonymous": (("-", "dr.rivera"),),
    "patient": (("-", "dr.rivera"),),
    "clinician": (("own", "dr.rivera"), ("other", "dr.other")),
    "admin": (("-", "dr.rivera"),),
}
# the patients whose names a role must never receive
HIDDEN: dict[Role, tuple[str, ...]] = {
    "anonymous": ("alex", "sam", "quinn"),
    "patient": ("sam", "quinn"),
    "clinician": ("quinn",),
    "admin": ("alex", "sam", "quinn"),
}


@dataclass(frozen=True)
class Expect:
    """The expected status (and, for a redirect, the start of its Location)."""

    status: int
    location: str | None = None
    denied: bool = False  # a redirect that refuses (a page's "sign in first")

    @property
    def allowed(self) -> bool:
        return self.status < 400 and not self.denied

    def __str__(self) -> str:
        return f"{self.status}{' ' + self.location if self.location else ''}"


OK, CREATED, NO_CONTENT = Expect(200), Expect(201), Expect(204)
SIGN_IN, FORBIDDEN, NOT_FOUND = Expect(401), Expect(403), Expect(404)
REFUSED = Expect(422)  # a business rule on the named record (a clinician enrols only for themself)
TO_LOGIN = Expect(303, "/login", denied=True)  # pages: not signed in
SIGNED_OUT = Expect(303, "/login")  # the sign-out page's redirect after closing the session


def see_other(location: str) -> Expect:
    return Expect(303, location)


@dataclass(frozen=True)
class Target:
    """What one cell is about: the patient (id), one of their alerts, or a clinician's username."""

    role: Role
    relation: str  # own | other | -
    name: str  # alex | sam | quinn | dr.rivera | dr.other | -
    patient_id: int | None = None
    alert_id: int | None = None


@dataclass(frozen=True)
class Req:
    method: str
    url: str
    json: Any = None
    form: dict[str, str] | None = None


Cell = Expect | tuple[Expect, Expect]  # one outcome, or (own, other) on record routes


@dataclass(frozen=True)
class Row:
    """One route (one variant of it): expectations per role, how to call it, what an allowed call does."""

    scope: Literal["none", "patient", "alert", "clinician"]
    anonymous: Expect
    patient: Cell
    clinician: Cell
    admin: Cell
    build: Callable[[Context, Target, TestClient], Req]
    audit: Literal["read", "write"] | None = None  # the audit row an allowed call leaves
    audit_patient: Literal["target", "none", "new"] = "target"
    writes: Mapping[str, int] = field(default_factory=dict)  # row-count changes when allowed
    fresh_session: bool = False  # the call opens/closes sessions: use a throwaway one
    prepare: Callable[[Context, Target], None] | None = None  # before an allowed call
    variant: str = ""
    anonymous_becomes: Role = "anonymous"  # signing in: an anonymous caller becomes alex

    def expect(self, role: Role, relation: str) -> Expect:
        cell: Cell = getattr(self, role)
        if isinstance(cell, tuple):
            return cell[0] if relation == "own" else cell[1]
        return cell


# ----------------------------------------------------------------------------- the module's clinic


@dataclass
class Context:
    world: World
    signed: dict[Role, Signed]
    alerts: dict[str, int]  # patient name -> id of one of their alerts (a seizure)
    alert_keys: dict[str, str]  # patient name -> the key of that alert
    serial: Iterator[int] = field(default_factory=itertools.count)

    def unique(self, stem: str) -> str:
        return f"{stem}{next(self.serial)}{secrets.token_hex(2)}"

    def today(self) -> str:
        return self.world.clinic.today().isoformat()

    def session_for(self, role: Role, fresh: bool) -> tuple[TestClient, str | None, int | None]:
        """(client, CSRF token, user id) of ``role``; ``fresh``: a new session of its own."""
        if role == "anonymous":
            return self.world.client(), None, None
        signed = self.world.sign_in(USER_OF[role]) if fresh else self.signed[role]
        return signed.client, signed.csrf, signed.user_id


@pytest.fixture(scope="module")
def ctx(module_world: World) -> Context:
    w = module_world
    signed: dict[Role, Signed] = {role: w.sign_in(user) for role, user in USER_OF.items()}
    alerts: dict[str, int] = {}
    keys: dict[str, str] = {}
    for name, username in (("alex", "alex"), ("sam", "sam"), ("quinn", "pat.other")):
        result = w.clinic.recording.submit_checkin(
            w.accounts[username], w.patients[name], schemas.CheckInForm(seizures=1)
        )
        assert result.alerts and result.alerts[0].id is not None
        alerts[name] = result.alerts[0].id
        keys[name] = result.alerts[0].key
    return Context(w, signed, alerts, keys)


# ----------------------------------------------------------------------------- request builders


def api_get(suffix: str) -> Callable[[Context, Target, TestClient], Req]:
    return lambda c, t, _client: Req("GET", f"/api/v1/patients/{t.patient_id}{suffix}")


def get(url: str) -> Callable[[Context, Target, TestClient], Req]:
    return lambda c, t, _client: Req("GET", url)


def dose_body(c: Context, t: Target) -> dict[str, Any]:
    """Today's first planned dose of the target patient (alex for the routes without a record)."""
    time, drug, _ = c.world.doses_today(t.name if t.patient_id else "alex")[0]
    return {"day": c.today(), "time": time, "drug": drug, "status": "taken"}


def checkin_body() -> dict[str, Any]:
    return {
        "scales": {"gad7": {f"item{i}": 1 for i in range(1, 8)}},
        "sleep_hours": 7.5,
        "sleep_quality": 3,
        "note": "matrix check-in",
    }


def checkin_form() -> dict[str, str]:
    form = {f"gad7.item{i}": "1" for i in range(1, 8)}
    return form | {"sleep_hours": "7", "client_token": secrets.token_urlsafe(12)}


PLAN_BODIES: dict[str, dict[str, Any]] = {
    "pause": {"reason": "matrix: pause"},
    "resume": {"reason": "matrix: resume"},
    "slow": {"factor": 2, "reason": "matrix: slow"},
    "adjust": {"strategy": "guideline", "reason": "matrix: adjust"},
}
PLAN_WRITES: dict[str, dict[str, int]] = {
    "pause": {"pauses": 1},
    "resume": {},
    "slow": {"plan_versions": 1},
    "adjust": {"plan_versions": 1},
}


NOTIFY_BODY = {"email": "matrix@example.org", "timezone": "Europe/Berlin"}
NOTIFY_FORM = {"email": "matrix@example.org", "timezone": "Europe/Berlin"}

WRONG_PASSWORD = {"current_password": "not-my-password", "new_password": "another-password-1"}


def new_clinician(c: Context) -> dict[str, str]:
    return {
        "username": c.unique("clin.new"),
        "password": "a-long-password",
        "display_name": "Dr New Colleague",
    }


def new_patient(c: Context, t: Target) -> dict[str, str]:
    return {
        "username": c.unique("pat.new"),
        "password": "a-long-password",
        "display_name": "Newly Enrolled",
        "clinician": t.name,
        "current_regimen": "0.5 mg bid",
        "start_date": c.today(),
    }


def set_paused(paused: bool) -> Callable[[Context, Target], None]:
    """Make the taper paused (True) or running (False): the state an allowed resume (pause) needs."""

    def prepare(c: Context, t: Target) -> None:
        assert t.patient_id is not None
        w = c.world
        with w.clinic.db.transaction() as session:
            course = records.course(session, t.patient_id)
        assert course is not None
        if course.paused == paused:
            return
        rivera = w.accounts["dr.rivera"]
        if paused:
            w.clinic.steering.pause(
                rivera, t.patient_id, schemas.PauseForm(reason="matrix: set up")
            )
        else:
            w.clinic.steering.resume(
                rivera, t.patient_id, schemas.ResumeForm(reason="matrix: set up")
            )

    return prepare


PREPARE = {"pause": set_paused(False), "resume": set_paused(True)}


def login_form(c: Context, t: Target, client: TestClient) -> Req:
    """The sign-in form with its login CSRF token (the role's own credentials; anonymous: alex's)."""
    page = client.get("/login")
    assert page.status_code == 200
    username = USER_OF.get(t.role, "alex")
    form = {"username": username, "password": PASSWORDS[username]}
    return Req("POST", "/login", form=form | {"login_csrf": csrf_of_page(page.text, "login_csrf")})


def api_session(c: Context, t: Target, client: TestClient) -> Req:
    username = USER_OF.get(t.role, "alex")
    return Req(
        "POST", "/api/v1/session", json={"username": username, "password": PASSWORDS[username]}
    )


# ----------------------------------------------------------------------------- the matrix


def patient_read(build: Callable[[Context, Target, TestClient], Req]) -> Row:
    """A read of one patient's record: the patient's own and their clinician's, nobody else's."""
    return Row(
        "patient",
        SIGN_IN,
        patient=(OK, NOT_FOUND),
        clinician=(OK, NOT_FOUND),
        admin=NOT_FOUND,
        build=build,
        audit="read",
    )


def patient_page(url: str, audit: Literal["read"] | None = "read") -> Row:
    """A page of the signed-in patient's own record (no id in the URL: no one else's to ask for)."""
    return Row("none", TO_LOGIN, OK, FORBIDDEN, FORBIDDEN, get(url), audit=audit)


def plan_request(api: bool, action: str) -> Callable[[Context, Target, TestClient], Req]:
    def build(c: Context, t: Target, _client: TestClient) -> Req:
        if api:
            return Req(
                "POST", f"/api/v1/patients/{t.patient_id}/plan/{action}", PLAN_BODIES[action]
            )
        form = {k: str(v) for k, v in PLAN_BODIES[action].items()}
        return Req("POST", f"/clinic/patients/{t.patient_id}/{action}", form=form)

    return build


def _plan_rows() -> tuple[Row, ...]:
    return tuple(
        Row(
            "patient",
            SIGN_IN,
            patient=(FORBIDDEN, FORBIDDEN),
            clinician=(OK, NOT_FOUND),
            admin=FORBIDDEN,
            build=plan_request(True, action),
            audit="write",
            writes=PLAN_WRITES[action],
            prepare=PREPARE.get(action),
        )
        for action in ("pause", "resume", "slow", "adjust")
    )


def _page_plan_rows() -> tuple[Row, ...]:
    return tuple(
        Row(
            "patient",
            TO_LOGIN,
            patient=(FORBIDDEN, FORBIDDEN),
            clinician=(see_other("/clinic/patients/"), NOT_FOUND),
            admin=FORBIDDEN,
            build=plan_request(False, action),
            audit="write",
            writes=PLAN_WRITES[action],
            prepare=PREPARE.get(action),
            variant=action,
        )
        for action in ("pause", "resume", "slow", "adjust")
    )


def _page_preview_rows() -> tuple[Row, ...]:
    """A new plan previewed: read, audited as a read, nothing written."""

    def build(action: str) -> Callable[[Context, Target, TestClient], Req]:
        def made(c: Context, t: Target, _client: TestClient) -> Req:
            form = {k: str(v) for k, v in PLAN_BODIES[action].items()}
            return Req("POST", f"/clinic/patients/{t.patient_id}/{action}/preview", form=form)

        return made

    return tuple(
        Row(
            "patient",
            TO_LOGIN,
            patient=(FORBIDDEN, FORBIDDEN),
            clinician=(OK, NOT_FOUND),
            admin=FORBIDDEN,
            build=build(action),
            audit="read",
            variant=action,
        )
        for action in ("slow", "adjust")
    )


PAUSE, RESUME, SLOW, ADJUST = _plan_rows()

PACE_BODY = {"version": 1, "choice": "hold"}


def _pace_rows(api: bool) -> tuple[Row, ...]:
    """Accepting a pacing proposal: the patient's own clinician only. Alex's plan is paced by the
    ``fixed`` policy, so there is nothing to accept (422 naming the choice, nothing written): the
    row checks who may ask (``test_pacing_clinic.py`` accepts real proposals)."""

    def build(c: Context, t: Target, _client: TestClient) -> Req:
        if api:
            return Req("POST", f"/api/v1/patients/{t.patient_id}/plan/pacing", PACE_BODY)
        form = {k: str(v) for k, v in PACE_BODY.items()}
        return Req("POST", f"/clinic/patients/{t.patient_id}/pace", form=form)

    return (
        Row(
            "patient",
            SIGN_IN if api else TO_LOGIN,
            patient=(FORBIDDEN, FORBIDDEN),
            clinician=(REFUSED, NOT_FOUND),
            admin=FORBIDDEN,
            build=build,
            audit="write",  # an accepted proposal (see test_pacing_clinic.py)
            variant="" if api else "pace",
        ),
    )


MATRIX: dict[tuple[str, str], tuple[Row, ...]] = {
    # --- API: session
    ("POST", "/api/v1/session"): (
        Row(
            "none",
            OK,
            OK,
            OK,
            OK,
            api_session,
            writes={"sessions": 1},
            fresh_session=True,
            anonymous_becomes="patient",
        ),
    ),
    ("DELETE", "/api/v1/session"): (
        Row(
            "none",
            SIGN_IN,
            NO_CONTENT,
            NO_CONTENT,
            NO_CONTENT,
            lambda c, t, _client: Req("DELETE", "/api/v1/session"),
            writes={"sessions": -1},
            fresh_session=True,
        ),
    ),
    ("GET", "/api/v1/me"): (Row("none", SIGN_IN, OK, OK, OK, get("/api/v1/me")),),
    ("GET", "/api/v1/scales"): (Row("none", SIGN_IN, OK, OK, OK, get("/api/v1/scales")),),
    # --- API: the clinician's list and one patient's record
    ("GET", "/api/v1/patients"): (
        Row(
            "none",
            SIGN_IN,
            FORBIDDEN,
            OK,
            FORBIDDEN,
            get("/api/v1/patients"),
            audit="read",
            audit_patient="none",
        ),
    ),
    **{
        ("GET", f"/api/v1/patients/{{patient_id}}{suffix}"): (patient_read(api_get(suffix)),)
        for suffix in ("", "/today", "/doses", "/checkins", "/alerts", "/plan", "/trends", "/fhir")
    },
    ("POST", "/api/v1/patients/{patient_id}/doses"): (
        Row(
            "patient",
            SIGN_IN,
            patient=(CREATED, NOT_FOUND),
            clinician=(FORBIDDEN, FORBIDDEN),
            admin=FORBIDDEN,
            build=lambda c, t, _client: Req(
                "POST", f"/api/v1/patients/{t.patient_id}/doses", json=dose_body(c, t)
            ),
            audit="write",
            writes={"dose_logs": 1},
        ),
    ),
    ("POST", "/api/v1/patients/{patient_id}/checkins"): (
        Row(
            "patient",
            SIGN_IN,
            patient=(CREATED, NOT_FOUND),
            clinician=(FORBIDDEN, FORBIDDEN),
            admin=FORBIDDEN,
            build=lambda c, t, _client: Req(
                "POST", f"/api/v1/patients/{t.patient_id}/checkins", json=checkin_body()
            ),
            audit="write",
            writes={"checkins": 1},
        ),
    ),
    ("POST", "/api/v1/alerts/{alert_id}/acknowledge"): (
        Row(
            "alert",
            SIGN_IN,
            patient=(FORBIDDEN, FORBIDDEN),
            clinician=(OK, NOT_FOUND),
            admin=FORBIDDEN,
            build=lambda c, t, _client: Req("POST", f"/api/v1/alerts/{t.alert_id}/acknowledge"),
            audit="write",
        ),
    ),
    ("POST", "/api/v1/patients/{patient_id}/alerts/acknowledge"): (
        Row(
            "patient",
            SIGN_IN,
            patient=(FORBIDDEN, FORBIDDEN),
            clinician=(OK, NOT_FOUND),
            admin=FORBIDDEN,
            build=lambda c, t, _client: Req(
                "POST",
                f"/api/v1/patients/{t.patient_id}/alerts/acknowledge",
                json={"key": c.alert_keys[t.name]},
            ),
            audit="write",
        ),
    ),
    ("POST", "/api/v1/patients/{patient_id}/plan/pause"): (PAUSE,),
    ("POST", "/api/v1/patients/{patient_id}/plan/resume"): (RESUME,),
    ("POST", "/api/v1/patients/{patient_id}/plan/slow"): (SLOW,),
    ("POST", "/api/v1/patients/{patient_id}/plan/adjust"): (ADJUST,),
    ("GET", "/api/v1/patients/{patient_id}/plan/pacing"): (
        Row(
            "patient",
            SIGN_IN,
            patient=(FORBIDDEN, FORBIDDEN),
            clinician=(OK, NOT_FOUND),
            admin=FORBIDDEN,
            build=api_get("/plan/pacing"),
            audit="read",
        ),
    ),
    ("POST", "/api/v1/patients/{patient_id}/plan/pacing"): _pace_rows(api=True),
    ("GET", "/api/v1/admin/audit"): (
        Row(
            "none",
            SIGN_IN,
            FORBIDDEN,
            FORBIDDEN,
            OK,
            get("/api/v1/admin/audit"),
            audit="read",
            audit_patient="none",
        ),
    ),
    ("POST", "/api/v1/me/password"): (
        Row(
            "none",
            SIGN_IN,
            REFUSED,
            REFUSED,
            REFUSED,
            lambda c, t, _client: Req("POST", "/api/v1/me/password", json=WRONG_PASSWORD),
        ),
    ),
    # --- API: accounts
    ("POST", "/api/v1/admin/clinicians"): (
        Row(
            "none",
            SIGN_IN,
            FORBIDDEN,
            FORBIDDEN,
            CREATED,
            lambda c, t, _client: Req("POST", "/api/v1/admin/clinicians", json=new_clinician(c)),
            audit="write",
            audit_patient="none",
            writes={"users": 1},
        ),
    ),
    ("POST", "/api/v1/admin/patients"): (
        Row(
            "clinician",
            SIGN_IN,
            FORBIDDEN,
            (CREATED, REFUSED),
            CREATED,
            lambda c, t, _client: Req("POST", "/api/v1/admin/patients", json=new_patient(c, t)),
            audit="write",
            audit_patient="new",
            writes={"users": 1, "patients": 1, "plan_versions": 1},
        ),
    ),
    # --- API docs and static files: public
    ("GET", "/api/openapi.json"): (Row("none", OK, OK, OK, OK, get("/api/openapi.json")),),
    ("GET", "/api/docs"): (Row("none", OK, OK, OK, OK, get("/api/docs")),),
    ("GET", "/docs/oauth2-redirect"): (Row("none", OK, OK, OK, OK, get("/docs/oauth2-redirect")),),
    ("GET", "/static/{path}"): (Row("none", OK, OK, OK, OK, get("/static/style.css")),),
    # --- pages: sign-in
    ("GET", "/"): (
        Row(
            "none",
            TO_LOGIN,
            see_other("/me"),
            see_other("/clinic"),
            see_other("/admin"),
            get("/"),
        ),
    ),
    ("GET", "/login"): (Row("none", OK, OK, OK, OK, get("/login")),),
    ("POST", "/login"): (
        Row(
            "none",
            see_other("/"),
            see_other("/"),
            see_other("/"),
            see_other("/"),
            login_form,
            writes={"sessions": 1},
            fresh_session=True,
            anonymous_becomes="patient",
        ),
    ),
    ("POST", "/logout"): (
        Row(
            "none",
            TO_LOGIN,
            SIGNED_OUT,
            SIGNED_OUT,
            SIGNED_OUT,
            lambda c, t, _client: Req("POST", "/logout", form={}),
            writes={"sessions": -1},
            fresh_session=True,
        ),
    ),
    ("GET", "/help"): (Row("none", OK, OK, OK, OK, get("/help")),),
    # --- pages: patient
    ("GET", "/me"): (patient_page("/me"),),
    ("POST", "/me/doses"): (
        Row(
            "none",
            TO_LOGIN,
            see_other("/me?done=dose"),
            FORBIDDEN,
            FORBIDDEN,
            lambda c, t, _client: Req(
                "POST",
                "/me/doses",
                form=dose_body(c, t) | {"client_token": secrets.token_urlsafe(12)},
            ),
            audit="write",
            writes={"dose_logs": 1},
        ),
    ),
    ("GET", "/me/checkin"): (patient_page("/me/checkin", audit=None),),
    ("POST", "/me/checkin"): (
        Row(
            "none",
            SIGN_IN,  # the sign-in page, carrying the form (kept through signing in)
            see_other("/me?done=checkin"),
            FORBIDDEN,
            FORBIDDEN,
            lambda c, t, _client: Req("POST", "/me/checkin", form=checkin_form()),
            audit="write",
            writes={"checkins": 1},
        ),
    ),
    ("GET", "/me/history"): (patient_page("/me/history"),),
    # --- pages: clinician
    ("GET", "/clinic"): (
        Row(
            "none",
            TO_LOGIN,
            FORBIDDEN,
            OK,
            FORBIDDEN,
            get("/clinic"),
            audit="read",
            audit_patient="none",
        ),
    ),
    ("GET", "/clinic/patients/{patient_id}"): (
        Row(
            "patient",
            TO_LOGIN,
            patient=(FORBIDDEN, FORBIDDEN),
            clinician=(OK, NOT_FOUND),
            admin=FORBIDDEN,
            build=lambda c, t, _client: Req("GET", f"/clinic/patients/{t.patient_id}"),
            audit="read",
        ),
    ),
    ("POST", "/clinic/patients/{patient_id}/{action}"): (
        *_page_plan_rows(),
        *_pace_rows(api=False),
    ),
    ("POST", "/clinic/patients/{patient_id}/{action}/preview"): _page_preview_rows(),
    ("POST", "/clinic/alerts/{alert_id}/acknowledge"): (
        Row(
            "alert",
            TO_LOGIN,
            patient=(FORBIDDEN, FORBIDDEN),
            clinician=(see_other("/clinic/patients/"), NOT_FOUND),
            admin=FORBIDDEN,
            build=lambda c, t, _client: Req(
                "POST",
                f"/clinic/alerts/{t.alert_id}/acknowledge",
                form={"back": f"/clinic/patients/{t.patient_id}"},
            ),
            audit="write",
        ),
    ),
    ("POST", "/clinic/patients/{patient_id}/alerts/acknowledge"): (
        Row(
            "patient",
            TO_LOGIN,
            patient=(FORBIDDEN, FORBIDDEN),
            clinician=(see_other("/clinic/patients/"), NOT_FOUND),
            admin=FORBIDDEN,
            build=lambda c, t, _client: Req(
                "POST",
                f"/clinic/patients/{t.patient_id}/alerts/acknowledge",
                form={"key": c.alert_keys[t.name], "back": f"/clinic/patients/{t.patient_id}"},
            ),
            audit="write",
        ),
    ),
    # --- pages: administrator
    ("GET", "/admin"): (Row("none", TO_LOGIN, FORBIDDEN, FORBIDDEN, OK, get("/admin")),),
    # --- own account (a wrong current password: reachable, refused, nothing changed)
    ("GET", "/account"): (Row("none", TO_LOGIN, OK, OK, OK, get("/account")),),
    ("POST", "/account/password"): (
        Row(
            "none",
            TO_LOGIN,
            REFUSED,
            REFUSED,
            REFUSED,
            lambda c, t, _client: Req("POST", "/account/password", form=WRONG_PASSWORD),
        ),
    ),
    ("GET", "/admin/audit"): (
        Row(
            "none",
            TO_LOGIN,
            FORBIDDEN,
            FORBIDDEN,
            OK,
            get("/admin/audit"),
            audit="read",
            audit_patient="none",
        ),
    ),
    ("GET", "/admin/audit.csv"): (
        Row(
            "none",
            TO_LOGIN,
            FORBIDDEN,
            FORBIDDEN,
            OK,
            get("/admin/audit.csv"),
            audit="read",
            audit_patient="none",
        ),
    ),
    ("POST", "/admin/clinicians"): (
        Row(
            "none",
            TO_LOGIN,
            FORBIDDEN,
            FORBIDDEN,
            see_other("/admin?done=clinician"),
            lambda c, t, _client: Req("POST", "/admin/clinicians", form=new_clinician(c)),
            audit="write",
            audit_patient="none",
            writes={"users": 1},
        ),
    ),
    ("POST", "/admin/patients"): (
        Row(
            "clinician",
            TO_LOGIN,
            FORBIDDEN,
            (see_other("/admin?done=patient"), REFUSED),
            see_other("/admin?done=patient"),
            lambda c, t, _client: Req("POST", "/admin/patients", form=new_patient(c, t)),
            audit="write",
            audit_patient="new",
            writes={"users": 1, "patients": 1, "plan_versions": 1},
        ),
    ),
    # --- notifications: own e-mail settings, a record's calendar feed and handout
    ("GET", "/api/v1/me/notifications"): (
        Row(
            "none",
            SIGN_IN,
            OK,
            OK,
            FORBIDDEN,
            get("/api/v1/me/notifications"),
            audit="read",
            audit_patient="none",
        ),
    ),
    ("PUT", "/api/v1/me/notifications"): (
        Row(
            "none",
            SIGN_IN,
            OK,
            OK,
            FORBIDDEN,
            lambda c, t, _client: Req("PUT", "/api/v1/me/notifications", json=NOTIFY_BODY),
            audit="write",
            audit_patient="none",
        ),
    ),
    ("DELETE", "/api/v1/me/notifications"): (
        Row(
            "none",
            SIGN_IN,
            NO_CONTENT,
            NO_CONTENT,
            FORBIDDEN,
            lambda c, t, _client: Req("DELETE", "/api/v1/me/notifications"),
            audit="write",
            audit_patient="none",
        ),
    ),
    **{
        (method, "/api/v1/patients/{patient_id}/calendar-feed"): (
            Row(
                "patient",
                SIGN_IN,
                patient=(done, NOT_FOUND),
                clinician=(done, NOT_FOUND),
                admin=NOT_FOUND,
                build=lambda c, t, _client, m=method: Req(
                    m, f"/api/v1/patients/{t.patient_id}/calendar-feed"
                ),
                audit="write",
            ),
        )
        for method, done in (("POST", CREATED), ("DELETE", NO_CONTENT))
    },
    ("GET", "/api/v1/patients/{patient_id}/handout.pdf"): (patient_read(api_get("/handout.pdf")),),
    ("GET", "/patients/{patient_id}/handout.pdf"): (
        Row(
            "patient",
            TO_LOGIN,
            patient=(OK, NOT_FOUND),
            clinician=(OK, NOT_FOUND),
            admin=NOT_FOUND,
            build=lambda c, t, _client: Req("GET", f"/patients/{t.patient_id}/handout.pdf"),
            audit="read",
        ),
    ),
    ("GET", "/calendar/{token}.ics"): (
        Row("none", NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, get("/calendar/no-such-feed.ics")),
    ),
    ("GET", "/account/notifications"): (
        Row("none", TO_LOGIN, OK, OK, FORBIDDEN, get("/account/notifications")),
    ),
    ("POST", "/account/notifications"): (
        Row(
            "none",
            TO_LOGIN,
            see_other("/account/notifications?done=saved"),
            see_other("/account/notifications?done=saved"),
            FORBIDDEN,
            lambda c, t, _client: Req("POST", "/account/notifications", form=NOTIFY_FORM),
            audit="write",
            audit_patient="none",
        ),
    ),
    ("POST", "/account/calendar-feed"): (
        Row(
            "none",
            TO_LOGIN,
            OK,
            FORBIDDEN,
            FORBIDDEN,
            lambda c, t, _client: Req("POST", "/account/calendar-feed", form={"action": "new"}),
            audit="write",
        ),
    ),
}


# ----------------------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    row: Row
    role: Role
    relation: str
    name: str

    @property
    def expected(self) -> Expect:
        return self.row.expect(self.role, self.relation)

    @property
    def id(self) -> str:
        variant = f" ({self.row.variant})" if self.row.variant else ""
        record = "" if self.relation == "-" else f" {self.relation}:{self.name}"
        return f"{self.method} {self.path}{variant} | {self.role}{record} | {self.expected}"


def _targets(row: Row, role: Role) -> tuple[tuple[str, str], ...]:
    if row.scope in ("patient", "alert"):
        return PATIENT_TARGETS[role]
    if row.scope == "clinician":
        return CLINICIAN_TARGETS[role]
    return (("-", "-"),)


def all_cases() -> list[Case]:
    return [
        Case(method, path, row, role, relation, name)
        for (method, path), rows in MATRIX.items()
        for row in rows
        for role in ROLES
        for relation, name in _targets(row, role)
    ]


CASES = all_cases()


def target_of(c: Context, case: Case) -> Target:
    if case.row.scope == "patient":
        return Target(case.role, case.relation, case.name, c.world.patients[case.name])
    if case.row.scope == "alert":
        patient_id, alert_id = c.world.patients[case.name], c.alerts[case.name]
        return Target(case.role, case.relation, case.name, patient_id, alert_id)
    return Target(case.role, case.relation, case.name)


def app_route_keys(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app answers; HEAD goes with GET, a mount is a GET of its files."""
    keys: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        path = str(getattr(route, "path_format", None) or route.path)
        methods = set(getattr(route, "methods", None) or {"GET"})
        if "GET" in methods:
            methods.discard("HEAD")
        keys |= {(m, path) for m in methods}
    return keys


def test_matrix_covers_every_route(module_world: World) -> None:
    routes = app_route_keys(module_world.app)
    assert len(routes) > 40
    missing = sorted(routes - MATRIX.keys())
    assert not missing, f"routes without a row in the authorization matrix: {missing}"
    stale = sorted(MATRIX.keys() - routes)
    assert not stale, f"matrix rows for routes the app no longer has: {stale}"


def test_every_record_route_is_audited() -> None:
    """Whatever an allowed call on a patient's record does, it is a read or write of patient data."""
    unaudited = [
        key for key, rows in MATRIX.items() for r in rows if r.scope != "none" and not r.audit
    ]
    assert not unaudited


def test_matrix_has_own_and_other_cells() -> None:
    """Each role meets each record route both as its own record (where it has one) and another's."""
    by_route: dict[tuple[str, str, str], set[str]] = {}
    for case in CASES:
        by_route.setdefault((case.method, case.path, case.role), set()).add(case.relation)
    for (method, path, role), relations in by_route.items():
        row = MATRIX[(method, path)][0]
        if row.scope in ("patient", "alert"):
            wanted = {"own", "other"} if role in ("patient", "clinician") else {"other"}
            assert relations == wanted, (method, path, role)
    # patients are tried on a record of their own clinician's other patient and of another clinic
    assert {c.name for c in CASES if c.role == "patient" and c.relation == "other"} >= {
        "sam",
        "quinn",
    }


def _send(client: TestClient, req: Req, csrf: str | None) -> Any:
    is_api = req.url.startswith("/api/")
    unsafe = req.method not in ("GET", "HEAD")
    headers = {"X-CSRF-Token": csrf} if csrf and is_api and unsafe else {}
    if req.form is not None:
        form = dict(req.form) | ({"csrf_token": csrf} if csrf else {})
        return client.request(req.method, req.url, data=form, headers=headers)
    return client.request(req.method, req.url, json=req.json, headers=headers)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_access(ctx: Context, case: Case) -> None:
    w, row, expected = ctx.world, case.row, case.expected
    target = target_of(ctx, case)
    if expected.allowed and row.prepare is not None:
        row.prepare(ctx, target)
    client, csrf, user_id = ctx.session_for(case.role, row.fresh_session)
    req = row.build(ctx, target, client)
    before, audit_mark = w.counts(), w.last_audit_id()

    response = _send(client, req, csrf)

    after = w.counts()
    assert response.status_code == expected.status, response.text[:500]
    if expected.location is not None:
        location = response.headers["location"]
        if expected.denied:
            assert location == expected.location
        else:
            assert location.startswith(expected.location), location
    actor = row.anonymous_becomes if case.role == "anonymous" else case.role
    for hidden in HIDDEN[actor]:
        assert NAMES[hidden] not in response.text, f"{NAMES[hidden]} disclosed to {case.role}"
    changed = {t: after[t] - before[t] for t in after if after[t] != before[t]}
    if not expected.allowed:
        assert not {t: d for t, d in changed.items() if t in COUNTED_TABLES}, (
            f"a refused request wrote rows: {changed}"
        )
        return
    for table, delta in row.writes.items():
        assert changed.get(table, 0) == delta, f"{table}: {changed}"
    if row.audit is not None:
        assert_audited(ctx, case, target, user_id, w.audit_after(audit_mark))


def assert_audited(
    c: Context,
    case: Case,
    target: Target,
    user_id: int | None,
    rows: Iterable[dict[str, Any]],
) -> None:
    row = case.row
    mine = [r for r in rows if r["user_id"] == user_id and r["action"] == row.audit]
    if row.audit_patient == "none":
        assert any(r["patient_id"] is None for r in mine), mine
    elif row.audit_patient == "new":
        known = set(c.world.patients.values())
        assert any(r["patient_id"] is not None and r["patient_id"] not in known for r in mine)
    else:
        patient_id = target.patient_id or c.world.patients["alex"]  # the patient's own pages
        assert any(r["patient_id"] == patient_id for r in mine), (
            f"no {row.audit} audit row for patient {patient_id}: {mine}"
        )


def test_audit_names_actor_and_role(module_world: World, ctx: Context) -> None:
    """An audit row says who (user id and role) did what to which patient."""
    w = module_world
    mark = w.last_audit_id()
    rivera = ctx.signed["clinician"]
    assert rivera.get(f"/api/v1/patients/{w.patients['alex']}/fhir").status_code == 200
    rows = w.audit_after(mark)
    assert [(r["user_id"], r["role"], r["action"], r["what"], r["patient_id"]) for r in rows] == [
        (rivera.user_id, "clinician", "read", "fhir export", w.patients["alex"])
    ]


def test_clinician_list_holds_only_own_patients(ctx: Context) -> None:
    """GET /patients lists exactly the clinician's own patients (enrolled by the matrix too)."""
    w = ctx.world
    for username in ("dr.rivera", "dr.other"):
        listed = w.sign_in(username).get("/api/v1/patients").json()["patients"]
        with w.clinic.db.transaction() as session:
            own = {r.id for r in records.patients_of_clinician(session, w.accounts[username].id)}
        assert {p["patient"]["id"] for p in listed} == own
    rivera = {
        p["patient"]["id"]
        for p in ctx.signed["clinician"].get("/api/v1/patients").json()["patients"]
    }
    assert {w.patients["alex"], w.patients["sam"]} <= rivera
    assert w.patients["quinn"] not in rivera


def test_other_clinician_cannot_reach_rivera_patients(ctx: Context) -> None:
    """The mirror image of the matrix's clinician row: dr.other on alex's record and alert."""
    w = ctx.world
    other = w.sign_in("dr.other")
    alex = w.patients["alex"]
    before = w.counts()
    for url in (
        f"/api/v1/patients/{alex}",
        f"/api/v1/patients/{alex}/fhir",
        f"/clinic/patients/{alex}",
    ):
        response = other.get(url)
        assert response.status_code == 404, url
        assert NAMES["alex"] not in response.text
    assert (
        other.post(f"/api/v1/patients/{alex}/plan/pause", json=PLAN_BODIES["pause"]).status_code
        == 404
    )
    assert other.post(f"/api/v1/alerts/{ctx.alerts['alex']}/acknowledge").status_code == 404
    assert w.counts() == before


def test_unknown_and_forbidden_records_look_the_same(ctx: Context) -> None:
    """404 for another's record reads exactly like 404 for a record that does not exist."""
    alex = ctx.signed["patient"]
    hidden = alex.get(f"/api/v1/patients/{ctx.world.patients['quinn']}/plan")
    missing = alex.get("/api/v1/patients/987654/plan")
    assert hidden.status_code == missing.status_code == 404
    quinn_id, unknown = str(ctx.world.patients["quinn"]), "987654"
    assert hidden.json()["error"]["message"].replace(quinn_id, "N") == missing.json()["error"][
        "message"
    ].replace(unknown, "N")
