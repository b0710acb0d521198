"""The taper as it is actually run: plan versions and pauses, and what to take on a given day.

A course is a sequence of plan versions (each a complete :class:`~benzokit.plan.Plan` with its start date;
a newer version replaces the older from its start date on — old versions are kept) and pauses. While
paused, the plan's clock stops: the patient stays on the dose of the day the pause began, and every later
step moves back by the days paused. Changes are pure functions returning a new course or plan; the
clinician's action is recorded by the store.

A version paced by a symptom-guided policy (``plan/data/pacing.toml``, its ``policy`` not ``fixed``) is
followed through its first step only: from the day its next step was planned the patient keeps that
step's dose (the course is *waiting*) until the clinician accepts a proposal, which is a new version.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from benzokit.errors import InputError
from benzokit.plan.model import Administration, DailyDose, Plan, Step
from benzokit.plan.pacing import FIXED

#: The longest a slowed plan may last (days): a software bound, not a clinical figure. No taper can
#: usefully outlast a lifetime, and dates past it overflow the calendar (year 9999) in every export.
MAX_SLOWED_PLAN_DAYS = 100 * 366


class ChangeKind(StrEnum):
    """Why a plan version exists."""

    INITIAL = "initial"
    SLOWED = "slowed"
    ADJUSTED = "adjusted"
    HELD = "held"  # a pacing proposal accepted: the current dose kept to the next check-in
    ADVANCED = "advanced"  # a pacing proposal accepted: the next step from today
    PACE_SLOWED = "pace-slowed"  # a pacing proposal accepted: dose kept, later steps lengthened


class CourseStatus(StrEnum):
    NOT_STARTED = "not started"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"


@dataclass(frozen=True, slots=True)
class PlanVersion:
    """One version of a patient's plan; ``plan.start_date`` is the day it takes effect."""

    number: int
    plan: Plan
    created_at: datetime
    created_by: str
    change: ChangeKind
    reason: str = ""
    policy: str = FIXED  # the pacing policy's name (pacing.toml); ``fixed``: every step on its day

    @property
    def start(self) -> date:
        if self.plan.start_date is None:
            raise InputError("plan.start_date", None, "a start date for a plan a patient follows")
        return self.plan.start_date

    @property
    def paced(self) -> bool:
        """Whether a symptom-guided policy paces this version (its next step waits for the clinician)."""
        return self.policy != FIXED

    @property
    def gate_day(self) -> int | None:
        """The plan day from which the next step waits for the clinician (None: never waits; the
        last step of a plan ends the taper as planned)."""
        if not self.paced or len(self.plan.steps) < 2:
            return None
        return self.plan.steps[0].end_day


@dataclass(frozen=True, slots=True)
class Pause:
    """Days [start, end) on which the plan's clock stood still; ``end`` None while still paused."""

    start: date
    end: date | None = None
    reason: str = ""
    by: str = ""

    def days_before(self, day: date, since: date) -> int:
        """How many paused days fall in [since, day)."""
        first = max(self.start, since)
        last = min(self.end or day, day)
        return max(0, (last - first).days)


@dataclass(frozen=True, slots=True)
class DoseChange:
    """The planned daily dose changes on ``day`` from ``from_mg`` to ``to_mg`` (mg/day, all drugs)."""

    day: date
    from_mg: float
    to_mg: float

    @property
    def is_cut(self) -> bool:
        return self.to_mg < self.from_mg


@dataclass(frozen=True, slots=True)
class StepDates:
    """A plan step and the calendar days it covers (None: not reached, e.g. after an open pause)."""

    step: Step
    first: date | None
    last: date | None

    def covers(self, day: date) -> bool:
        return self.first is not None and self.last is not None and self.first <= day <= self.last


