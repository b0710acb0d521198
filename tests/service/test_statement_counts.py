"""The database work of a request does not grow with the clinic: the SQL statements of the main requests
(counted by a SQLAlchemy event listener on the app's engine) are the same for a clinic of 2 patients
and one of 200, and a read writes nothing but its audit row.

The 200-patient clinic is the seeded one plus 198 patients of ``dr.rivera`` inserted straight into the
store (each with alex's plan as its first version, a few check-ins, dose confirmations and an alert),
so that every per-patient query the patient list could make has rows to find.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from service_support import Clock, Signed, World, build_world
from sqlalchemy import event, select

from benzokit.monitor.records import Alert, AlertLevel, CheckIn, DoseLog, DoseStatus
from benzokit.store import records
from benzokit.store.tables import PatientRow, PlanVersionRow, User

BIG_CLINIC = 200


def add_patients(world: World, count: int) -> None:
    """``count`` more patients of dr.rivera, each with alex's plan, history and an open alert."""
    clinic = world.clinic
    now = world.clock.now
    with clinic.db.transaction() as session:
        alex = session.scalars(
            select(PlanVersionRow).where(PlanVersionRow.patient_id == world.patients["alex"])
        ).first()
        assert alex is not None
        rivera = world.accounts["dr.rivera"].id
        for n in range(count):
            user = User(
                username=f"load{n}",
                password_hash="-",
                role="patient",
                display_name=f"Load {n}",
                active=True,
                created_at=now,
            )
            session.add(user)
            session.flush()
            row = PatientRow(
                user_id=user.id,
                clinician_id=rivera,
                display_name=f"Load {n}",
                drug="clonazepam",
                comedications=[],
                conditions=[],
                locale="en-US",
                enrolled_at=now - timedelta(days=30),
            )
            session.add(row)
            session.flush()
            session.add(
                PlanVersionRow(
                    patient_id=row.id,
                    number=1,
                    plan=alex.plan,
                    change=alex.change,
                    reason="",
                    created_by=rivera,
                    created_at=alex.created_at,
                )
            )
            for back in range(3):
                day = clinic.today() - timedelta(days=back)
                records.add_dose_log(
                    session,
                    row.id,
                    DoseLog(day, "08:00", "clonazepam", 0.5, DoseStatus.TAKEN, now, 0.5, now),
                    client_token=None,
                )
                records.add_checkin(
                    session, row.id, CheckIn(now - timedelta(days=back), ()), client_token=None
                )
            records.add_alerts(
                session,
                row.id,
                [Alert("seizure", AlertLevel.URGENT, "seizure", "test", now, key=f"s{n}")],
            )


@contextmanager
def counted(world: World) -> Iterator[list[str]]:
    """The SQL statements run on the app's database within the block."""
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = world.clinic.db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _requests(world: World) -> dict[str, Callable[[Signed, Signed], Any]]:
    alex = world.patients["alex"]
    day = world.clinic.today()
    time, drug, _ = world.doses_today("alex")[0]
    gad7 = {f"item{i}": 1 for i in range(1, 8)}
    return {
        "patient list": lambda p, c: c.get("/api/v1/patients"),
        "clinician patient page": lambda p, c: c.get(f"/clinic/patients/{alex}"),
        "patient page (today)": lambda p, c: p.get("/me"),
        "today": lambda p, c: p.get(f"/api/v1/patients/{alex}/today"),
        "check-in": lambda p, c: p.post(
            f"/api/v1/patients/{alex}/checkins", {"scales": {"gad7": gad7}}
        ),
        "dose confirmation": lambda p, c: p.post(
            f"/api/v1/patients/{alex}/doses",
            {"day": day.isoformat(), "time": time, "drug": drug, "status": "taken"},
        ),
    }


def statement_counts(world: World) -> dict[str, list[str]]:
    patient, clinician = world.sign_in("alex"), world.sign_in("dr.rivera")
    found = {}
    for name, call in _requests(world).items():
        call(patient, clinician)  # warm: the first request of a kind may fill caches
        with counted(world) as statements:
            response = call(patient, clinician)
        assert response.status_code in (200, 201), (name, response.text[:300])
        found[name] = statements
    return found


@pytest.fixture(scope="module")
def small_and_big(
    tmp_path_factory: pytest.TempPathFactory, clinic_template: Path
) -> Iterator[tuple[dict[str, list[str]], dict[str, list[str]]]]:
    small = build_world(
        tmp_path_factory.mktemp("small") / "c.db", Clock(), template=clinic_template
    )
    big = build_world(tmp_path_factory.mktemp("big") / "c.db", Clock(), template=clinic_template)
    try:
        add_patients(big, BIG_CLINIC - 2)
        yield statement_counts(small), statement_counts(big)
    finally:
        small.close()
        big.close()


REQUESTS = (
    "patient list",
    "clinician patient page",
    "patient page (today)",
    "today",
    "check-in",
    "dose confirmation",
)


@pytest.mark.parametrize("name", REQUESTS)
def test_statements_do_not_grow_with_the_clinic(
    small_and_big: tuple[dict[str, list[str]], dict[str, list[str]]], name: str
) -> None:
    small, big = small_and_big
    assert len(small[name]) == len(big[name]), (len(small[name]), len(big[name]), big[name])


WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\s+(INTO\s+)?(\w+)", re.IGNORECASE)


@pytest.mark.parametrize(
    "name", ["patient list", "clinician patient page", "patient page (today)", "today"]
)
def test_reads_write_only_their_audit_rows(
    small_and_big: tuple[dict[str, list[str]], dict[str, list[str]]], name: str
) -> None:
    _, big = small_and_big
    written = {m.group(3) for s in big[name] if (m := WRITE.match(s))}
    assert written <= {"audit_log"}, written


@pytest.mark.parametrize(
    ("name", "at_most"),
    [("check-in", 7), ("dose confirmation", 7), ("today", 6), ("patient list", 8)],
)
def test_main_requests_stay_lean(
    small_and_big: tuple[dict[str, list[str]], dict[str, list[str]]], name: str, at_most: int
) -> None:
    _, big = small_and_big
    assert len(big[name]) <= at_most, [s.split("\n")[0][:90] for s in big[name]]
