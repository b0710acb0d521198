"""The scheduler: day-based alerts written on time, and e-mail reminders and alerts sent on time.

:class:`Jobs` is what runs; it takes the time from the unit's clock (a test sets the clock and calls
:meth:`Jobs.run`, nothing sleeps). Each run

1. writes the day-based alerts that fell due with nothing written (no check-in for too long, missed
   doses in the window) for every patient, under the same keys as everywhere else, so a run never
   doubles an alert;
2. when e-mail is configured, sends the reminders whose time (the patient's chosen ``HH:MM`` in their
   time zone) fell within the catch-up window, the clinicians' new urgent alerts and their daily
   digest at their chosen time.

**Idempotent.** Every e-mail is first *claimed* under its key (user, kind, slot) in
``sent_notifications``, committed, then sent; a claim exists once, ever, so a restart, a catch-up
run or a second worker never sends it twice (a send that fails gives its claim back, and the next run
tries again). **Catch-up.** A run sends what fell due in the last ``catch_up`` (default two hours)
and is not claimed yet, so a service that was down for a while sends the reminders it missed; older
ones are dropped (a dose reminder hours late would mislead). **One runner.** On PostgreSQL a run holds
a session advisory lock: a second worker's run that finds it taken is skipped. (SQLite serves one
clinic process; its writes are serialised anyway.)

:class:`ClinicScheduler` runs :meth:`Jobs.run` every ``every`` with APScheduler (in the web process's
background for ``benzokit serve``, or in the foreground for ``benzokit worker``). In the web process, a
new urgent alert wakes it at once, so the clinician's e-mail does not wait for the next run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from benzokit.monitor.alerts import load_alert_rules, missed_dose_alerts, no_checkin_alerts
from benzokit.monitor.course import Course
from benzokit.service import mailer
from benzokit.service.mailer import Mail, MailError, Outbox
from benzokit.service.unit import Unit
from benzokit.store import notifications, records
from benzokit.store.accounts import Role
from benzokit.store.notifications import Recipient
from benzokit.store.records import PatientRecord
from benzokit.store.tables import AlertRow

log = logging.getLogger("benzokit.scheduler")

ADVISORY_LOCK_KEY = 0x62656E7A  # "benz": the one lock of the scheduled jobs on PostgreSQL
DEFAULT_CATCH_UP = timedelta(hours=2)
DEFAULT_EVERY = timedelta(minutes=1)


class Kind:
    DOSE = "dose-reminder"
    CHECKIN = "checkin-reminder"
    URGENT = "urgent-alert"
    DIGEST = "daily-digest"


@dataclass(frozen=True, slots=True)
class RunReport:
    """What one run did: alerts written and e-mails sent (by kind); ``skipped`` when another worker
    held the lock; ``failed`` e-mails are tried again by the next run."""

    at: datetime
    skipped: bool = False
    alerts_written: int = 0
    sent: dict[str, int] = field(default_factory=dict)
    failed: int = 0

    @property
    def sent_total(self) -> int:
        return sum(self.sent.values())


@dataclass(frozen=True, slots=True)
class _Due:
    """One e-mail that fell due: its claim key and its words."""

    user_id: int
    kind: str
    slot: str
    mail: Mail


class Jobs:
    """The scheduled work on a unit of the clinic (its database, clock and knowledge base).

    ``outbox`` None: e-mail is off, and a run only writes the alerts. ``base_url``: the service's
    address as people open it (for the sign-in link in e-mails).
    """

    def __init__(
        self,
        unit: Unit,
        outbox: Outbox | None = None,
        *,
        base_url: str = "http://127.0.0.1:8000/",
        catch_up: timedelta = DEFAULT_CATCH_UP,
    ) -> None:
        self.unit = unit
        self.outbox = outbox
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.catch_up = catch_up

    # -------------------------------------------------------------------------------- one run

    def run(self) -> RunReport:
        """One run at the clock's now (see the module docstring)."""
        now = self.unit.now()
        with self._lock() as held:
            if not held:
                log.info("scheduled run skipped: another worker holds the lock")
                return RunReport(now, skipped=True)
            written = self.write_day_alerts(now)
            if self.outbox is None:
                return RunReport(now, alerts_written=written)
            sent, failed = self._send(self.outbox, self._due(now), now)
            return RunReport(now, alerts_written=written, sent=sent, failed=failed)

    def run_logged(self) -> None:
        """:meth:`run` for the scheduler thread: a failure is logged, and the next run tries again."""
        try:
            report = self.run()
        except Exception:
            log.exception("scheduled run failed; the next run tries again")
            return
        if report.alerts_written or report.sent_total or report.failed:
            log.info(
                "scheduled run: %d alerts written, %d e-mails sent, %d failed",
                report.alerts_written,
                report.sent_total,
                report.failed,
            )

    @contextmanager
    def _lock(self) -> Iterator[bool]:
        engine = self.unit.db.engine
        if engine.dialect.name != "postgresql":
            yield True
            return
        with engine.connect() as connection:
            held = bool(
                connection.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
            )
            connection.commit()
            try:
                yield held
            finally:
                if held:
                    connection.execute(
                        text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY}
                    )
                    connection.commit()

    # -------------------------------------------------------------------------------- alerts

    def write_day_alerts(self, now: datetime) -> int:
        """Write the day-based alerts due at ``now`` for every patient; returns how many were new."""
        with self.unit.transaction() as session:
            patient_ids = notifications.all_patient_ids(session)
        return sum(self._write_patient_alerts(pid, now) for pid in patient_ids)

    def _write_patient_alerts(self, patient_id: int, now: datetime) -> int:
        unit = self.unit
        rules = load_alert_rules(unit.knowledge)
        with unit.transaction() as session:
            record = records.patient(session, patient_id)
            if record is None:
                return 0
            since = now.astimezone(unit.zone).date() - timedelta(
                days=rules.missed_doses.window_days.value
            )
            logs = records.latest_dose_logs(records.dose_logs(session, record.id, since=since))
            due = [
                *no_checkin_alerts(
                    _name(record),
                    records.last_checkin_at(session, record.id),
                    record.enrolled_at,
                    now,
                    rules=rules,
                ),
                *missed_dose_alerts(_name(record), logs, now, rules=rules),
            ]
            saved = records.add_alerts(session, record.id, due) if due else []
            if saved:
                unit.audit(
                    session,
                    None,
                    "write",
                    "scheduled alerts",
                    record.id,
                    detail=", ".join(a.code for a in saved),
                )
            return len(saved)

    # -------------------------------------------------------------------------------- e-mail

    def _due(self, now: datetime) -> list[_Due]:
        """Every e-mail due at ``now`` and not claimed yet (claims are checked when sending)."""
        with self.unit.transaction() as session:
            people = notifications.recipients(session)
            urgent = notifications.urgent_alerts_since(session, now - self.catch_up)
            open_counts = {
                p.settings.user_id: notifications.open_alert_count(session, p.settings.user_id)
                for p in people
                if p.role is Role.CLINICIAN and p.settings.digest_time
            }
            courses = {
                p.patient_id: records.course(session, p.patient_id)
                for p in people
                if p.patient_id is not None and p.settings.dose_reminder_times
            }
        due: list[_Due] = []
        for person in people:
            if person.role is Role.PATIENT and person.patient_id is not None:
                due += self._patient_reminders(person, courses.get(person.patient_id), now)
            elif person.role is Role.CLINICIAN:
                due += self._clinician_mail(person, urgent, open_counts, now)
        return due

    def _patient_reminders(
        self, person: Recipient, course: Course | None, now: datetime
    ) -> list[_Due]:
        s = person.settings
        due: list[_Due] = []
        for hhmm in s.dose_reminder_times:
            for slot in self._slots(hhmm, s.timezone, s.updated_at, now):
                if course is not None and not course.doses_on(slot.date()):
                    continue  # a paused or finished plan: no dose to remind of
                mail = mailer.dose_reminder(s.email, hhmm, self.base_url)
                due.append(_Due(s.user_id, Kind.DOSE, slot.isoformat(), mail))
        if s.checkin_reminder_time:
            for slot in self._slots(s.checkin_reminder_time, s.timezone, s.updated_at, now):
                mail = mailer.checkin_reminder(s.email, self.base_url)
                due.append(_Due(s.user_id, Kind.CHECKIN, slot.isoformat(), mail))
        return due

    def _clinician_mail(
        self,
        person: Recipient,
        urgent: list[notifications.RaisedAlert],
        open_counts: dict[int, int],
        now: datetime,
    ) -> list[_Due]:
        s = person.settings
        due: list[_Due] = []
        if s.urgent_alerts:
            asked = s.updated_at or now
            due += [
                _Due(
                    s.user_id,
                    Kind.URGENT,
                    str(a.alert_id),
                    mailer.urgent_alert(s.email, self.base_url),
                )
                for a in urgent
                if a.clinician_id == s.user_id and a.raised_at >= asked
            ]
        if s.digest_time and open_counts.get(s.user_id, 0) > 0:
            for slot in self._slots(s.digest_time, s.timezone, s.updated_at, now):
                mail = mailer.daily_digest(s.email, open_counts[s.user_id], self.base_url)
                due.append(_Due(s.user_id, Kind.DIGEST, slot.date().isoformat(), mail))
        return due

    def _slots(
        self, hhmm: str, zone_name: str, asked_at: datetime | None, now: datetime
    ) -> list[datetime]:
        """The local moments ``hhmm`` (in ``zone_name``) within the catch-up window up to ``now``
        and not before the person asked (``asked_at``); local datetimes, aware."""
        zone = ZoneInfo(zone_name)
        hour, minute = map(int, hhmm.split(":"))
        start = max(now - self.catch_up, asked_at or now - self.catch_up)
        local_now = now.astimezone(zone)
        days = {(local_now - timedelta(days=back)).date() for back in range(self.catch_up.days + 2)}
        found = []
        for day in sorted(days):
            moment = datetime.combine(day, time(hour, minute), zone)
            if start <= moment.astimezone(UTC) <= now:
                found.append(moment)
        return found

    def _send(self, outbox: Outbox, due: list[_Due], now: datetime) -> tuple[dict[str, int], int]:
        sent: dict[str, int] = {}
        failed = 0
        for item in due:
            with self.unit.transaction() as session:
                if not notifications.claim(session, item.user_id, item.kind, item.slot, now=now):
                    continue
            try:
                outbox.send(item.mail)
            except MailError as error:
                failed += 1
                log.warning("%s for user %d not sent: %s", item.kind, item.user_id, error)
                with self.unit.transaction() as session:
                    notifications.unclaim(session, item.user_id, item.kind, item.slot)
                continue
            sent[item.kind] = sent.get(item.kind, 0) + 1
        return sent, failed