@dataclass(frozen=True, slots=True)
class Course:
    """A patient's plan versions (ascending) and pauses (ascending, not overlapping)."""

    versions: tuple[PlanVersion, ...]
    pauses: tuple[Pause, ...] = ()

    def __post_init__(self) -> None:
        if not self.versions:
            raise InputError("course.versions", "none", "at least one plan version")

    @property
    def current(self) -> PlanVersion:
        return self.versions[-1]

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1].end is None

    def version_on(self, day: date) -> PlanVersion:
        """The version in force on ``day`` (the first version before it starts)."""
        in_force = [v for v in self.versions if v.start <= day]
        return in_force[-1] if in_force else self.versions[0]

    def plan_day(self, day: date) -> int:
        """The day of the version in force that ``day`` corresponds to (paused days not counted)."""
        version = self.version_on(day)
        paused = sum(p.days_before(day, version.start) for p in self.pauses)
        return (day - version.start).days - paused

    def is_paused_on(self, day: date) -> bool:
        return any(p.start <= day and (p.end is None or day < p.end) for p in self.pauses)

    def followed_day(self, day: date) -> int:
        """The plan day whose doses are taken on ``day``: :meth:`plan_day`, but a paced version
        stays on the last day of its first step once its next step is due (see the module)."""
        index = self.plan_day(day)
        gate = self.version_on(day).gate_day
        return index if gate is None or index < gate else gate - 1

    def waiting_on(self, day: date) -> bool:
        """Whether on ``day`` a paced version's next step is due and waits for the clinician."""
        version = self.version_on(day)
        gate = version.gate_day
        return (
            gate is not None
            and day >= version.start
            and not self.is_paused_on(day)
            and self.plan_day(day) >= gate
        )

    def step_on(self, day: date) -> Step | None:
        """The plan step to follow on ``day``; None before the course starts or after it ends."""
        return step_at(self.version_on(day).plan, self.followed_day(day))

    def doses_on(self, day: date) -> tuple[Administration, ...]:
        step = self.step_on(day)
        return () if step is None else tuple(sorted(step.doses, key=lambda a: a.time))

    def status_on(self, day: date) -> CourseStatus:
        version = self.version_on(day)
        if day < self.versions[0].start:
            return CourseStatus.NOT_STARTED
        if self.is_paused_on(day):
            return CourseStatus.PAUSED
        if self.followed_day(day) >= version.plan.total_days:
            return CourseStatus.COMPLETED
        return CourseStatus.ACTIVE

    def daily_dose_mg(self, day: date) -> float:
        step = self.step_on(day)
        return 0.0 if step is None else step.daily_dose_mg()

    def dose_before_mg(self, day: date) -> float:
        """mg/day the patient took the day before ``day``: on the course's first day, the dose the
        first plan starts from (its ``first_daily_mg``), so a cut on plan day 0 is a cut."""
        if day <= self.versions[0].start:
            return self.versions[0].plan.first_daily_mg if day == self.versions[0].start else 0.0
        return self.daily_dose_mg(day - timedelta(days=1))

    def dose_change_on(self, day: date) -> DoseChange | None:
        """The change of the planned daily dose on ``day`` (None when it is the day before's)."""
        before, after = self.dose_before_mg(day), self.daily_dose_mg(day)
        if abs(after - before) < 1e-9 or self.status_on(day) is CourseStatus.NOT_STARTED:
            return None
        return DoseChange(day, before, after)

    def last_cut_before(self, day: date, *, lookback_days: int) -> date | None:
        """The latest day in (day − lookback, day] on which the planned daily dose fell (the plan's
        first day included: its first cut is a cut)."""
        for back in range(lookback_days):
            this = day - timedelta(days=back)
            if self.daily_dose_mg(this) < self.dose_before_mg(this) - 1e-9:
                return this
        return None

    def step_calendar(self, version: PlanVersion) -> tuple[StepDates, ...]:
        """The calendar days of each step of ``version`` (paused days move later steps back; a step
        after an open pause has no dates yet). A later version cuts the steps off where it starts."""
        ends = [v.start for v in self.versions if v.number > version.number]
        stop = min(ends) if ends else None
        paused_days = sum(
            (p.end - p.start).days
            for p in self.pauses
            if p.end is not None and p.start >= version.start
        )
        first: dict[int, date] = {}
        last: dict[int, date] = {}
        day = version.start
        open_pause = self.pauses[-1].start if self.paused else None
        for _ in range(version.plan.total_days + paused_days + 1):
            if (stop is not None and day >= stop) or (open_pause is not None and day > open_pause):
                break
            index = self.plan_day(day) if self.version_on(day) is version else -1
            if version.gate_day is not None and index >= version.gate_day:
                break  # the next step of a paced version has no date until the clinician accepts
            if 0 <= index < version.plan.total_days:
                number = next(
                    n for n, s in enumerate(version.plan.steps) if s.start_day <= index < s.end_day
                )
                first.setdefault(number, day)
                last[number] = day
            day += timedelta(days=1)
        if open_pause is not None and last:  # the step paused in lasts until the pause ends
            del last[max(last)]
        return tuple(
            StepDates(step, first.get(n), last.get(n)) for n, step in enumerate(version.plan.steps)
        )

    def with_version(self, version: PlanVersion) -> Course:
        if version.number != self.current.number + 1:
            raise InputError(
                "version", version.number, f"the next version, {self.current.number + 1}"
            )
        if version.start < self.current.start:
            raise InputError(
                "start_date", version.start.isoformat(), "on or after the current version's start"
            )
        return replace(self, versions=(*self.versions, version))


