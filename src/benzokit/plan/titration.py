"""Titration from the label: start low, step up at the labelled interval, never above the labelled cap."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from benzokit.drugs.models import DoseLimit, Drug, Population
from benzokit.errors import InputError
from benzokit.plan import fields
from benzokit.plan.daily import administrations, feasible_daily_at_most
from benzokit.plan.model import Plan, Step, TitrationTerms
from benzokit.plan.products import ProductSet
from benzokit.safety.findings import Finding, Severity
from benzokit.units import ClockTime

EPSILON_MG = 1e-9


@dataclass(frozen=True, slots=True)
class TitrationRequest:
    indication: str
    times: tuple[ClockTime, ...]
    weight_kg: float | None = None
    age_y: float | None = None
    target_daily_mg: float | None = None
    start_date: date | None = None


def population_for(
    drug: Drug, indication: str, age_y: float | None, weight_kg: float | None
) -> DoseLimit:
    """The labelled dosing that applies: paediatric within its labelled age/weight bounds, else adult."""
    limits = [lim for lim in drug.dose_limits if lim.indication == indication]
    if not limits:
        known = sorted({lim.indication for lim in drug.dose_limits})
        raise InputError(
            fields.TITRATION_INDICATION, indication, f"one of {', '.join(known)} for {drug.name}"
        )
    for lim in limits:
        if lim.population is Population.PAEDIATRIC and _within(lim, age_y, weight_kg):
            return lim
    adult = [lim for lim in limits if lim.population is Population.ADULT]
    if not adult:
        raise InputError(
            fields.TITRATION_PATIENT,
            f"{age_y} y / {weight_kg} kg",
            f"a patient the {indication} label covers",
        )
    return adult[0]


def _within(limit: DoseLimit, age_y: float | None, weight_kg: float | None) -> bool:
    by_age = (
        limit.max_age_y is not None and age_y is not None and age_y <= limit.max_age_y.require()
    )
    by_weight = (
        limit.max_weight_kg is not None
        and weight_kg is not None
        and weight_kg <= limit.max_weight_kg.require()
    )
    return by_age or by_weight


def _start_and_target(limit: DoseLimit, request: TitrationRequest) -> tuple[float, float, float]:
    """(start, target, cap) in mg/day from the label and the request."""
    per_kg = limit.start_daily_mg_per_kg is not None
    if per_kg:
        if request.weight_kg is None:
            raise InputError(
                fields.TITRATION_WEIGHT, None, "a body weight: this labelled dosing is in mg/kg"
            )
        start_fig = limit.start_daily_mg_per_kg
        assert start_fig is not None
        start = (
            start_fig.low if start_fig.low is not None else start_fig.require()
        ) * request.weight_kg
        cap_fig = limit.max_start_daily_mg_per_kg
        start_cap = cap_fig.require() * request.weight_kg if cap_fig else start
        start = min(start, start_cap)
        maintenance = limit.maintenance_daily_mg_per_kg
        default_target = (
            maintenance.low * request.weight_kg if maintenance and maintenance.low else None
        )
        cap = (
            (maintenance.high * request.weight_kg)
            if maintenance and maintenance.high
            else float("inf")
        )
    else:
        start = limit.start_daily_mg.require("start_daily_mg") if limit.start_daily_mg else 0.0
        default_target = (
            limit.usual_target_daily_mg.require() if limit.usual_target_daily_mg else None
        )
        cap = limit.max_daily_mg.require("max_daily_mg") if limit.max_daily_mg else float("inf")
    target = request.target_daily_mg if request.target_daily_mg is not None else default_target
    if target is None:
        raise InputError(
            fields.TITRATION_TARGET,
            None,
            f"a target daily dose: the label gives none for {limit.indication}",
        )
    if target > cap + EPSILON_MG:
        raise InputError(
            fields.TITRATION_TARGET, f"{target:g} mg/day", f"at most the labelled {cap:g} mg/day"
        )
    return start, max(target, start), cap


def titration_plan(drug: Drug, products: ProductSet, request: TitrationRequest) -> Plan:
    """Start at the labelled dose, step up by the labelled increment every labelled interval."""
    limit = population_for(drug, request.indication, request.age_y, request.weight_kg)
    start, target, _ = _start_and_target(limit, request)
    step_fig, interval_fig = limit.step_daily_mg, limit.step_interval_days
    if step_fig is None or interval_fig is None:
        raise InputError(
            fields.TITRATION_INDICATION,
            request.indication,
            "an indication with a labelled titration step",
        )
    step = step_fig.high if step_fig.high is not None else step_fig.require()
    interval = int(interval_fig.require())
    n = len(request.times)
    dose = _feasible_at_most(products, start, n)
    steps: list[Step] = []
    day = 0
    while True:
        steps.append(Step(day, day + interval, administrations(products, dose, request.times)))
        if dose >= target - EPSILON_MG:
            break
        nxt = _feasible_at_most(products, min(dose + step, target), n)
        if nxt <= dose + EPSILON_MG:
            break
        dose, day = nxt, day + interval
    source = drug.sources[limit.source].citation
    note = Finding(
        "PLAN-TITRATION",
        Severity.INFO,
        f"{drug.display_name} {limit.indication} ({limit.population}): start {steps[0].daily_dose_mg():g} "
        f"mg/day, up to {step:g} mg/day more every {interval} days, to {dose:g} mg/day. Observe for "
        f"sedation at each step; the target is a prescriber's decision.",
        source,
    )
    return Plan(
        drug=drug.name,
        strategy=f"titration-{limit.indication}",
        steps=tuple(steps),
        findings=(note,),
        start_date=request.start_date,
        target_daily_mg=dose,
        times=request.times,
        titration=TitrationTerms(limit.indication, str(limit.population)),
    )


def _feasible_at_most(products: ProductSet, daily_mg: float, n_times: int) -> float:
    below = feasible_daily_at_most(products, daily_mg, n_times)
    if below <= 0:
        raise InputError(
            fields.PRODUCTS_LIQUID,
            f"{daily_mg:g} mg/day",
            "a dose the chosen products can make (the liquid may make it)",
        )
    return below
