"""A patient's alerts as the clinician sees them: the stored ones, plus the day-based one derived on read.

When each rule is evaluated (reads never write domain data):

- A check-in's alerts (seizure, an escalating answer, rising withdrawal scores) are evaluated when the
  check-in is written, and the missed-dose pattern when a dose is recorded: both are saved in that
  write's transaction. (The missed-dose count over the window only grows when a dose is recorded;
  as days pass it can only fall, so evaluating it at the write finds every alert a read would.)
- "No check-in for N days" falls due with nothing written at all: the scheduler
  (:mod:`benzokit.service.scheduler`) writes it on its next run after it falls due. Until then (or when
  no scheduler runs) it is *derived* on every read and not saved, so no read misses it or writes it.
  It is also saved by the writes that make it history: acknowledging it (it then stays acknowledged,
  under the same key) and the check-in that ends the silence (the record keeps that the patient was
  quiet, open until a clinician acknowledges it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from benzokit.monitor.alerts import load_alert_rules, no_checkin_alerts
from benzokit.monitor.records import Alert
from benzokit.service.unit import Unit
from benzokit.store import records
from benzokit.store.records import PatientRecord


def silence_alerts(
    session: Session, unit: Unit, record: PatientRecord, *, last_checkin: datetime | None = None
) -> list[Alert]:
    """The no-check-in alert due now (not saved), if the patient has been quiet too long
    (``last_checkin``: when the caller knows it already; else it is read)."""
    return no_checkin_alerts(
        record.summary.display_name,
        last_checkin or records.last_checkin_at(session, record.id),
        record.enrolled_at,
        unit.now(),
        rules=load_alert_rules(unit.knowledge),
    )


def patient_alerts(
    session: Session, unit: Unit, record: PatientRecord, *, open_only: bool = False
) -> list[Alert]:
    """Stored alerts and the derived ones not stored yet, most urgent and newest first."""
    stored = records.alerts(session, record.id)
    last = records.last_checkin_at(session, record.id)
    return with_derived(unit, record, stored, last, open_only=open_only)


def with_derived(
    unit: Unit,
    record: PatientRecord,
    stored: list[Alert],
    last_checkin: datetime | None,
    *,
    open_only: bool = False,
) -> list[Alert]:
    """``stored`` and the derived alerts not stored yet (the patient last checked in at
    ``last_checkin``), most urgent and newest first; no query."""
    keys = {a.key for a in stored}
    due = no_checkin_alerts(
        record.summary.display_name,
        last_checkin,
        record.enrolled_at,
        unit.now(),
        rules=load_alert_rules(unit.knowledge),
    )
    every = records.sort_alerts([*stored, *(a for a in due if a.key not in keys)])
    return [a for a in every if not open_only or a.acknowledged_at is None]
