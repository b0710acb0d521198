"""What every use case shares: the database, the clinic's clock and zone, transactions, the audit row."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from benzokit.errors import InputError
from benzokit.safety.context import PatientContext
from benzokit.store import records
from benzokit.store.accounts import Account
from benzokit.store.db import Database
from benzokit.store.tables import PatientRow

Clock = Callable[[], datetime]
T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


class ClinicBase:
    """The database, the clinic's clock and time zone, transactions and the audit log."""

    def __init__(self, db: Database, *, timezone: str = "UTC", clock: Clock = utc_now) -> None:
        self.db = db
        try:
            self.zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise InputError(
                "--timezone", timezone, "an IANA time zone such as Europe/Berlin or UTC"
            ) from error
        self.clock = clock

    # ------------------------------------------------------------------ helpers

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    def today(self) -> date:
        return self.clock().astimezone(self.zone).date()

    def local_time(self, day: date, hhmm: str) -> datetime:
        hour, minute = map(int, hhmm.split(":"))
        return datetime.combine(day, time(hour, minute), self.zone).astimezone(UTC)

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with self.db.transaction() as session:
            yield session

    def audit(
        self,
        session: Session,
        actor: Account,
        action: str,
        what: str,
        patient_id: int | None,
        *,
        detail: str = "",
    ) -> None:
        """One audit-log row for ``actor``, in ``session``'s transaction (the system actor has no id)."""
        records.audit(
            session,
            at=self.now(),
            user_id=actor.id or None,
            role=str(actor.role),
            action=action,
            what=what,
            patient_id=patient_id,
            detail=detail,
        )

    def context_of(self, row: PatientRow) -> PatientContext:
        age = None if row.birth_year is None else float(self.today().year - row.birth_year)
        return PatientContext.create(
            age_y=age,
            weight_kg=row.weight_kg,
            comedications=row.comedications or (),
            conditions=row.conditions or (),
            indication=row.indication,
        )