def _name(record: PatientRecord) -> str:
    return record.summary.display_name


JOB_ID = "benzokit-scheduled-run"
_URGENT_FLAG = "benzokit.urgent-alert-written"


class _UrgentWatch:
    """Calls ``wake`` when a transaction on ``engine`` (in this process) commits a new urgent alert,
    so that the clinician's e-mail goes at once rather than at the next regular run."""

    def __init__(self, engine: Engine, wake: Callable[[], None]) -> None:
        self.engine = engine
        self.wake = wake

    def after_flush(self, session: Session, _context: object) -> None:
        if session.get_bind() is self.engine and any(
            isinstance(row, AlertRow) and row.level == "urgent" for row in session.new
        ):
            session.info[_URGENT_FLAG] = True

    def after_commit(self, session: Session) -> None:
        if session.info.pop(_URGENT_FLAG, False):
            self.wake()

    def after_rollback(self, session: Session) -> None:
        session.info.pop(_URGENT_FLAG, None)

    def listen(self) -> None:
        for name in ("after_flush", "after_commit", "after_rollback"):
            event.listen(Session, name, getattr(self, name))

    def remove(self) -> None:
        for name in ("after_flush", "after_commit", "after_rollback"):
            if event.contains(Session, name, getattr(self, name)):
                event.remove(Session, name, getattr(self, name))


