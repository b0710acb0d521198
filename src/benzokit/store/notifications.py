"""Notifications in the database: who wants which e-mail, what was sent, and private calendar feeds.

Values in, values out, like :mod:`benzokit.store.records`. ``claim`` is the idempotency key of every
scheduled job: a (user, kind, slot) is claimed once, ever, so a restarted or a second worker never
sends the same e-mail twice. Calendar-feed tokens are stored as SHA-256 digests, never in clear.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from benzokit.store.accounts import Role
from benzokit.store.tables import (
    AlertRow,
    CalendarFeedRow,
    NotificationSettingsRow,
    PatientRow,
    SentNotificationRow,
    User,
)


@dataclass(frozen=True, slots=True)
class NotificationSettings:
    """A person's e-mail choices: reminder times (``HH:MM``, local to ``timezone``) for a patient,
    urgent alerts and a daily digest time for a clinician. ``updated_at`` (UTC): no reminder falls
    due before the moment it was asked for."""

    user_id: int
    email: str
    timezone: str
    dose_reminder_times: tuple[str, ...] = ()
    checkin_reminder_time: str | None = None
    urgent_alerts: bool = False
    digest_time: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Recipient:
    """Settings of an active account, with its role (and its patient record, for a patient)."""

    settings: NotificationSettings
    role: Role
    patient_id: int | None


def _settings(row: NotificationSettingsRow) -> NotificationSettings:
    return NotificationSettings(
        user_id=row.user_id,
        email=row.email,
        timezone=row.timezone,
        dose_reminder_times=tuple(row.dose_reminder_times or ()),
        checkin_reminder_time=row.checkin_reminder_time,
        urgent_alerts=row.urgent_alerts,
        digest_time=row.digest_time,
        updated_at=row.updated_at,
    )


def settings_of(session: Session, user_id: int) -> NotificationSettings | None:
    row = session.get(NotificationSettingsRow, user_id)
    return None if row is None else _settings(row)


def save_settings(session: Session, value: NotificationSettings, *, now: datetime) -> None:
    """Create or replace the user's settings (``updated_at`` becomes ``now``)."""
    row = session.get(NotificationSettingsRow, value.user_id)
    if row is None:
        row = NotificationSettingsRow(user_id=value.user_id)
        session.add(row)
    row.email = value.email
    row.timezone = value.timezone
    row.dose_reminder_times = list(value.dose_reminder_times)
    row.checkin_reminder_time = value.checkin_reminder_time
    row.urgent_alerts = value.urgent_alerts
    row.digest_time = value.digest_time
    row.updated_at = now
    session.flush()


def delete_settings(session: Session, user_id: int) -> None:
    """Opt out of every e-mail."""
    row = session.get(NotificationSettingsRow, user_id)
    if row is not None:
        session.delete(row)
        session.flush()


def recipients(session: Session) -> list[Recipient]:
    """Every active account that asked for e-mail, with its role and patient record."""
    query = (
        select(NotificationSettingsRow, User.role, PatientRow.id)
        .join(User, User.id == NotificationSettingsRow.user_id)
        .outerjoin(PatientRow, PatientRow.user_id == User.id)
        .where(User.active.is_(True))
        .order_by(NotificationSettingsRow.user_id)
    )
    return [
        Recipient(_settings(row), Role(role), patient_id)
        for row, role, patient_id in session.execute(query)
    ]


def claim(session: Session, user_id: int, kind: str, slot: str, *, now: datetime) -> bool:
    """Claim the (user, kind, slot) notification for sending: True the first time, False ever after
    (also when another worker claimed it at the same moment: the unique key decides)."""
    try:
        with session.begin_nested():
            session.add(SentNotificationRow(user_id=user_id, kind=kind, slot=slot, sent_at=now))
    except IntegrityError:
        return False
    return True


def unclaim(session: Session, user_id: int, kind: str, slot: str) -> None:
    """Give a claim back (its e-mail could not be sent; a later run tries again)."""
    session.execute(
        delete(SentNotificationRow).where(
            SentNotificationRow.user_id == user_id,
            SentNotificationRow.kind == kind,
            SentNotificationRow.slot == slot,
        )
    )


@dataclass(frozen=True, slots=True)
class RaisedAlert:
    """A stored alert, reduced to what a notification may know: no message, no clinical detail."""

    alert_id: int
    patient_id: int
    clinician_id: int
    raised_at: datetime


def urgent_alerts_since(session: Session, since: datetime) -> list[RaisedAlert]:
    """Open urgent alerts raised at or after ``since``, oldest first."""
    query = (
        select(AlertRow.id, AlertRow.patient_id, PatientRow.clinician_id, AlertRow.raised_at)
        .join(PatientRow, PatientRow.id == AlertRow.patient_id)
        .where(
            AlertRow.level == "urgent",
            AlertRow.raised_at >= since,
            AlertRow.acknowledged_at.is_(None),
        )
        .order_by(AlertRow.raised_at, AlertRow.id)
    )
    return [RaisedAlert(*row) for row in session.execute(query)]


def open_alert_count(session: Session, clinician_id: int) -> int:
    """How many stored alerts of the clinician's patients are not acknowledged."""
    query = (
        select(func.count())
        .select_from(AlertRow)
        .join(PatientRow, PatientRow.id == AlertRow.patient_id)
        .where(PatientRow.clinician_id == clinician_id, AlertRow.acknowledged_at.is_(None))
    )
    return int(session.scalar(query) or 0)


def all_patient_ids(session: Session) -> list[int]:
    """Every patient record whose account is active."""
    query = (
        select(PatientRow.id)
        .join(User, User.id == PatientRow.user_id)
        .where(User.active.is_(True))
        .order_by(PatientRow.id)
    )
    return list(session.scalars(query))


# ----------------------------------------------------------------------------- calendar feeds


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def revoke_feeds(session: Session, patient_id: int, *, now: datetime) -> int:
    """Revoke every live feed of the patient; returns how many were live."""
    result = session.execute(
        update(CalendarFeedRow)
        .where(CalendarFeedRow.patient_id == patient_id, CalendarFeedRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def add_feed(
    session: Session, patient_id: int, token: str, *, created_by: int, now: datetime
) -> None:
    """A new feed for the patient (the earlier ones are revoked: one live URL at a time)."""
    revoke_feeds(session, patient_id, now=now)
    session.add(
        CalendarFeedRow(
            patient_id=patient_id,
            token_hash=token_digest(token),
            created_by=created_by,
            created_at=now,
        )
    )
    session.flush()


def live_feed_since(session: Session, patient_id: int) -> datetime | None:
    """When the patient's live feed was made, or None when there is none."""
    query = select(CalendarFeedRow.created_at).where(
        CalendarFeedRow.patient_id == patient_id, CalendarFeedRow.revoked_at.is_(None)
    )
    return session.scalar(query)


def patient_of_feed(session: Session, token: str) -> int | None:
    """The patient whose live feed ``token`` opens, or None (unknown or revoked)."""
    query = select(CalendarFeedRow.patient_id).where(
        CalendarFeedRow.token_hash == token_digest(token), CalendarFeedRow.revoked_at.is_(None)
    )
    return session.scalar(query)
