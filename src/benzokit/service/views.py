"""What the use cases return: immutable views for pages and JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from benzokit.monitor.course import Course, CourseStatus, DoseChange
from benzokit.monitor.records import Alert, AlertLevel, CheckIn, DoseLog, PatientSummary
from benzokit.plan.model import Plan
from benzokit.safety.findings import Finding


@dataclass(frozen=True, slots=True)
class DoseSlot:
    """A planned dose of a day and the patient's latest confirmation of it (None: not yet)."""

    day: date
    time: str
    drug: str
    dose_mg: float
    what_to_take: str
    log: DoseLog | None
    taken_time: str | None = None  # when it was taken, clinic time ("HH:MM")


@dataclass(frozen=True, slots=True)
class Today:
    patient: PatientSummary
    day: date
    status: CourseStatus | None
    slots: tuple[DoseSlot, ...]
    plan_version: int | None
    step_note: str
    change: DoseChange | None = None  # the planned daily dose changes today (not while paused)
    new_plan_today: bool = False  # a new plan version (not the first) takes effect today
    daily_dose_mg: float = 0.0  # what the plan gives today, mg/day (all drugs)
    today: date | None = None  # the clinic's today (``day`` is earlier when catching up)
    unrecorded: tuple[tuple[date, int], ...] = ()  # earlier days in the window: doses not recorded
    waiting: bool = False  # the next step is due and waits for the clinician (a paced plan)

    @property
    def catching_up(self) -> bool:
        return self.today is not None and self.day < self.today


@dataclass(frozen=True, slots=True)
class CheckInResult:
    checkin: CheckIn
    alerts: tuple[Alert, ...]
    guidance: tuple[str, ...]  # what the patient is shown at once (help lines included, in order)
    repeated: bool = False  # the same client token was already saved: nothing new was written
    help_first: str | None = None  # "emergency" (a seizure) or "crisis" (self-harm): the line first


@dataclass(frozen=True, slots=True)
class Adherence:
    days: int
    planned: int
    taken: int
    missed: int
    unrecorded: int

    @property
    def fraction_taken(self) -> float | None:
        return None if self.planned == 0 else self.taken / self.planned


@dataclass(frozen=True, slots=True)
class PatientFlags:
    """One row of the clinician's list: who, where in the taper, and what needs attention."""

    patient: PatientSummary
    status: CourseStatus | None
    daily_dose_mg: float
    open_alerts: int
    top_level: AlertLevel | None
    adherence: Adherence
    last_checkin: datetime | None
    waiting: bool = False  # the next step is due and waits for the clinician (a paced plan)


@dataclass(frozen=True, slots=True)
class PlanChange:
    course: Course
    findings: tuple[Finding, ...]
    message: str
    before: Plan | None = None  # the plan from today on as it was before the change (old vs new)
