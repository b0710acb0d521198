"""The monitoring record as immutable values: dose confirmations, check-ins with scored scales, alerts.

These are what the store saves and the service shows; they know nothing of databases or the web. Times
are timezone-aware UTC ``datetime`` values; a dose's ``day`` and ``time`` ("08:00") are the patient's
local calendar day and clock time of the planned administration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class DoseStatus(StrEnum):
    """What the patient says happened to one planned dose."""

    TAKEN = "taken"
    MISSED = "missed"
    LATE = "late"  # taken, later than planned
    DIFFERENT = "different"  # taken, another amount (``taken_mg``)


@dataclass(frozen=True, slots=True)
class DoseLog:
    """One planned administration and what the patient recorded about it."""

    day: date
    time: str
    drug: str
    planned_mg: float
    status: DoseStatus
    recorded_at: datetime
    taken_mg: float | None = None  # mg actually taken (None when missed)
    taken_at: datetime | None = None
    note: str = ""
    id: int | None = None

    @property
    def taken(self) -> bool:
        return self.status is not DoseStatus.MISSED


@dataclass(frozen=True, slots=True)
class ScaleScore:
    """One completed instrument: the answer to every item, the total and its severity band."""

    scale: str  # id in monitor/data/scales.toml, e.g. "phq9"
    version: str  # the definition file's version of that scale
    answers: tuple[tuple[str, int], ...]  # (item id, value) in the instrument's item order
    total: int
    band: str  # e.g. "moderate"; "" where the instrument has no validated bands

    def answer(self, item_id: str) -> int:
        return dict(self.answers)[item_id]


@dataclass(frozen=True, slots=True)
class CheckIn:
    """A patient's check-in: scales, seizures, sleep and free text, all optional but the time."""

    recorded_at: datetime
    scales: tuple[ScaleScore, ...] = ()
    seizures: int = 0  # seizures since the last check-in
    sleep_hours: float | None = None  # last night
    sleep_quality: int | None = None  # 0 (very poor) to 4 (very good)
    note: str = ""
    id: int | None = None
    describes_at: datetime | None = None  # the time the check-in is about (None: when recorded)

    @property
    def when(self) -> datetime:
        """The time the check-in describes: given by the patient, else when it was recorded."""
        return self.describes_at or self.recorded_at

    def scale(self, scale_id: str) -> ScaleScore | None:
        return next((s for s in self.scales if s.scale == scale_id), None)


class AlertLevel(StrEnum):
    URGENT = "urgent"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "urgent": 2}[self.value]


@dataclass(frozen=True, slots=True)
class Alert:
    """Something the clinician should look at. ``code`` is stable; ``message`` is for people."""

    code: str
    level: AlertLevel
    message: str
    source: str
    raised_at: datetime
    suggestion: str | None = None  # what the clinician may consider; the clinician decides
    patient_guidance: str | None = None  # shown to the patient at once (e.g. crisis information)
    key: str = ""  # de-duplication key: the same key is not raised twice while open
    id: int | None = None
    acknowledged_at: datetime | None = None
    acknowledged_note: str = ""  # what the clinician did, written when acknowledging
    checkin_id: int | None = None  # the check-in that raised it (its answers and note)


@dataclass(frozen=True, slots=True)
class PatientSummary:
    """Who the record is about (no more identifying data than a clinic list needs)."""

    id: int
    display_name: str
    drug: str
    indication: str | None = None
    birth_year: int | None = None
    weight_kg: float | None = None
    comedications: tuple[str, ...] = field(default=())
    conditions: tuple[str, ...] = field(default=())
