"""A plan change judged with the doses the patient has just had, not only against the plan it replaces.

A new plan version starts from today's dose and may cut on its first day; made twice in a week, each
version looks gentle alone while together they fall fast. This check looks across the change: the doses
in force on the last days (``rules.taper_rate``'s window) against the new plan's first days.
"""

from __future__ import annotations

from datetime import date, timedelta

from benzokit.drugs.loader import load_drug
from benzokit.monitor.course import Course, step_at
from benzokit.plan.model import Plan
from benzokit.plan.strategies import StrategyName
from benzokit.safety.findings import Finding
from benzokit.safety.rules import load_rules

RELATIVE_TOLERANCE = 1e-9


def _dose_in_force(course: Course, day: date) -> float:
    """mg/day on ``day``; before the course, the dose its first plan started from."""
    first = course.versions[0]
    if day < first.start:
        return first.plan.start_daily_mg or 0.0
    return course.daily_dose_mg(day)


def change_pace_findings(course: Course, plan: Plan, today: date) -> list[Finding]:
    """A warning when the change, with the last days' doses, falls faster than the guideline pace."""
    if plan.strategy == StrategyName.DIAZEPAM_SWITCH:
        return []  # the original drug is replaced, not only reduced: judged on diazepam's schedule
    rules = load_rules()
    pace = rules.rules["taper_rate"]
    window = int(pace.value("window_days"))
    limit = pace.value("max_reduction_fraction")
    days = [today - timedelta(days=k) for k in range(window)]
    before = [(day, _dose_in_force(course, day)) for day in days]
    after = []
    for j in range(window):
        step = step_at(plan, j)
        if step is not None:
            after.append((today + timedelta(days=j), step.daily_dose_mg(plan.drug)))
    worst: tuple[float, date, float, date, float] | None = None
    for then, then_mg in before:
        for later, later_mg in after:
            if then_mg <= 0 or later_mg <= 0 or (later - then).days > window:
                continue
            fall = 1 - later_mg / then_mg
            if worst is None or fall > worst[0]:
                worst = (fall, then, then_mg, later, later_mg)
    if worst is None or worst[0] <= limit + RELATIVE_TOLERANCE:
        return []
    fall, then, then_mg, later, later_mg = worst
    rule = rules.rules["change_pace"]
    return [
        rule.finding(
            rules.citation(rule.source, load_drug(plan.drug)),
            window_days=window,
            percent=fall * 100,
            from_mg=then_mg,
            from_date=then.isoformat(),
            to_mg=later_mg,
            to_date=later.isoformat(),
            max_percent=limit * 100,
        )
    ]
