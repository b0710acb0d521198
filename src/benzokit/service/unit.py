"""The unit of work every use case receives, and the one shape of a use case.

**The shape.** A use case is a method of a small per-area class (:class:`UseCases` subclasses:
``Reading``, ``Recording``, ``Steering``, ``Enrolment``, ``SignIn``, ``AuditLog``). Each method

1. checks access first (``require_role`` / ``patient_for`` in :mod:`benzokit.service.access`),
2. runs in one transaction of the unit (``with self.unit.transaction() as session``), reading and
   writing only through the repository (:mod:`benzokit.store.records`, :mod:`benzokit.store.accounts`),
   which takes and returns values, never ORM rows,
3. writes its audit row in that same transaction (``self.unit.audit``), reads included,

and returns an immutable value (:mod:`benzokit.service.views`). The web edge (pages, API) and the CLI
only translate requests into these calls. Reads never write domain data (only their audit row).

**The unit.** :class:`Unit` is what the use cases share: the database, the clinic's clock and time zone,
and the :class:`~benzokit.knowledge.Knowledge` (shipped data files or a clinic's overlay), which the use
cases pass down to the plan, check, scale and alert-rule loaders.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from benzokit.errors import InputError
from benzokit.knowledge import Knowledge
from benzokit.safety.context import PatientContext
from benzokit.store import records
from benzokit.store.accounts import Account
from benzokit.store.db import Database
from benzokit.store.records import PatientRecord

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Unit:
    """The database, the clinic's clock and time zone, the knowledge base, transactions, the audit row."""

    def __init__(
        self,
        db: Database,
        *,
        timezone: str = "UTC",
        clock: Clock = utc_now,
        knowledge: Knowledge | None = None,
    ) -> None:
        self.db = db
        try:
            self.zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise InputError(
                "timezone", timezone, "an IANA time zone such as Europe/Berlin or UTC"
            ) from error
        self.clock = clock
        self.knowledge = knowledge or Knowledge.shipped()

    def now(self) -> datetime:
        """The current moment, UTC."""
        return self.clock().astimezone(UTC)

    def today(self) -> date:
        """Today in the clinic's time zone."""
        return self.clock().astimezone(self.zone).date()

    def local_time(self, day: date, hhmm: str) -> datetime:
        """``hhmm`` on ``day`` in the clinic's time zone, as UTC."""
        hour, minute = map(int, hhmm.split(":"))
        return datetime.combine(day, time(hour, minute), self.zone).astimezone(UTC)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on an exception."""
        with self.db.transaction() as session:
            yield session

    def audit(
        self,
        session: Session,
        actor: Account | None,
        action: str,
        what: str | tuple[str, ...],
        patient_id: int | None,
        *,
        detail: str = "",
    ) -> None:
        """One audit-log row for ``actor`` in ``session``'s transaction, one per name when ``what``
        names several (the system actor has no id; None is an anonymous caller)."""
        records.audit(
            session,
            at=self.now(),
            user_id=(actor.id or None) if actor else None,
            role=str(actor.role) if actor else "anonymous",
            action=action,
            what=what,
            patient_id=patient_id,
            detail=detail,
            knowledge_version=self.knowledge.version,
        )

    def context_of(self, record: PatientRecord) -> PatientContext:
        """What the safety checker needs to know about the patient (age from the year of birth)."""
        summary = record.summary
        age = None if summary.birth_year is None else float(self.today().year - summary.birth_year)
        return PatientContext.create(
            age_y=age,
            weight_kg=summary.weight_kg,
            comedications=summary.comedications,
            conditions=summary.conditions,
            indication=summary.indication,
            knowledge=self.knowledge,
        )


class UseCases:
    """The base of every area's use cases: each method checks access, runs in one transaction of
    :attr:`unit` and audits (see the module docstring)."""

    def __init__(self, unit: Unit) -> None:
        self.unit = unit
