"""What reaches out of the service: e-mail settings, the private calendar feed and the handout PDF.

Use cases in the one shape of :mod:`benzokit.service.unit` (access first, one transaction, an audit
row). E-mail is opt-in: a person saves an address and what to be told (patients: reminder times;
clinicians: urgent alerts, a daily digest); saving nothing means no e-mail. The calendar feed is a
private URL with a random token (stored hashed) that a calendar app fetches without signing in; making a
new one or revoking it ends the old one. The handout and the feed show the plan from today on, its dates
shifted by the pauses so far (while paused: as if resumed today; the feed is made again at each fetch).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from benzokit.errors import InputError
from benzokit.interop.ical import plan_calendar
from benzokit.interop.pdf import handout_pdf
from benzokit.monitor.course import CourseStatus, promised_plan
from benzokit.plan.model import Plan
from benzokit.service.access import AccessError, not_found, patient_for, require_role
from benzokit.service.notify_forms import NotificationForm
from benzokit.service.unit import UseCases
from benzokit.store import notifications, records
from benzokit.store.accounts import Account, Role
from benzokit.store.notifications import NotificationSettings
from benzokit.store.records import PatientRecord

FEED_TOKEN_BYTES = 32  # 256 random bits, URL-safe


@dataclass(frozen=True, slots=True)
class CalendarFeed:
    """A new feed: the token is shown once (only its digest is stored)."""

    patient_id: int
    token: str

    @property
    def path(self) -> str:
        return f"/calendar/{self.token}.ics"


class Notifications(UseCases):
    """E-mail settings of the signed-in person, calendar feeds and handouts of a record."""

    # ------------------------------------------------------------------------------ e-mail settings

    def settings(self, actor: Account) -> NotificationSettings | None:
        """The signed-in person's e-mail settings (None: no e-mail)."""
        require_role(actor, Role.PATIENT, Role.CLINICIAN)
        with self.unit.transaction() as session:
            self.unit.audit(session, actor, "read", "notification settings", None)
            return notifications.settings_of(session, actor.id)

    def save_settings(self, actor: Account, form: NotificationForm) -> NotificationSettings:
        """Opt in (or change what to be told); the fields of the other role are refused by name."""
        require_role(actor, Role.PATIENT, Role.CLINICIAN)
        _only_fields_of_role(actor.role, form)
        value = NotificationSettings(
            user_id=actor.id,
            email=form.email,
            timezone=form.timezone,
            dose_reminder_times=tuple(form.dose_reminder_times),
            checkin_reminder_time=form.checkin_reminder_time,
            urgent_alerts=form.urgent_alerts,
            digest_time=form.digest_time,
        )
        with self.unit.transaction() as session:
            notifications.save_settings(session, value, now=self.unit.now())
            self.unit.audit(session, actor, "write", "notification settings", None)
            saved = notifications.settings_of(session, actor.id)
        assert saved is not None
        return saved

    def stop(self, actor: Account) -> None:
        """Opt out of every e-mail."""
        require_role(actor, Role.PATIENT, Role.CLINICIAN)
        with self.unit.transaction() as session:
            notifications.delete_settings(session, actor.id)
            self.unit.audit(session, actor, "write", "notification settings", None, detail="off")

    # ------------------------------------------------------------------------------ calendar feed

    def feed_since(self, actor: Account, patient_id: int) -> str | None:
        """When the record's live feed was made (ISO UTC), or None."""
        with self.unit.transaction() as session:
            record = patient_for(session, actor, patient_id)
            since = notifications.live_feed_since(session, record.id)
            self.unit.audit(session, actor, "read", "calendar feed", record.id)
            return None if since is None else since.isoformat()

    def new_feed(self, actor: Account, patient_id: int) -> CalendarFeed:
        """A new private feed URL for the record (the earlier one stops working)."""
        token = secrets.token_urlsafe(FEED_TOKEN_BYTES)
        with self.unit.transaction() as session:
            record = patient_for(session, actor, patient_id)
            notifications.add_feed(
                session, record.id, token, created_by=actor.id, now=self.unit.now()
            )
            self.unit.audit(session, actor, "write", "calendar feed", record.id, detail="new")
        return CalendarFeed(record.id, token)

    def revoke_feed(self, actor: Account, patient_id: int) -> int:
        """Stop the record's feed; returns how many live feeds were stopped (0 or 1)."""
        with self.unit.transaction() as session:
            record = patient_for(session, actor, patient_id)
            count = notifications.revoke_feeds(session, record.id, now=self.unit.now())
            self.unit.audit(session, actor, "write", "calendar feed", record.id, detail="revoked")
            return count

    def calendar(self, token: str) -> bytes:
        """The iCalendar of the feed ``token`` opens (no session: the token is the key)."""
        with self.unit.transaction() as session:
            patient_id = notifications.patient_of_feed(session, token) if token else None
            record = records.patient(session, patient_id) if patient_id is not None else None
            if record is None:
                raise AccessError("this calendar link is unknown or was revoked", status=404)
            plan = _current_plan(session, record, self.unit.today())
            self.unit.audit(session, None, "read", "calendar feed", record.id, detail="fetched")
        return bytes(plan_calendar(plan, stamp=self.unit.now()).to_ical())

    # ------------------------------------------------------------------------------ handout

    def handout(self, actor: Account, patient_id: int) -> bytes:
        """The handout PDF of the record's current plan (the patient and their clinician only)."""
        with self.unit.transaction() as session:
            record = patient_for(session, actor, patient_id)
            plan = _current_plan(session, record, self.unit.today())
            self.unit.audit(session, actor, "read", "handout", record.id)
        return handout_pdf(
            plan,
            locale=record.locale,
            patient_name=record.summary.display_name,
            knowledge=self.unit.knowledge,
        )


def _current_plan(session: Session, record: PatientRecord, today: date) -> Plan:
    """The plan from ``today`` on, dated with the pauses so far (while paused: as if resumed today);
    a completed course: its last version; a paced one: its current step only (the next waits for the
    clinician)."""
    course = records.course(session, record.id)
    if course is None:
        raise not_found("plan of patient", record.id)
    if course.status_on(today) is CourseStatus.COMPLETED:
        return course.current.plan
    return promised_plan(course, today)


_PATIENT_ONLY = ("dose_reminder_times", "checkin_reminder_time")
_CLINICIAN_ONLY = ("urgent_alerts", "digest_time")


def _only_fields_of_role(role: Role, form: NotificationForm) -> None:
    """A patient sets reminders, a clinician alerts and the digest; the other's field is an error."""
    other = _CLINICIAN_ONLY if role is Role.PATIENT else _PATIENT_ONLY
    for name in other:
        if getattr(form, name) not in (None, False, []):
            raise InputError(name, getattr(form, name), f"not a setting of a {role} account")
