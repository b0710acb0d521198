"""A plan change judged with the doses the patient has just had, not only against the plan it replaces.

A new plan version starts from today's dose and may cut on its first day; made twice in a week, each
version looks gentle alone while together they fall fast. This check looks across the change with the
guideline pace (:class:`~benzokit.safety.pace.PaceRule`, the rule the planner and the schedule check use):
the doses in force on the days before today, back one window, against the new plan's first window of
days. Days are counted from today (day 0, the new plan's first day; yesterday is day -1).
"""

from __future__ import annotations

from datetime import date, timedelta

from benzokit.drugs.loader import load_drug
from benzokit.knowledge import Knowledge
from benzokit.monitor.course import Course
from benzokit.plan.model import Plan
from benzokit.plan.strategies import StrategyName
from benzokit.safety.findings import Finding, stamped
from benzokit.safety.pace import DoseSpan, pace_of
from benzokit.safety.rules import load_rules


def _dose_in_force(course: Course, day: date) -> float:
    """mg/day on ``day``; before the course, the dose its first plan started from."""
    first = course.versions[0]
    if day < first.start:
        return first.plan.start_daily_mg or 0.0
    return course.daily_dose_mg(day)


def _days_before(course: Course, today: date, days: int) -> list[DoseSpan]:
    """The doses in force on the ``days`` days before ``today``, in day order (a span per dose)."""
    spans: list[DoseSpan] = []
    for back in range(days, 0, -1):
        dose = _dose_in_force(course, today - timedelta(days=back))
        if spans and spans[-1].daily_dose_mg == dose:
            spans[-1] = DoseSpan(spans[-1].start_day, -back + 1, dose)
        else:
            spans.append(DoseSpan(-back, -back + 1, dose))
    return spans


def _first_days(plan: Plan, days: int) -> list[DoseSpan]:
    """The new plan's steps that start within its first ``days`` days (plan day 0 is today)."""
    return [
        DoseSpan(s.start_day, s.end_day, s.daily_dose_mg(plan.drug))
        for s in plan.steps
        if s.start_day < days
    ]


def change_pace_findings(
    course: Course, plan: Plan, today: date, *, knowledge: Knowledge | None = None
) -> list[Finding]:
    """A warning when the change, with the last days' doses, falls faster than the guideline pace.

    The finding's ``day`` is the new plan's day (0: today) on which the lower dose is reached. The
    rules and the pace are those of ``knowledge`` (default: shipped).
    """
    if plan.strategy == StrategyName.DIAZEPAM_SWITCH:
        return []  # the original drug is replaced, not only reduced: judged on diazepam's schedule
    rules = load_rules(knowledge)
    pace = pace_of(rules)
    fall = pace.worst_fall(
        _days_before(course, today, pace.window_days), after=_first_days(plan, pace.window_days)
    )
    if fall is None or pace.allows(fall):
        return []
    rule = rules.rules["change_pace"]
    finding = rule.finding(
        rules.citation(rule.source, load_drug(plan.drug, knowledge)),
        window_days=pace.window_days,
        percent=fall.fraction * 100,
        from_mg=fall.from_mg,
        from_date=(today + timedelta(days=fall.from_day)).isoformat(),
        to_mg=fall.to_mg,
        to_date=(today + timedelta(days=fall.to_day)).isoformat(),
        max_percent=pace.fraction * 100,
        pace=str(pace),
    )
    numbers = finding.with_numbers(
        day=fall.to_day, from_mg=fall.from_mg, to_mg=fall.to_mg, fraction=fall.fraction
    )
    return list(stamped([numbers], (knowledge or Knowledge.shipped()).version))