class ClinicScheduler:
    """:meth:`Jobs.run` every ``every`` (APScheduler; one run at a time, late runs coalesced into one,
    the first run at start). ``blocking``: run in the calling thread (the worker) rather than in the
    background (the web process). In the background, a new urgent alert written by this process
    wakes it for a run at once (:meth:`wake`)."""

    def __init__(self, jobs: Jobs, *, every: timedelta = DEFAULT_EVERY, blocking: bool = False):
        self.jobs = jobs
        self.scheduler: BaseScheduler = (
            BlockingScheduler(timezone=UTC) if blocking else BackgroundScheduler(timezone=UTC)
        )
        self._again = threading.Event()  # woken while a run was under way: run again
        self._busy = threading.Event()  # a run is under way
        self.scheduler.add_job(
            self._run,
            IntervalTrigger(seconds=every.total_seconds(), timezone=UTC),
            id=JOB_ID,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),
        )
        self._watch = None if blocking else _UrgentWatch(jobs.unit.db.engine, self.wake)

    def _run(self) -> None:
        """One run, and one more for each wake that came while it ran."""
        self._busy.set()
        try:
            while True:
                self._again.clear()
                self.jobs.run_logged()
                if not self._again.is_set():
                    return
        finally:
            self._busy.clear()
            if self._again.is_set():  # woken between the last check and now
                self.wake()

    def wake(self) -> None:
        """Run now (a run already under way is followed by one more; the interval continues)."""
        self._again.set()
        if self.scheduler.running and not self._busy.is_set():
            self.scheduler.modify_job(JOB_ID, next_run_time=datetime.now(UTC))

    def start(self) -> None:
        if self._watch is not None:
            self._watch.listen()
        self.scheduler.start()

    def shutdown(self) -> None:
        if self._watch is not None:
            self._watch.remove()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
