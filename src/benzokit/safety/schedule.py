"""Schedule checks: taper pace against the guideline, abrupt stops, steps above the label maximum.

A schedule is a sequence of consecutive steps, each covering days ``[start_day, end_day)`` at one
total daily dose in mg/day: plain ``(start_day, end_day, daily_dose_mg)`` tuples or objects with
``start_day``, ``end_day`` and a ``daily_dose_mg`` attribute or method (such as
:class:`benzokit.plan.Step`; a ``hold`` step without doses repeats the previous dose).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Protocol

from benzokit.drugs.models import Drug, ProductForm
from benzokit.errors import InputError
from benzokit.safety.context import PatientContext
from benzokit.safety.dosing import above, label_maximum
from benzokit.safety.findings import Finding
from benzokit.safety.pace import DoseSpan, PaceRule, pace_of
from benzokit.safety.rules import RuleSet

HOLD = "hold"


class ScheduleStep(Protocol):
    """What the checker reads from a plan step."""

    @property
    def start_day(self) -> int: ...

    @property
    def end_day(self) -> int: ...


StepLike = ScheduleStep | tuple[float, float, float]


def normalise_steps(steps: Sequence[StepLike], drug: str) -> tuple[DoseSpan, ...]:
    """Validated, consecutive spans; bad steps are an :class:`InputError` naming the step."""
    spans: list[DoseSpan] = []
    for index, step in enumerate(steps):
        start, end, dose = _unpack(step, drug)
        if not (math.isfinite(dose) and dose >= 0):
            raise InputError(f"step {index + 1} daily dose", dose, "a daily dose in mg, 0 or more")
        if not (float(start).is_integer() and float(end).is_integer() and start < end):
            raise InputError(
                f"step {index + 1} days", (start, end), "whole days with start_day < end_day"
            )
        if dose == 0 and str(getattr(step, "kind", "")) == HOLD and spans:
            dose = spans[-1].daily_dose_mg
        if spans and int(start) != spans[-1].end_day:
            raise InputError(
                f"step {index + 1} start_day",
                start,
                f"consecutive steps: this step must start on day {spans[-1].end_day}, "
                "where the previous one ends",
            )
        spans.append(DoseSpan(int(start), int(end), float(dose)))
    return tuple(spans)


def _unpack(step: StepLike, drug: str) -> tuple[float, float, float]:
    if isinstance(step, tuple):
        if len(step) != 3:
            raise InputError("step", step, "(start_day, end_day, daily_dose_mg)")
        return float(step[0]), float(step[1]), float(step[2])
    dose = getattr(step, "daily_dose_mg", None)
    if callable(dose):
        call: Callable[..., float] = dose
        dose = call(drug)
    if not isinstance(dose, int | float):
        raise InputError("step", step, "a step with start_day, end_day and daily_dose_mg")
    return float(step.start_day), float(step.end_day), float(dose)


def smallest_product_dose_mg(drug: Drug) -> float:
    """The smallest dose (mg) a solid product of the drug can give: its smallest whole strength, or
    a scored strength split as far as the label allows (``smallest_split``), whichever is smaller.

    Only scored strengths are split (as the planner splits them). Liquids are left out: the smallest
    measurable volume is the prescriber's choice of syringe, not a property of the drug.
    """
    doses = [
        min(*p.strengths_mg, min(p.scored_strengths_mg, default=math.inf) * p.smallest_split)
        for p in drug.products
        if p.form is not ProductForm.LIQUID and p.strengths_mg
    ]
    return min(doses) if doses else 0.0


def check_spans(
    drug: Drug,
    spans: tuple[DoseSpan, ...],
    context: PatientContext,
    reason: str | None,
    rules: RuleSet,
) -> list[Finding]:
    """The schedule's findings under ``rules``: pace, abrupt stops, steps above the label maximum."""
    findings = pace_findings(drug, spans, rules, pace_of(rules))
    findings += _stops(drug, spans, rules, reason)
    maximum = label_maximum(drug, context, rules)
    if maximum is not None:
        over = [s for s in spans if above(s.daily_dose_mg, maximum.daily_mg)]
        if over:
            top = max(over, key=lambda s: s.daily_dose_mg)
            findings.append(
                rules.rules["schedule_above_label_max"]
                .finding(
                    maximum.citation,
                    drug=drug.name,
                    dose_mg=top.daily_dose_mg,
                    day=over[0].start_day,
                    limit_mg=maximum.daily_mg,
                    indication=maximum.indication,
                    population=maximum.population,
                )
                .with_numbers(day=over[0].start_day, to_mg=top.daily_dose_mg)
            )
    return findings


def pace_findings(
    drug: Drug, spans: tuple[DoseSpan, ...], rules: RuleSet, pace: PaceRule
) -> list[Finding]:
    """One ``rules.taper_rate`` per change faster than ``pace``: for each step, the worst fall into it
    from the doses of the window before it (day, from, to and fraction as fields).

    Falls to zero are judged by the abrupt-stop rule, not here.
    """
    rule = rules.rules["taper_rate"]
    findings: list[Finding] = []
    for index in range(1, len(spans)):
        fall = pace.worst_fall(spans[:index], after=spans[index : index + 1])
        if fall is None or pace.allows(fall):
            continue
        finding = rule.finding(
            rules.citation(rule.source, drug),
            percent=fall.fraction * 100,
            window_days=pace.window_days,
            from_mg=fall.from_mg,
            from_day=fall.from_day if fall.from_day >= 0 else f"{fall.from_day} (before the plan)",
            to_mg=fall.to_mg,
            to_day=fall.to_day,
            max_percent=pace.fraction * 100,
            pace=str(pace),
        )
        findings.append(
            finding.with_numbers(
                day=fall.to_day, from_mg=fall.from_mg, to_mg=fall.to_mg, fraction=fall.fraction
            )
        )
    return findings


def _stops(
    drug: Drug, spans: tuple[DoseSpan, ...], rules: RuleSet, reason: str | None
) -> list[Finding]:
    smallest = smallest_product_dose_mg(drug)
    findings: list[Finding] = []
    for before, after in itertools.pairwise(spans):
        if after.daily_dose_mg > 0 or not above(before.daily_dose_mg, smallest):
            continue
        values = {"drug": drug.name, "from_mg": before.daily_dose_mg, "day": after.start_day}
        if reason is None:
            rule = rules.rules["abrupt_stop"]
            found = rule.finding(rules.citation(rule.source, drug), smallest_mg=smallest, **values)
        else:
            rule = rules.rules["abrupt_stop_overridden"]
            found = rule.finding(rules.citation(rule.source, drug), reason=reason, **values)
        findings.append(
            found.with_numbers(day=after.start_day, from_mg=before.daily_dose_mg, to_mg=0.0)
        )
    return findings
