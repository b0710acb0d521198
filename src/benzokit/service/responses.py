"""What the API answers, as typed envelopes (they are the OpenAPI response schemas)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from benzokit.monitor.records import Alert, CheckIn, DoseLog, PatientSummary
from benzokit.service.views import CheckInResult, PatientFlags


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class PatientsOut(_Out):
    patients: list[PatientFlags]


class PatientOut(_Out):
    patient: PatientSummary


class DoseOut(_Out):
    dose: DoseLog


class DosesOut(_Out):
    doses: list[DoseLog]


class CheckInsOut(_Out):
    checkins: list[CheckIn]


class AlertsOut(_Out):
    alerts: list[Alert]


class AlertOut(_Out):
    alert: Alert


class FieldProblem(_Out):
    """One field the request validation refused: where, what was given and what was wrong."""

    field: str = Field(description="the field, its path joined by dots (body, query or path)")
    message: str = Field(description="what is allowed there")
    value: Any = Field(None, description="what was given (a password is never echoed)")


class ErrorDetail(_Out):
    """What went wrong. A refused input names the ``field``, the ``value`` given and what is
    ``allowed``; a request that failed validation lists every problem in ``fields``."""

    message: str
    field: str | None = None
    value: Any = None
    allowed: str | None = None
    fields: list[FieldProblem] | None = None


class ErrorOut(_Out):
    """Every error answer of the API: ``{"error": {...}}``."""

    error: ErrorDetail


__all__ = [
    "AlertOut",
    "AlertsOut",
    "CheckInResult",
    "CheckInsOut",
    "DoseOut",
    "DosesOut",
    "ErrorDetail",
    "ErrorOut",
    "FieldProblem",
    "PatientOut",
    "PatientsOut",
]
