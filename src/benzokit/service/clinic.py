"""The clinic: every area's use cases on one unit of work (the service's composition root).

``Clinic(Unit(db, timezone=..., clock=..., knowledge=...))`` (or ``Clinic(db)``: UTC, the real clock,
the shipped knowledge) builds one object per area on the :class:`~benzokit.service.unit.Unit`; the web
edge and the CLI call ``clinic.<area>.<use case>(actor, ...)``:

- :attr:`reading` what a patient or clinician reads of a record,
- :attr:`recording` the patient's dose confirmations and check-ins,
- :attr:`steering` the clinician's plan changes and alert acknowledgements,
- :attr:`enrolment` accounts and patients' enrolment,
- :attr:`signin` sessions and passwords,
- :attr:`audit_log` reading the audit log and recording refusals,
- :attr:`notifications` e-mail settings, the private calendar feed and the handout PDF.

Every use case has the one shape said in :mod:`benzokit.service.unit`.
"""

from __future__ import annotations

from datetime import date, datetime

from benzokit.knowledge import Knowledge
from benzokit.service.audit import AuditLog
from benzokit.service.enrol import Enrolment
from benzokit.service.notify import Notifications
from benzokit.service.reading import Reading
from benzokit.service.recording import Recording
from benzokit.service.signin import SignIn, SignInLimits
from benzokit.service.steering import Steering
from benzokit.service.unit import Unit
from benzokit.store.db import Database


class Clinic:
    """The monitoring service's use cases on a :class:`Database`, grouped by area."""

    def __init__(self, unit: Unit | Database, *, limits: SignInLimits | None = None) -> None:
        self.unit = unit if isinstance(unit, Unit) else Unit(unit)
        self.reading = Reading(self.unit)
        self.recording = Recording(self.unit)
        self.steering = Steering(self.unit)
        self.enrolment = Enrolment(self.unit)
        self.signin = SignIn(self.unit, limits or SignInLimits())
        self.audit_log = AuditLog(self.unit)
        self.notifications = Notifications(self.unit)

    @property
    def db(self) -> Database:
        return self.unit.db

    @property
    def knowledge(self) -> Knowledge:
        return self.unit.knowledge

    def now(self) -> datetime:
        return self.unit.now()

    def today(self) -> date:
        return self.unit.today()