def step_at(plan: Plan, index: int) -> Step | None:
    """The step covering plan day ``index`` (None before day 0 and from the plan's end on)."""
    if index < 0:
        return None
    return next((s for s in plan.steps if s.start_day <= index < s.end_day), None)


def pause(course: Course, on: date, *, reason: str, by: str) -> Course:
    """The course paused from ``on``: the patient stays on that day's dose until resumed."""
    if course.paused:
        raise InputError("action", "pause", "resume first: the taper is already paused")
    if course.pauses and on < (course.pauses[-1].end or on):
        raise InputError("date", on.isoformat(), "a day after the last pause ended")
    return replace(course, pauses=(*course.pauses, Pause(on, None, reason.strip(), by)))


def resume(course: Course, on: date, *, by: str) -> Course:
    """The open pause ended on ``on``: from that day the plan's clock runs again."""
    if not course.paused:
        raise InputError("action", "resume", "pause first: the taper is not paused")
    last = course.pauses[-1]
    if on < last.start:
        raise InputError("date", on.isoformat(), f"on or after the pause began ({last.start})")
    return replace(course, pauses=(*course.pauses[:-1], replace(last, end=on)))


def remaining_plan(course: Course, day: date) -> Plan:
    """The plan in force from ``day`` on, as a plan starting on ``day`` (the current step's rest first)."""
    plan = course.version_on(day).plan
    index = max(0, course.followed_day(day))
    steps = [
        replace(s, start_day=max(s.start_day, index) - index, end_day=s.end_day - index)
        for s in plan.steps
        if s.end_day > index
    ]
    if not steps:
        raise InputError("plan", "completed", "a course with steps left to change")
    return replace(plan, steps=tuple(steps), start_date=day, findings=())


#: what a handout or calendar of a paced plan says instead of the dates of the steps after the current one
WAITS_NOTE = (
    "The next step waits for your clinician's decision: it is added once your clinician accepts it; "
    "until then keep taking the current dose."
)


def promised_plan(course: Course, day: date) -> Plan:
    """:func:`remaining_plan`, but of a paced version only the current step (its next one has no
    date until the clinician accepts it), its note saying so (:data:`WAITS_NOTE`)."""
    rest = remaining_plan(course, day)
    if course.version_on(day).gate_day is None:
        return rest
    current = rest.steps[0]
    return replace(rest, steps=(replace(current, note=f"{current.note} {WAITS_NOTE}".strip()),))


def slowed(plan: Plan, factor: float) -> Plan:
    """Every step of ``plan`` lasting ``factor`` times longer (whole days, at least one more day)."""
    if not 1.0 < factor <= 4.0:
        raise InputError(
            "factor", factor, "a slowing factor above 1 and at most 4 (2 = half as fast)"
        )
    steps, day = [], 0
    for step in plan.steps:
        days = max(step.days + 1, round(step.days * factor))
        steps.append(replace(step, start_day=day, end_day=day + days))
        day += days
    if day > MAX_SLOWED_PLAN_DAYS:
        raise InputError(
            "factor",
            factor,
            f"a factor that keeps the plan within {MAX_SLOWED_PLAN_DAYS} days "
            f"(slowed by {factor:g} it would last {day} days)",
        )
    notes = (*plan.notes, f"slowed: every step {factor:g} times as long")
    return replace(plan, steps=tuple(steps), notes=notes, slowed_by=factor, findings=())


def current_dose(step: Step, drug: str) -> DailyDose:
    """What ``step`` gives of ``drug`` each day (mg/day and the dose times), to plan a new taper from."""
    doses = step.doses_of(drug)
    if not doses:
        others = ", ".join(step.daily_dose_by_drug()) or "no drug"
        raise InputError("plan", others, f"a current dose of {drug} to taper from")
    return DailyDose(sum(a.dose_mg for a in doses), tuple(a.time for a in doses))
