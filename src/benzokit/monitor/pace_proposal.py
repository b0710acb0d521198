"""A pacing policy judged on a patient's real check-ins: what it proposes for the next step.

When a paced version's next step is due (:meth:`Course.waiting_on`), the policy's rule
(:func:`benzokit.plan.pacing.decide`) is evaluated on the watched scale: the first of ``alerts.toml``
``withdrawal_rising.scales`` the latest check-in holds, read as its total over its range (0..1). The
cut is the first day of the dose taken now; the baseline is the same scale's latest reading before it.
The rule's day is counted from the cut (day 0), so the policy's check-ins fall at the end of every
``checkin_interval_days``-th day after it. A severe reading or a seizure since the cut asks for the
clinician at any time, due or not; the policy never raises a dose by itself.

Nothing here changes a course: :func:`choice_plan` gives the plan a choice would make (from today), and
the service saves it as a new version only when the clinician accepts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum

from benzokit.errors import InputError
from benzokit.monitor.course import ChangeKind, Course, slowed
from benzokit.monitor.records import CheckIn
from benzokit.monitor.scales import ScaleSet
from benzokit.plan.model import Plan, Step
from benzokit.plan.pacing import Pace, PacerState, PacingPolicy, decide


class Choice(StrEnum):
    """What the clinician may accept: each is a new plan version from today."""

    ADVANCE = "advance"  # the plan as planned from today: the next step starts today
    HOLD = "hold"  # the current dose kept until the policy's next check-in
    SLOW = "slow"  # the current dose to the next check-in, the remaining steps lengthened

    @property
    def change(self) -> ChangeKind:
        return {
            Choice.ADVANCE: ChangeKind.ADVANCED,
            Choice.HOLD: ChangeKind.HELD,
            Choice.SLOW: ChangeKind.PACE_SLOWED,
        }[self]


#: the changes a pacing acceptance makes (a second click finds one of these as the current version)
PACE_CHANGES = frozenset(c.change for c in Choice)


@dataclass(frozen=True, slots=True)
class Reading:
    """One check-in's watched scale: its total, the range's ends, when it describes and that day."""

    at: datetime
    day: date  # the clinic's calendar day of ``at``
    scale: str
    name: str
    total: int
    low: int
    high: int

    @property
    def measure(self) -> float:
        """The total as a fraction of the scale's range (0 none .. 1 maximum)."""
        return (self.total - self.low) / (self.high - self.low)

    @property
    def shown(self) -> str:
        return f"{self.total}/{self.high}"


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the policy makes of the patient's check-ins on the plan version ``version``.

    ``recommended`` None: contact the patient (a severe reading, a seizure, or past the policy's
    maximum duration); ``choices`` are the ones offered, the recommended first.
    """

    version: int
    policy: PacingPolicy
    pace: Pace
    recommended: Choice | None
    choices: tuple[Choice, ...]
    reasons: tuple[str, ...]
    cut_day: date
    next_checkin: date
    due: bool
    latest: Reading | None
    baseline: Reading | None


def watched_readings(
    checkins: Sequence[CheckIn], watched: Sequence[str], scales: ScaleSet, zone: tzinfo = UTC
) -> list[Reading]:
    """Each check-in's watched scale (the first of ``watched`` it holds), in time order; its day is
    the calendar day in the clinic's ``zone``."""
    found = []
    for checkin in sorted(checkins, key=lambda c: c.when):
        scale_id = next((s for s in watched if checkin.scale(s) is not None), None)
        if scale_id is None or scale_id not in scales.scales:
            continue
        score = checkin.scale(scale_id)
        assert score is not None
        scored = scales.get(scale_id).scored_range
        if scored.high <= scored.low:
            continue
        name = scales.get(scale_id).name
        day = checkin.when.astimezone(zone).date()
        found.append(
            Reading(checkin.when, day, scale_id, name, score.total, scored.low, scored.high)
        )
    return found


