"""Requests racing each other: the same retry token from several threads at once is saved once, and
so is a derived alert that several clinicians acknowledge at once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import func, select

from benzokit.monitor.alerts import load_alert_rules
from benzokit.service import schemas
from benzokit.service.clinic import Clinic
from benzokit.service.demo import seed_demo
from benzokit.service.unit import Unit
from benzokit.store import records
from benzokit.store.accounts import find_account
from benzokit.store.db import Database
from benzokit.store.tables import AlertRow, CheckInRow, DoseLogRow

T = TypeVar("T")
THREADS = 6
GAD7 = {f"item{i}": 1 for i in range(1, 8)}


@pytest.fixture(params=["sqlite", "postgresql"])
def clinic(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Clinic]:
    url = (
        f"sqlite:///{tmp_path / 'race.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("fresh_postgres_url")
    )
    clinic = Clinic(Database(url))
    seed_demo(clinic)
    yield clinic
    clinic.db.dispose()


def race(action: Callable[[], T]) -> list[T]:
    """Run ``action`` in several threads released together; every outcome (or the first error)."""
    barrier = threading.Barrier(THREADS)
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(action())
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_racing_check_ins_with_one_token_make_one_record(clinic: Clinic) -> None:
    with clinic.db.transaction() as session:
        alex = find_account(session, "alex")
    assert alex is not None
    patient_id = clinic.reading.my_patient_id(alex)
    form = schemas.CheckInForm(
        scales={"gad7": GAD7}, note="double tap", client_token="tap-00000001"
    )
    results = race(lambda: clinic.recording.submit_checkin(alex, patient_id, form))
    assert len({r.checkin.id for r in results}) == 1
    assert sum(not r.repeated for r in results) == 1
    with clinic.db.transaction() as session:
        count = session.scalar(
            select(func.count())
            .select_from(CheckInRow)
            .where(CheckInRow.client_token == "tap-00000001")
        )
    assert count == 1


def test_racing_dose_confirmations_with_one_token_make_one_record(clinic: Clinic) -> None:
    with clinic.db.transaction() as session:
        alex = find_account(session, "alex")
    assert alex is not None
    patient_id = clinic.reading.my_patient_id(alex)
    # yesterday's first dose: its time has come whatever the hour the test runs at (today's 08:00 dose
    # is still ahead before 08:00, and a dose still ahead is rightly refused)
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    slot = clinic.reading.today_view(alex, patient_id, yesterday).slots[0]
    form = schemas.DoseConfirmation(
        day=slot.day, time=slot.time, status="taken", client_token="dose-0000001"
    )
    results = race(lambda: clinic.recording.confirm_dose(alex, patient_id, form))
    assert len({r.id for r in results}) == 1
    with clinic.db.transaction() as session:
        count = session.scalar(
            select(func.count())
            .select_from(DoseLogRow)
            .where(DoseLogRow.client_token == "dose-0000001")
        )
    assert count == 1


def test_racing_acknowledgements_of_a_derived_alert_save_it_once(clinic: Clinic) -> None:
    quiet_days = load_alert_rules().no_checkin.days.value
    later = Clinic(
        Unit(clinic.db, clock=lambda: datetime.now(UTC) + timedelta(days=quiet_days + 1))
    )
    with clinic.db.transaction() as session:
        rivera, sam = find_account(session, "dr.rivera"), find_account(session, "sam")
        assert rivera is not None and sam is not None
        record = records.patient_of_user(session, sam.id)
    assert record is not None
    (quiet,) = [a for a in later.reading.alerts(rivera, record.id) if a.code == "MON-NO-CHECKIN"]
    assert quiet.id is None  # derived: not saved by the read
    results = race(lambda: later.steering.acknowledge_key(rivera, record.id, quiet.key))
    assert len({r.id for r in results}) == 1
    assert len({r.acknowledged_at for r in results}) == 1 and results[0].acknowledged_at
    with clinic.db.transaction() as session:
        count = session.scalar(
            select(func.count()).select_from(AlertRow).where(AlertRow.key == quiet.key)
        )
    assert count == 1
