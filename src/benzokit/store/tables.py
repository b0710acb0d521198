"""The database tables (SQLAlchemy 2 declarative). Changes go through an Alembic migration.

Times are stored as UTC and read back timezone-aware; lists and plans are JSON. Patient data is
append-only where a person could lose something: a corrected dose confirmation is a new row, a plan
change is a new version, an acknowledged alert keeps its text.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use timezone-aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # patient | clinician | admin
    display_name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class PatientRow(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    clinician_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(120))
    drug: Mapped[str] = mapped_column(String(64))
    indication: Mapped[str | None] = mapped_column(String(64))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    weight_kg: Mapped[float | None] = mapped_column(Float)
    comedications: Mapped[list[Any]] = mapped_column(JSON, default=list)
    conditions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    locale: Mapped[str] = mapped_column(String(16), default="en-US")
    enrolled_at: Mapped[datetime]

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    clinician: Mapped[User] = relationship(foreign_keys=[clinician_id])


class PlanVersionRow(Base):
    __tablename__ = "plan_versions"
    __table_args__ = (UniqueConstraint("patient_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    change: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    # the pacing policy (plan/data/pacing.toml) that paces this version: ``fixed`` takes every step on
    # its planned day; a symptom-guided one waits for the clinician before each next step
    policy: Mapped[str] = mapped_column(String(64), default="fixed", server_default="fixed")


class PauseRow(Base):
    __tablename__ = "pauses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    paused_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    resumed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class DoseLogRow(Base):
    __tablename__ = "dose_logs"
    __table_args__ = (
        Index("ix_dose_logs_patient_day", "patient_id", "day"),
        UniqueConstraint("patient_id", "client_token", name="uq_dose_logs_patient_token"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    day: Mapped[date] = mapped_column(Date)
    time: Mapped[str] = mapped_column(String(5))
    drug: Mapped[str] = mapped_column(String(64))
    planned_mg: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    taken_mg: Mapped[float | None] = mapped_column(Float)
    taken_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime]
    client_token: Mapped[str | None] = mapped_column(String(64))


class CheckInRow(Base):
    __tablename__ = "checkins"
    __table_args__ = (
        # a patient's latest check-in is one probe of this index (migration 0006)
        Index("ix_checkins_patient_recorded", "patient_id", "recorded_at"),
        UniqueConstraint("patient_id", "client_token", name="uq_checkins_patient_token"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    recorded_at: Mapped[datetime]
    describes_at: Mapped[datetime | None]  # the time the check-in is about (None: when recorded)
    seizures: Mapped[int] = mapped_column(Integer, default=0)
    sleep_hours: Mapped[float | None] = mapped_column(Float)
    sleep_quality: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    client_token: Mapped[str | None] = mapped_column(String(64))

    scores: Mapped[list[ScaleScoreRow]] = relationship(
        back_populates="checkin", order_by="ScaleScoreRow.id", cascade="all, delete-orphan"
    )


class ScaleScoreRow(Base):
    __tablename__ = "scale_scores"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checkin_id: Mapped[int] = mapped_column(ForeignKey("checkins.id"), index=True)
    scale: Mapped[str] = mapped_column(String(32))
    version: Mapped[str] = mapped_column(String(32))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"items": [[item id, value], ...]}
    total: Mapped[int] = mapped_column(Integer)
    band: Mapped[str] = mapped_column(String(32))

    checkin: Mapped[CheckInRow] = relationship(back_populates="scores")


class AlertRow(Base):
    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("patient_id", "key", name="uq_alerts_patient_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    suggestion: Mapped[str | None] = mapped_column(Text)
    patient_guidance: Mapped[str | None] = mapped_column(Text)
    key: Mapped[str] = mapped_column(String(160))
    raised_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_note: Mapped[str | None] = mapped_column(Text)  # what the clinician did
    checkin_id: Mapped[int | None] = mapped_column(ForeignKey("checkins.id"))


class SessionRow(Base):
    __tablename__ = "sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class LoginAttemptRow(Base):
    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    succeeded: Mapped[bool] = mapped_column(Boolean)


class AuditRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(8))  # read | write
    what: Mapped[str] = mapped_column(String(64))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    # the knowledge base (Knowledge.version) the service ran with: which rules judged this request
    knowledge_version: Mapped[str] = mapped_column(String(64), default="", server_default="")


class NotificationSettingsRow(Base):
    """What a person wants to be told by e-mail (opt-in: no row, no e-mail). Patients choose reminder
    times (``HH:MM`` in ``timezone``); clinicians choose urgent alerts and a daily digest time."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    timezone: Mapped[str] = mapped_column(String(64))
    dose_reminder_times: Mapped[list[Any]] = mapped_column(JSON, default=list)
    checkin_reminder_time: Mapped[str | None] = mapped_column(String(5))
    urgent_alerts: Mapped[bool] = mapped_column(Boolean, default=False)
    digest_time: Mapped[str | None] = mapped_column(String(5))
    updated_at: Mapped[datetime]


class SentNotificationRow(Base):
    """One e-mail sent (or claimed for sending): the key that makes every job idempotent."""

    __tablename__ = "sent_notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "slot", name="uq_sent_notifications_user_kind_slot"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))
    slot: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime]


class CalendarFeedRow(Base):
    """A patient's private calendar feed: the token is stored hashed; revoking keeps the row."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


TABLES_IN_ORDER = (
    User,
    PatientRow,
    PlanVersionRow,
    PauseRow,
    CheckInRow,
    ScaleScoreRow,
    DoseLogRow,
    AlertRow,
    SessionRow,
    LoginAttemptRow,
    AuditRow,
    NotificationSettingsRow,
    SentNotificationRow,
    CalendarFeedRow,
)
