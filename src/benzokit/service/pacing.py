"""The pacing proposal the clinician sees: the policy's choice on the patient's check-ins, its reasons,
and the model's peak withdrawal index for each choice (:mod:`benzokit.monitor.pace_proposal`).

Read-only: accepting a choice is :meth:`benzokit.service.steering.Steering.pace`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, timedelta, tzinfo

from benzokit.knowledge import Knowledge
from benzokit.monitor.alerts import load_alert_rules
from benzokit.monitor.course import Course, PlanVersion
from benzokit.monitor.pace_proposal import Assessment, Choice, assess, choice_plan
from benzokit.monitor.records import CheckIn, PatientSummary
from benzokit.monitor.scales import load_scales
from benzokit.patient import Patient
from benzokit.plan.model import Plan
from benzokit.plan.pacing import PacingPolicy, load_pacing
from benzokit.service.records_view import cached_prediction

MODEL_NOTE = (
    "the model's peak withdrawal index (typical patient, 0 to 1) over the next {days} days under "
    "each choice: a model to compare the choices with, not a prediction of the patient's scores"
)

_WHAT = {
    Choice.ADVANCE: "Take the next step from today, as planned.",
    Choice.HOLD: "Keep today's dose until the next check-in ({checkin}); then the policy judges again.",
    Choice.SLOW: (
        "Keep today's dose until the next check-in ({checkin}); every later step lasts {factor:g} "
        "times as long."
    ),
}


@dataclass(frozen=True, slots=True)
class Option:
    """One choice the clinician may accept: what it does and the model's peak for it."""

    choice: Choice
    what: str
    recommended: bool
    peak_withdrawal_index: float | None


@dataclass(frozen=True, slots=True)
class Proposal:
    """What the policy proposes on the plan version ``version`` (accepting names that version)."""

    version: int
    policy: str
    policy_title: str
    policy_source: str
    decision: str  # the rule's own word: wait, advance, hold, slow, refer, overdue
    recommended: Choice | None  # None: contact the patient
    contact: bool
    reasons: tuple[str, ...]
    options: tuple[Option, ...]
    cut_day: date
    next_checkin: date
    due: bool
    model_note: str


def policy_of(course: Course, knowledge: Knowledge) -> PacingPolicy:
    """The pacing policy of the course's current version."""
    return load_pacing(knowledge).get(course.current.policy, field="policy")


def assessment_of(
    course: Course,
    checkins: Sequence[CheckIn],
    today: date,
    knowledge: Knowledge,
    zone: tzinfo = UTC,
) -> Assessment | None:
    """The policy's assessment of the course on ``today`` in the clinic's ``zone`` (None: nothing
    to propose)."""
    if not course.current.paced:
        return None
    watched = load_alert_rules(knowledge).withdrawal_rising.scales
    return assess(
        course,
        checkins,
        policy_of(course, knowledge),
        today,
        watched=watched,
        scales=load_scales(knowledge),
        zone=zone,
    )


def the_plan(course: Course, assessment: Assessment, choice: Choice, today: date) -> Plan:
    """The plan from ``today`` that accepting ``choice`` makes (findings not yet checked)."""
    return choice_plan(
        course,
        choice,
        today,
        next_checkin=assessment.next_checkin,
        policy=assessment.policy,
    )


def horizon_days(policy: PacingPolicy) -> int:
    """How far the model looks ahead for each choice: two check-ins and the policy's settling days."""
    return 2 * policy.checkin_interval_days + policy.settle_days


def proposal_of(
    course: Course | None,
    checkins: Sequence[CheckIn],
    summary: PatientSummary,
    *,
    today: date,
    knowledge: Knowledge,
    zone: tzinfo = UTC,
) -> Proposal | None:
    """The proposal shown to the clinician, with the model's peak for each choice."""
    if course is None:
        return None
    found = assessment_of(course, checkins, today, knowledge, zone)
    if found is None:
        return None
    days = horizon_days(found.policy)
    patient = Patient(weight_kg=summary.weight_kg, comedications=summary.comedications)
    options = tuple(
        Option(
            choice,
            _WHAT[choice].format(checkin=found.next_checkin, factor=found.policy.slow_factor),
            choice is found.recommended,
            _peak(
                course,
                the_plan(course, found, choice, today),
                choice,
                today=today,
                days=days,
                patient=patient,
                knowledge=knowledge,
            ),
        )
        for choice in found.choices
    )
    return Proposal(
        version=found.version,
        policy=found.policy.name,
        policy_title=found.policy.title,
        policy_source=found.policy.citation,
        decision=found.pace.label,
        recommended=found.recommended,
        contact=found.recommended is None,
        reasons=found.reasons,
        options=options,
        cut_day=found.cut_day,
        next_checkin=found.next_checkin,
        due=found.due,
        model_note=MODEL_NOTE.format(days=days),
    )


def _peak(
    course: Course,
    plan: Plan,
    choice: Choice,
    *,
    today: date,
    days: int,
    patient: Patient,
    knowledge: Knowledge,
) -> float | None:
    """The model's peak withdrawal index from ``today`` over ``days`` days were ``plan`` accepted."""
    current = course.current
    version = PlanVersion(
        current.number + 1, plan, current.created_at, "", choice.change, policy=current.policy
    )
    first = course.versions[0].start
    prediction = cached_prediction(
        course.with_version(version), first, today + timedelta(days=days), patient, knowledge
    )
    if prediction.withdrawal_index is None:
        return None
    ahead = prediction.withdrawal_index[(today - first).days :]
    return round(max(ahead), 3) if ahead else None
