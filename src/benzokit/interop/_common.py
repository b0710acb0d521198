"""Shared helpers of the exports: input checks, atomic writes, and the wording of doses and products.

Doses are in mg, clock times are :class:`~benzokit.units.ClockTime` values (shown ``HH:MM``, 24-hour),
and plan days count from 0 (the plan's first day), a step covering days ``[start_day, end_day)``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from benzokit.drugs.models import ProductForm
from benzokit.errors import InputError
from benzokit.plan.model import Administration, Plan, ProductUse, Step

_FORM_NAMES = {ProductForm.ODT: "ODT"}
_FRACTIONS = {
    "half": "half of",
    "a quarter of": "a quarter of",
    "three quarters of": "three quarters of",
}
_FRACTION = re.compile(r"^(half|a quarter of|three quarters of) (?!(?:of )?an? )")


def check_plan(plan: Plan) -> None:
    """Refuse a plan the exports cannot show faithfully, naming the field at fault."""
    if not plan.steps:
        raise InputError("plan.steps", (), "a plan needs at least one step")
    previous_end = 0
    for i, step in enumerate(plan.steps):
        where = f"plan.steps[{i}]"
        if step.start_day != previous_end or step.end_day <= step.start_day:
            raise InputError(
                f"{where}.start_day",
                (step.start_day, step.end_day),
                f"steps must follow each other without gaps and last at least a day; "
                f"this one should start on day {previous_end}",
            )
        previous_end = step.end_day
        for j, dose in enumerate(step.doses):
            if dose.dose_mg < 0:
                raise InputError(
                    f"{where}.doses[{j}].dose_mg", dose.dose_mg, "must be 0 mg or more"
                )


def require_start_date(plan: Plan, what: str) -> date:
    """The plan's first day, or an :class:`InputError` saying that ``what`` needs one."""
    if plan.start_date is None:
        raise InputError(
            "start_date",
            None,
            f"{what} needs real dates: give the plan a start date",
        )
    return plan.start_date


def plan_key(plan: Plan) -> str:
    """A stable 16-hex-digit key of the plan's identity: drug, strategy, start date and parameters.

    The same planner inputs give the same key, so re-exporting a plan updates calendar events and
    FHIR resources instead of duplicating them.
    """
    identity = {
        "drug": plan.drug,
        "strategy": plan.strategy,
        "start_date": plan.start_date.isoformat() if plan.start_date else None,
        "parameters": plan.parameters,
    }
    text = json.dumps(identity, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def mg(value: float) -> str:
    """A dose in mg as people write it: ``0.125``, ``1``, ``2.5`` (no float noise)."""
    return f"{round(value, 6):g}"


def product_text(use: ProductUse) -> str:
    """One product use in words, from :meth:`ProductUse.describe` with the form names capitalised."""
    text = _FRACTION.sub(lambda m: f"{_FRACTIONS[m[1]]} a ", use.describe())
    for form, name in _FORM_NAMES.items():
        text = re.sub(rf"\b{form.value}\b", name, text)
    return text


def products_text(administration: Administration) -> str:
    """What to take for one dose: ``1 x 0.5 mg tablet + 1 x 0.125 mg ODT``."""
    if not administration.products:
        return "no tablets at this time" if administration.dose_mg == 0 else ""
    return " + ".join(product_text(p) for p in administration.products)


def drug_title(name: str) -> str:
    return name[:1].upper() + name[1:]


def drugs_of(plan: Plan) -> tuple[str, ...]:
    """Every drug the plan's administrations name, the plan's own drug first."""
    named = {a.drug for s in plan.steps for a in s.doses}
    return (plan.drug, *sorted(named - {plan.drug}))


def sorted_doses(step: Step) -> tuple[Administration, ...]:
    """A step's administrations in clock order (then by drug)."""
    return tuple(sorted(step.doses, key=lambda a: (a.time, a.drug)))


@dataclass(frozen=True, slots=True)
class Day:
    """One calendar day of the plan: its 0-based index, date (if the plan has one) and step."""

    index: int
    date: date | None
    step_index: int
    step: Step


def days_of(plan: Plan) -> Iterator[Day]:
    """Every day of the plan, in order."""
    for i, step in enumerate(plan.steps):
        for day in range(step.start_day, step.end_day):
            yield Day(day, plan.date_of(day), i, step)
