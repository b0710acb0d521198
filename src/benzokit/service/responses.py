"""What the API answers, as typed envelopes (they are the OpenAPI response schemas)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

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


__all__ = [
    "AlertOut",
    "AlertsOut",
    "CheckInResult",
    "CheckInsOut",
    "DoseOut",
    "DosesOut",
    "PatientOut",
    "PatientsOut",
]