def cut_day(course: Course, today: date) -> date:
    """The first day of the daily dose taken on ``today`` (the last cut; the course's first day when
    the dose has not changed since)."""
    first = course.versions[0].start
    day = today
    while day > first and abs(course.dose_before_mg(day) - course.daily_dose_mg(day)) < 1e-9:
        day -= timedelta(days=1)
    return day


def next_checkin(cut: date, today: date, policy: PacingPolicy) -> date:
    """The first of the policy's check-in days after ``today``, counted from the cut (day 0)."""
    day = today + timedelta(days=1)
    while not policy.is_checkin_day((day - cut).days):
        day += timedelta(days=1)
    return day


def holds_in_a_row(course: Course) -> int:
    """Accepted holds since the last step taken or slowdown (the policy's ``holds_since_slow``)."""
    count = 0
    for version in reversed(course.versions):
        if version.change is not ChangeKind.HELD:
            break
        count += 1
    return count


def assess(
    course: Course,
    checkins: Sequence[CheckIn],
    policy: PacingPolicy,
    today: date,
    *,
    watched: Sequence[str],
    scales: ScaleSet,
    zone: tzinfo = UTC,
) -> Assessment | None:
    """The policy's proposal on ``today`` (check-ins dated in the clinic's ``zone``); None when it
    has nothing to propose (a fixed or paused course, a step not due without a severe reading or a
    seizure, a course not started)."""
    version = course.current
    gate = version.gate_day
    if not policy.adaptive or gate is None or course.paused or today < version.start:
        return None
    cut = cut_day(course, today)
    day = (today - cut).days
    readings = [r for r in watched_readings(checkins, watched, scales, zone) if r.day <= today]
    since = [r for r in readings if r.day >= cut]
    latest = since[-1] if since else None
    baseline = next(
        (r for r in reversed(readings) if r.day < cut and latest and r.scale == latest.scale),
        None,
    )
    seizures = [
        c for c in checkins if c.seizures > 0 and cut <= c.when.astimezone(zone).date() <= today
    ]
    planned_days = day + (gate - course.plan_day(today))
    due = course.waiting_on(today)
    state = PacerState(
        baseline=baseline.measure if baseline else math.nan,
        holds_since_slow=holds_in_a_row(course),
    )
    measure = latest.measure if latest else math.nan
    overdue = (today - course.versions[0].start).days + 1 > policy.max_duration_days
    pace = Pace.OVERDUE if overdue else decide(policy, state, day, measure, planned_days)[0]
    if seizures or pace in (Pace.REFER, Pace.OVERDUE):
        recommended = None
    elif not due:
        return None
    elif latest is None:
        recommended = Choice.HOLD
    else:
        recommended = {Pace.ADVANCE: Choice.ADVANCE, Pace.SLOW: Choice.SLOW}.get(pace, Choice.HOLD)
    checkin = next_checkin(cut, today, policy)
    reasons = _reasons(
        policy, pace, latest, baseline, cut=cut, today=today, due=due, seizures=seizures
    )
    return Assessment(
        version=version.number,
        policy=policy,
        pace=pace,
        recommended=recommended,
        choices=_offered(recommended, due),
        reasons=reasons,
        cut_day=cut,
        next_checkin=checkin,
        due=due,
        latest=latest,
        baseline=baseline,
    )


def _offered(recommended: Choice | None, due: bool) -> tuple[Choice, ...]:
    """The recommended choice first; to contact the patient, only keeping the dose is offered."""
    if recommended is None or not due:
        return (Choice.HOLD, Choice.SLOW)
    return (recommended, *(c for c in Choice if c is not recommended))


