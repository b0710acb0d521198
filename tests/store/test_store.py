"""The store on SQLite and a real PostgreSQL: migrations, round trips of the record, backup and restore."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from benzokit.errors import InputError
from benzokit.monitor.records import CheckIn, DoseLog, DoseStatus
from benzokit.monitor.scales import score_scale
from benzokit.service.clinic import Clinic
from benzokit.service.demo import DEMO_LOGINS, seed_demo
from benzokit.service.unit import Unit
from benzokit.store import records
from benzokit.store.backup import dump, restore, write_backup
from benzokit.store.db import Database, head_revision, schema_revision
from benzokit.store.tables import TABLES_IN_ORDER, Base, CheckInRow

NOW = datetime(2027, 2, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'clinic.db'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


def test_migrations_build_exactly_the_tables_of_the_code(db: Database) -> None:
    assert schema_revision(db.engine) == head_revision()
    with db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_opening_again_is_a_no_op(database_url: str) -> None:
    Database(database_url).dispose()
    again = Database(database_url)
    assert schema_revision(again.engine) == head_revision()
    again.dispose()


def test_the_record_round_trips_with_timezones(db: Database) -> None:
    clinic = Clinic(Unit(db, clock=lambda: NOW))
    assert seed_demo(clinic)
    assert not seed_demo(clinic)  # only in an empty database
    with db.transaction() as session:
        patient = records.patients_of_clinician(session, 2)[0]
        log = records.add_dose_log(
            session,
            patient.id,
            DoseLog(
                NOW.date(),
                "08:00",
                "clonazepam",
                0.5,
                DoseStatus.DIFFERENT,
                NOW,
                taken_mg=0.25,
                taken_at=NOW - timedelta(hours=1),
            ),
            client_token="tok-00000001",
        )
        again = records.add_dose_log(session, patient.id, log, client_token="tok-00000001")
        score = score_scale("phq9", {f"item{i}": i % 4 for i in range(1, 10)})
        saved = records.add_checkin(
            session, patient.id, CheckIn(NOW, (score,), seizures=1, note="ü"), client_token=None
        )
    assert again.id == log.id  # a retry with the same token is the same record
    with db.transaction() as session:
        logs = records.dose_logs(session, patient.id)
        back = records.checkins(session, patient.id)[-1]
    assert logs[-1] == log
    assert logs[-1].taken_at == NOW - timedelta(hours=1)
    assert logs[-1].taken_at.tzinfo is not None
    assert back == saved
    assert back.scales == (score,)


def test_a_failed_transaction_leaves_nothing(db: Database) -> None:
    clinic = Clinic(Unit(db, clock=lambda: NOW))
    seed_demo(clinic)
    with db.transaction() as session:
        before = session.scalar(select(func.count()).select_from(CheckInRow))
    with pytest.raises(RuntimeError), db.transaction() as session:
        records.add_checkin(session, 1, CheckIn(NOW, note="half"), client_token=None)
        raise RuntimeError("crash mid-request")
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(CheckInRow)) == before


def test_backup_and_restore_round_trip(db: Database, database_url: str, tmp_path: Path) -> None:
    seed_demo(Clinic(Unit(db, clock=lambda: NOW)))
    backup = tmp_path / "backup.json"
    counts = write_backup(db, backup)
    assert (
        counts["users"] == len(DEMO_LOGINS) and counts["checkins"] > 0 and counts["dose_logs"] > 0
    )
    target_url = f"sqlite:///{tmp_path / 'restored.db'}"
    target = Database(target_url)
    assert restore(target, backup) == counts
    original, restored = dump(db), dump(target)
    assert restored["tables"] == original["tables"]
    # the restored database keeps working: new rows get ids past the restored ones
    with target.transaction() as session:
        new = records.add_checkin(session, 1, CheckIn(NOW, note="after restore"), client_token=None)
    assert new.id is not None and new.id > max(r["id"] for r in original["tables"]["checkins"])
    target.dispose()


def test_restore_into_postgresql_moves_the_id_sequences(
    tmp_path: Path, fresh_postgres_url: str
) -> None:
    source = Database(f"sqlite:///{tmp_path / 'source.db'}")
    seed_demo(Clinic(Unit(source, clock=lambda: NOW)))
    backup = tmp_path / "backup.json"
    write_backup(source, backup)
    target = Database(fresh_postgres_url)
    restore(target, backup)
    with target.transaction() as session:
        new = records.add_checkin(session, 1, CheckIn(NOW, note="after restore"), client_token=None)
    assert new.id is not None and new.id > len(dump(source)["tables"]["checkins"])
    assert dump(target)["tables"]["users"] == dump(source)["tables"]["users"]
    target.dispose()


def test_restore_refuses_what_it_must_not_overwrite(db: Database, tmp_path: Path) -> None:
    seed_demo(Clinic(Unit(db, clock=lambda: NOW)))
    backup = tmp_path / "backup.json"
    write_backup(db, backup)
    with pytest.raises(InputError, match="empty database"):
        restore(db, backup)
    document = json.loads(backup.read_text())
    document["schema_revision"] = "9999"
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps(document))
    empty = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(InputError, match="schema revision"):
        restore(empty, wrong)
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    with pytest.raises(InputError, match="backup file"):
        restore(empty, garbage)
    with empty.transaction() as session:
        assert all(
            session.scalar(select(func.count()).select_from(model)) == 0
            for model in TABLES_IN_ORDER
        )


def test_a_bad_database_url_names_the_setting() -> None:
    with pytest.raises(InputError, match="database_url"):
        Database("mysql://nobody@localhost/db")
    with pytest.raises(InputError, match="database_url"):
        Database("not a url")


def test_the_database_side_reads_equal_the_record_read_in_full(db: Database) -> None:
    """What the pages read summed, ranked or paged in the database equals what the full read of the
    record gives in Python, corrections, missed doses and check-ins without scales included."""
    clinic = Clinic(Unit(db, clock=lambda: NOW))
    assert seed_demo(clinic)
    with db.transaction() as session:
        patient = records.patients_of_clinician(session, 2)[0].id
        for back in range(6):
            day = NOW.date() - timedelta(days=back)
            for n, (time, mg) in enumerate((("08:00", 0.5), ("20:00", 0.375))):
                at = NOW - timedelta(days=back, hours=n)
                status = DoseStatus.MISSED if back == 2 and n else DoseStatus.TAKEN
                taken = None if status is DoseStatus.MISSED else mg
                log = DoseLog(day, time, "clonazepam", mg, status, at, taken, at)
                records.add_dose_log(session, patient, log, client_token=None)
                if back % 3 == 0:  # a correction, recorded later: it replaces the first
                    fixed = DoseLog(
                        day, time, "clonazepam", mg, DoseStatus.DIFFERENT, at + timedelta(hours=2),
                        mg / 3, at,
                    )  # fmt: skip
                    records.add_dose_log(session, patient, fixed, client_token=None)
            scales = (score_scale("gad7", {f"item{i}": back % 4 for i in range(1, 8)}),)
            checkin = CheckIn(
                NOW - timedelta(days=back), scales if back % 2 else (), note=f"{back}"
            )
            records.add_checkin(session, patient, checkin, client_token=None)
    with db.transaction() as session:
        latest = records.latest_dose_logs(records.dose_logs(session, patient))
        full = records.checkins(session, patient)
        days = records.dose_days(session, patient)
        skips = range(0, days.doses + 8, 4)  # one page past the end
        pages = [records.latest_dose_page(session, patient, skip=s, size=4) for s in skips]
        scored = records.scored_checkins(session, patient)
        by_id = records.checkins_by_id(session, patient, [c.id for c in full[::2] if c.id])
        since = NOW.date() - timedelta(days=3)
        statuses = records.latest_dose_statuses(session, [patient], since=since)[patient]
    taken: dict[object, float] = {}
    for log in latest:
        taken[log.day] = taken.get(log.day, 0.0) + (log.taken_mg or 0.0)
    assert days.taken_mg == pytest.approx(taken) and days.doses == len(latest)
    assert [log for page in pages for log in page] == list(reversed(latest))
    assert not pages[-1] and len(pages[0]) == 4
    assert statuses == {(d.day, d.time, d.drug): d.status for d in latest if d.day >= since}
    assert len(scored) == len(full) and any(c.scales for c in full)
    for short, whole in zip(scored, full, strict=True):
        assert short.scales == tuple(
            type(s)(s.scale, s.version, (), s.total, s.band) for s in whole.scales
        )
        assert (short.id, short.recorded_at, short.note) == (
            whole.id,
            whole.recorded_at,
            whole.note,
        )
    assert by_id == {c.id: c for c in full[::2]}
