"""Helpers of the service tests: a seeded clinic on SQLite, a settable clock, signed-in API
clients and the row counts / audit rows the tests compare (fixtures: ``conftest.py``).

The clinic is the demo seed (``dr.rivera`` with ``alex`` and ``sam``, an ``admin``) plus a second
clinician ``dr.other`` with their own patient ``pat.other`` (shown as "Quinn Okafor"), so that every
role has records it may and may not see.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from benzokit.knowledge import Knowledge
from benzokit.service import schemas
from benzokit.service.app import create_app
from benzokit.service.clinic import Clinic
from benzokit.service.demo import seed_demo
from benzokit.service.enrol import SYSTEM
from benzokit.service.settings import ServiceSettings
from benzokit.store import records
from benzokit.store.accounts import Account, find_account

# A fixed "now": the demo seed puts alex 20 days into the taper before it (plan start 2026-02-18).
T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)

PASSWORDS = {
    "admin": "demo-administrator",
    "dr.rivera": "demo-clinician",
    "alex": "demo-patient-alex",
    "sam": "demo-patient-sam",
    "dr.other": "other-clinician-pw",
    "pat.other": "other-patient-pw",
}
# display names of the three patient records (what must never leak to whoever may not see them)
NAMES = {"alex": "Alex Morgan", "sam": "Sam Lee", "quinn": "Quinn Okafor"}

# the tables that hold patient data or accounts: a refused request changes none of them
COUNTED_TABLES = (
    "dose_logs",
    "checkins",
    "scale_scores",
    "alerts",
    "plan_versions",
    "pauses",
    "patients",
    "users",
)


class Clock:
    """A settable clock for ``ServiceSettings(clock=...)``: tz-aware UTC, moves only when told."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta

    def set_day(self, day: date, hour: int = 12) -> None:
        self.now = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@dataclass
class Signed:
    """An API client signed in as one account, with its session's CSRF token."""

    client: TestClient
    csrf: str
    account: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf}

    @property
    def user_id(self) -> int:
        return int(self.account["id"])

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, **kw)

    def post(self, url: str, json: Any = None, **kw: Any) -> Any:
        headers = {**self.headers, **kw.pop("headers", {})}
        return self.client.post(url, json=json, headers=headers, **kw)


@dataclass
class World:
    """The app, its clock, the patients' ids and the accounts, plus helpers to read the database."""

    app: FastAPI
    clock: Clock
    patients: dict[str, int]  # alex, sam, quinn -> patient id
    accounts: dict[str, Account]  # username -> account
    _clients: list[TestClient] = field(default_factory=list)

    @property
    def clinic(self) -> Clinic:
        clinic: Clinic = self.app.state.clinic
        return clinic

    def client(self) -> TestClient:
        """A new client without a session (closed with the world)."""
        client = TestClient(self.app, follow_redirects=False, raise_server_exceptions=False)
        self._clients.append(client)
        return client

    def sign_in(self, username: str) -> Signed:
        client = self.client()
        response = client.post(
            "/api/v1/session", json={"username": username, "password": PASSWORDS[username]}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        return Signed(client, body["csrf_token"], body["account"])

    def counts(self) -> dict[str, int]:
        with self.clinic.db.engine.connect() as connection:
            return {
                table: int(connection.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
                for table in (*COUNTED_TABLES, "sessions")
            }

    def last_audit_id(self) -> int:
        with self.clinic.db.engine.connect() as connection:
            return int(connection.scalar(text("SELECT max(id) FROM audit_log")) or 0)

    def audit_after(self, audit_id: int) -> list[dict[str, Any]]:
        with self.clinic.db.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT id, user_id, role, action, what, patient_id, detail FROM audit_log"
                    " WHERE id > :after ORDER BY id"
                ),
                {"after": audit_id},
            )
            return [dict(r._mapping) for r in rows]

    def doses_today(self, patient: str) -> list[tuple[str, str, float]]:
        """(time, drug, mg) of the patient's planned doses today, read straight from the store."""
        with self.clinic.db.transaction() as session:
            course = records.course(session, self.patients[patient])
        assert course is not None
        return [(str(d.time), d.drug, d.dose_mg) for d in course.doses_on(self.clinic.today())]

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self.clinic.db.dispose()


def build_world(
    db: Path | str,
    clock: Clock | None = None,
    *,
    template: Path | None = None,
    knowledge: Knowledge | None = None,
    **settings: Any,
) -> World:
    """A migrated clinic: the demo seed plus ``dr.other`` and ``pat.other``. ``db``: a SQLite file,
    or a database URL (an empty database, e.g. ``fresh_postgres_url``).

    ``template``: a SQLite file this function made before (clock at ``T0``), copied instead of
    seeding again (seeding hashes six passwords and plans three tapers: about a second).
    ``knowledge``: the clinic's knowledge base (default: the shipped files).
    """
    clock = clock or Clock()
    url = db if isinstance(db, str) else f"sqlite:///{db}"
    if template is not None:
        assert isinstance(db, Path) and clock.now == T0, "the template is a SQLite file at T0"
        shutil.copyfile(template, db)
    app = create_app(
        ServiceSettings(database_url=url, clock=clock, **settings), knowledge=knowledge
    )
    clinic: Clinic = app.state.clinic
    if template is None:
        _seed(clinic)
    accounts: dict[str, Account] = {}
    patients: dict[str, int] = {}
    with clinic.db.transaction() as session:
        for name in PASSWORDS:
            account = find_account(session, name)
            assert account is not None, name
            accounts[name] = account
        for name, username in (("alex", "alex"), ("sam", "sam"), ("quinn", "pat.other")):
            row = records.patient_of_user(session, accounts[username].id)
            assert row is not None, name
            patients[name] = row.id
    return World(app, clock, patients, accounts)


def _seed(clinic: Clinic) -> None:
    assert seed_demo(clinic)
    clinic.enrolment.create_clinician(
        SYSTEM,
        schemas.NewClinician(
            username="dr.other", password=PASSWORDS["dr.other"], display_name="Dr Omar Other"
        ),
    )
    clinic.enrolment.create_patient(
        SYSTEM,
        schemas.NewPatient(
            username="pat.other",
            password=PASSWORDS["pat.other"],
            display_name=NAMES["quinn"],
            clinician="dr.other",
            indication="panic",
            birth_year=1979,
            weight_kg=80,
            current_regimen="1 mg at bedtime",
            start_date=clinic.today() - timedelta(days=3),
        ),
    )


def make_template(folder: Path) -> Path:
    """A seeded clinic database at ``T0``, closed (WAL checkpointed) so that it can be copied."""
    path = folder / "template.db"
    build_world(path, Clock()).close()
    assert not path.with_name(path.name + "-wal").exists()
    return path


def field_names(response: Any) -> list[str]:
    """The fields an error response names (an InputError's ``field`` or the validation ``fields``)."""
    error = response.json()["error"]
    if "field" in error:
        return [error["field"]]
    return [f["field"] for f in error.get("fields", ())]


def csrf_of_page(html: str, name: str = "csrf_token") -> str:
    """The value of the hidden form field ``name`` on a page."""
    match = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert match, f"no hidden {name} on the page"
    return match.group(1)