def _day(day: date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def _reasons(
    policy: PacingPolicy,
    pace: Pace,
    latest: Reading | None,
    baseline: Reading | None,
    *,
    cut: date,
    today: date,
    due: bool,
    seizures: Sequence[CheckIn],
) -> tuple[str, ...]:
    """The policy's reasoning in words, first the readings, then what the rule makes of them."""
    said: list[str] = []
    if seizures:
        said.append(
            f"A seizure was reported since the cut on "
            f"{_day(cut)}: contact the patient; the policy never raises a dose by itself."
        )
    if pace is Pace.OVERDUE:
        said.append(
            f"The taper has run past the policy's maximum of {policy.max_duration_days} days: "
            "the pace is your decision, not the policy's."
        )
        return tuple(said)
    if latest is None:
        said.append(
            f"No check-in since the cut on {_day(cut)} holds a watched scale: the policy cannot "
            "judge the cut. Ask the patient to check in; until then the dose is kept."
        )
        return tuple(said)
    if pace is Pace.REFER:
        said.append(
            f"{latest.name} {latest.shown} on {_day(latest.day)} is "
            f"{latest.measure:.2f} of its range, at or above the policy's {policy.ask_clinician_at:g}:"
            " contact the patient; the policy never raises a dose by itself."
        )
        return tuple(said)
    days_on = (today - cut).days + 1
    if baseline is None:
        said.append(
            f"{latest.name} {latest.shown} since the cut on {_day(cut)}; no reading of it before "
            "the cut to compare with, so no rise can be judged."
        )
    else:
        rise = latest.measure - baseline.measure
        compared = "≥" if rise >= policy.hold_rise else "under"
        said.append(
            f"{latest.name} {baseline.shown} → {latest.shown} since the cut on {_day(cut)}: "
            f"a rise of {rise:.2f} of the range, {compared} the policy's {policy.hold_rise:g}."
        )
    if pace is Pace.WAIT and days_on < policy.settle_days:
        said.append(
            f"The cut is {days_on} days old; the policy judges a cut after {policy.settle_days} "
            "days: it keeps the dose until the next check-in."
        )
    elif pace is Pace.HOLD:
        said.append("The policy holds: the next step waits until the next check-in.")
    elif pace is Pace.SLOW:
        said.append(
            f"A hold after {policy.slow_after_holds - 1} accepted hold(s) in a row: the policy "
            f"slows, the remaining steps {policy.slow_factor:g} times as long."
        )
    elif pace is Pace.ADVANCE and due:
        said.append("The next step was due and the cut is tolerated: the policy advances.")
    return tuple(said)


def _steps_from(steps: Sequence[Step], first_day: int) -> list[Step]:
    """``steps`` laid end to end from plan day ``first_day``."""
    laid, day = [], first_day
    for step in steps:
        laid.append(replace(step, start_day=day, end_day=day + step.days))
        day += step.days
    return laid


def choice_plan(
    course: Course, choice: Choice, today: date, *, next_checkin: date, policy: PacingPolicy
) -> Plan:
    """The plan from ``today`` that ``choice`` makes of the current version (findings not yet
    checked): the next steps as planned, or the current dose kept to ``next_checkin`` (at least to
    the current step's planned end) first."""
    version = course.version_on(today)
    plan = version.plan
    index = max(0, course.followed_day(today))
    current = next((n for n, s in enumerate(plan.steps) if s.start_day <= index < s.end_day), None)
    if current is None or current + 1 >= len(plan.steps):
        raise InputError("choice", str(choice), "a plan with a next step to pace")
    later = list(plan.steps[current + 1 :])
    if choice is Choice.ADVANCE:
        steps = _steps_from(later, 0)
        note = "advanced: the next step from today"
    else:
        # to the next check-in, and never shorter than the step was planned to last from today
        kept_days = max((next_checkin - today).days + 1, plan.steps[current].end_day - index)
        last_kept = today + timedelta(days=kept_days - 1)
        kept = replace(
            plan.steps[current],
            start_day=0,
            end_day=kept_days,
            note=f"Your clinician keeps this dose to {_day(last_kept)}; "
            "then they decide on the next step.",
        )
        if choice is Choice.SLOW:
            later = list(slowed(replace(plan, steps=tuple(later)), policy.slow_factor).steps)
            note = f"slowed: dose kept to {next_checkin}, later steps {policy.slow_factor:g} x"
        else:
            note = f"held: dose kept to {next_checkin}"
        steps = [kept, *_steps_from(later, kept_days)]
    return replace(
        plan,
        steps=tuple(steps),
        start_date=today,
        findings=(),
        notes=(*plan.notes, note),
        start_daily_mg=course.daily_dose_mg(today),
    )
