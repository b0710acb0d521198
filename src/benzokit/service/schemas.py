"""What the API and the forms accept: pydantic models whose errors name the field and what is allowed."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from benzokit.errors import InputError
from benzokit.monitor.pace_proposal import Choice
from benzokit.monitor.records import DoseStatus
from benzokit.plan.strategies import Risk, StrategyName

CLOCK = r"^([01]\d|2[0-3]):[0-5]\d$"
TOKEN = r"^[A-Za-z0-9_\-]{8,64}$"
MAX_NOTE = 2000


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TEXT_CHAR = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_EDGE_CHAR = r"[^\s\x00-\x1f\x7f]"
#: what every text field declares: no control characters (tabs and new lines inside may), and no
#: spaces around it (they are removed before the length is checked, so the declared length holds)
TEXT = rf"^(?:{_EDGE_CHAR}(?:{_TEXT_CHAR}*{_EDGE_CHAR})?)?$"


def _declare_text(schema: dict[str, Any]) -> None:
    """The published schema of a form: each text field without a pattern of its own gets
    :data:`TEXT` (what :meth:`_Input._printable` and the stripping enforce)."""
    for field in schema.get("properties", {}).values():
        for candidate in (field, *field.get("anyOf", ()), field.get("items", {})):
            plain = candidate.get("type") == "string" and not {"pattern", "format", "enum"} & set(
                candidate
            )
            if plain:
                candidate["pattern"] = TEXT


class _Input(BaseModel):
    """Unknown fields are refused; text may hold no control characters (tabs and new lines may);
    spaces around a text are removed."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=_declare_text
    )

    @field_validator("*", mode="after")
    @classmethod
    def _printable(cls, value: Any) -> Any:
        texts = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        if any(isinstance(t, str) and _CONTROL.search(t) for t in texts):
            raise ValueError("text without control characters (such as NUL)")
        return value


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: dict[str, Any]) -> M:
    """``data`` (a page form, CLI options) as ``model``; the first problem is an :class:`InputError`
    naming the field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "form"
        given = "(hidden)" if "password" in field else first.get("input")
        raise InputError(field, given, first["msg"]) from None


class Login(_Input):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class PasswordChange(_Input):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=10, max_length=256)


class DoseConfirmation(_Input):
    """One planned dose and what happened to it."""

    day: date
    time: str = Field(pattern=CLOCK, description="the planned clock time, HH:MM")
    drug: str | None = Field(
        None, max_length=64, description="needed only when a plan has two drugs"
    )
    status: DoseStatus
    taken_mg: float | None = Field(None, gt=0, description="mg actually taken (status 'different')")
    taken_time: str | None = Field(
        None, pattern=CLOCK, description="when it was taken (status 'late')"
    )
    note: str = Field("", max_length=500)
    client_token: str | None = Field(
        None, pattern=TOKEN, description="retry key: the same key is saved once"
    )


class CheckInForm(_Input):
    """A check-in: any of the patient's scales (item id → answer), seizures, sleep and a note."""

    # answers are judged by the scale itself (score_scale): whole numbers only, no booleans
    scales: dict[str, dict[str, Any]] = Field(default_factory=dict)
    seizures: int = Field(0, ge=0, le=100, description="seizures since the last check-in")
    sleep_hours: float | None = Field(None, ge=0, le=24)
    sleep_quality: int | None = Field(None, ge=0, le=4, description="0 very poor … 4 very good")
    note: str = Field("", max_length=MAX_NOTE)
    client_token: str | None = Field(None, pattern=TOKEN)
    describes_day: date | None = Field(
        None, description="the day this check-in is about (default: now), in the catch-up window"
    )
    describes_time: str | None = Field(
        None, pattern=CLOCK, description="the clock time it is about, HH:MM (with describes_day)"
    )


MAX_ACK_NOTE = 500  # characters of an acknowledgement note (the page's form and the API alike)


class AckForm(_Input):
    """Acknowledging an alert: what was done about it (kept with the alert)."""

    note: str = Field(
        "", max_length=MAX_ACK_NOTE, description="what was done about the alert (optional)"
    )


class PauseForm(_Input):
    reason: str = Field(min_length=3, max_length=500)


class ResumeForm(_Input):
    reason: str = Field("", max_length=500)


class SlowForm(_Input):
    factor: float = Field(
        gt=1, le=4, description="each remaining step lasts this many times longer"
    )
    reason: str = Field(min_length=3, max_length=500)


class AdjustForm(_Input):
    """A new plan from today's dose, made by the planner (the safety checker runs on it)."""

    strategy: StrategyName
    risk: Risk | None = None
    interval_days: int | None = Field(None, ge=1, le=120)
    reduction_percent: float | None = Field(None, gt=0, lt=100)
    liquid: bool = False
    hold_days: int = Field(0, ge=0, le=120)
    reason: str = Field(min_length=3, max_length=500)
    policy: str | None = Field(
        None,
        max_length=64,
        description="the pacing policy of the new plan (pacing.toml; default: the current one's)",
    )


class PaceForm(_Input):
    """Accepting one choice of the pacing proposal made on plan version ``version``."""

    version: int = Field(
        ge=1, le=1_000_000, description="the plan version the proposal was made on"
    )
    choice: Choice
    note: str = Field("", max_length=500, description="the clinician's note (optional)")


class NewClinician(_Input):
    username: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=10, max_length=256)
    display_name: str = Field(min_length=1, max_length=120)


class NewPatient(_Input):
    """A patient account, their record and the first plan version."""

    username: str = Field(min_length=3, max_length=64)
    password: str = Field(min_length=10, max_length=256)
    display_name: str = Field(min_length=1, max_length=120)
    clinician: str = Field(min_length=3, max_length=64, description="the clinician's username")
    drug: str = Field("clonazepam", max_length=64)
    indication: str | None = Field(None, max_length=64)
    birth_year: int | None = Field(None, ge=1900, le=2100)
    weight_kg: float | None = Field(None, ge=0.5, le=350)
    comedications: list[str] = Field(default_factory=list, max_length=30)
    conditions: list[str] = Field(default_factory=list, max_length=30)
    locale: str = Field("en-US", max_length=16)
    current_regimen: str = Field(min_length=3, max_length=200, description="e.g. '1 mg bid'")
    strategy: StrategyName = StrategyName.GUIDELINE
    risk: Risk | None = None
    liquid: bool = False
    start_date: date
    policy: str = Field(
        "fixed",
        max_length=64,
        description="the pacing policy (pacing.toml): 'fixed' takes every step on its planned day",
    )


class AlertKey(_Input):
    """Which of the patient's alerts: its key (a derived alert has no id until it is acknowledged)."""

    key: str = Field(min_length=1, max_length=160)
    note: str = Field(
        "", max_length=MAX_ACK_NOTE, description="what was done about the alert (optional)"
    )
