"""What the notification settings accept (API body and page form): each problem names its field.

A reminder time is a time of day ``HH:MM`` from 00:00 to 23:59 (so ``25:00`` is refused, naming the
field), the time zone an IANA name (``Europe/Berlin``), the e-mail address a plain address.
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from benzokit.errors import InputError
from benzokit.service.mailer import check_email
from benzokit.service.schemas import _Input

_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
CLOCK_ALLOWED = "a time of day as HH:MM, from 00:00 to 23:59"
ZONE_ALLOWED = "an IANA time zone such as Europe/Berlin, America/New_York or UTC"
MAX_REMINDERS = 8


def check_clock(value: str) -> str:
    if not _CLOCK.match(value):
        raise ValueError(CLOCK_ALLOWED)
    return value


class NotificationForm(_Input):
    """Opt in to e-mail: the address and time zone, and what to be told.

    Patients: ``dose_reminder_times`` (their chosen dose times) and ``checkin_reminder_time``.
    Clinicians: ``urgent_alerts`` (at once) and ``digest_time`` (a daily summary)."""

    email: str = Field(min_length=3, max_length=254)
    timezone: str = Field(min_length=1, max_length=64)
    dose_reminder_times: list[str] = Field(default_factory=list, max_length=MAX_REMINDERS)
    checkin_reminder_time: str | None = None
    urgent_alerts: bool = False
    digest_time: str | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        try:
            return check_email("email", value)
        except InputError as error:
            raise ValueError(error.allowed) from None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(ZONE_ALLOWED) from None
        return value

    @field_validator("dose_reminder_times", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        """A page sends the times as one text (``08:00, 20:00``); the API as a list."""
        if isinstance(value, str):
            return [t.strip() for t in value.replace(";", ",").split(",") if t.strip()]
        return value

    @field_validator("dose_reminder_times")
    @classmethod
    def _times(cls, value: list[str]) -> list[str]:
        for item in value:
            check_clock(item)
        return sorted(set(value))

    @field_validator("checkin_reminder_time", "digest_time")
    @classmethod
    def _clock(cls, value: str | None) -> str | None:
        return None if value is None else check_clock(value)
