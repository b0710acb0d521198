"""Building a taper plan: strategy pace, real products, the guideline's window limit, holds.

The engine walks down from the starting daily dose. Each cut goes to the smallest dose the products can
make at or above the strategy's ideal dose — never a larger cut than the strategy allows. Where the
products cannot make any dose between the ideal and the current one, the step is *product-limited*: the
next lower feasible dose is used and a finding says so (and that a liquid would allow the smaller step).
Guideline-paced strategies also never reduce faster than the guideline pace (a
:class:`~benzokit.safety.pace.PaceRule`, passed in: the same rule the safety checks judge plans by).

A plan that ends at zero never falls to zero from a step: it walks down to a *final dose* — at most
``final_dose_fraction`` of the starting dose, or the smallest daily dose the products make when they
cannot go that low (never above the drug's smallest solid unit when the products can go lower) — and
the stop from there is stated as the final step (``PLAN-FINAL-STEP``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date

from benzokit.drugs.models import Drug
from benzokit.errors import InputError
from benzokit.plan import fields
from benzokit.plan.daily import (
    administrations,
    feasible_daily_at_most,
    feasible_daily_at_or_above,
    feasible_daily_below,
    require_feasible,
    simplest_daily,
)
from benzokit.plan.model import Plan, Step, StepKind
from benzokit.plan.products import UG_PER_MG, LiquidKind, ProductSet
from benzokit.plan.strategies import Pace
from benzokit.safety.findings import Finding, Severity, sort_findings
from benzokit.safety.pace import DoseSpan, PaceRule
from benzokit.safety.schedule import smallest_product_dose_mg
from benzokit.units import ClockTime

MAX_STEPS = 400
EPSILON_MG = 1e-9


@dataclass(frozen=True, slots=True)
class TaperSettings:
    """Where the taper starts and ends, when doses are taken, and optional holds after each cut."""

    start_daily_mg: float
    times: tuple[ClockTime, ...]
    target_daily_mg: float = 0.0
    hold_days_after_cut: int = 0
    start_date: date | None = None
    window_limit: bool = True
    risk: str | None = None
    products_market: str | None = None
    liquid: bool | None = None
    final_dose_fraction: float = 0.0  # 0: stop from the smallest daily dose the products make
    final_dose_source: str = ""
    simpler_day_min_share_of_cut: float = 1.0  # 1: every cut exactly at the strategy's ideal


def final_dose_limit_mg(drug: Drug, products: ProductSet, settings: TaperSettings) -> float:
    """The largest daily dose (mg/day) a plan stops from: ``final_dose_fraction`` of the start, but
    never below the smallest daily dose the products make, nor (when the products can go lower)
    above the drug's smallest solid unit, the most the safety checks accept a stop from."""
    smallest = smallest_daily_mg(products, len(settings.times))
    wanted_ug = math.floor(
        settings.final_dose_fraction * settings.start_daily_mg * UG_PER_MG + 1e-6
    )
    wanted = wanted_ug / UG_PER_MG  # whole micrograms, rounded down
    return max(smallest, min(wanted, smallest_product_dose_mg(drug) or wanted))


def smallest_daily_mg(products: ProductSet, n_times: int) -> float:
    """The smallest non-zero daily dose (mg/day) the products make over ``n_times`` doses."""
    return feasible_daily_at_or_above(products, 1.0 / UG_PER_MG, n_times) or math.inf


def _allows_cut(
    guideline: PaceRule, history: list[tuple[int, float]], day: int, daily_mg: float
) -> bool:
    """Whether going to ``daily_mg`` on ``day`` keeps within ``guideline`` after ``history``.

    ``history`` holds (first day, mg/day) of each dose so far, in day order; each lasts until the next
    (the last until ``day``). Only the doses of the window before ``day`` can matter.
    """
    recent: list[DoseSpan] = []
    end = day
    for start, dose in reversed(history):
        recent.append(DoseSpan(start, end, dose))
        if start <= day - guideline.window_days:
            break
        end = start
    return guideline.is_satisfied_by(recent[::-1], after=[DoseSpan(day, day + 1, daily_mg)])


def _next_daily(
    products: ProductSet, ideal: float, current: float, n_times: int, min_share_of_cut: float
) -> float | None:
    """The smallest feasible daily dose at or above ``ideal`` (None: none), or a simpler day of
    products that keeps at least ``min_share_of_cut`` of that cut (``[product_rounding]`` in
    ``strategies.toml``)."""
    nxt = feasible_daily_at_or_above(products, ideal, n_times)
    if nxt is None or nxt >= current - EPSILON_MG:
        return nxt
    kept = nxt + (current - nxt) * (1.0 - min_share_of_cut)
    return simplest_daily(products, nxt, min(kept, current - EPSILON_MG), n_times)


def _first_day_allowing(
    guideline: PaceRule, history: list[tuple[int, float]], day: int, daily_mg: float
) -> int:
    """The first day from ``day`` on which the window allows going to ``daily_mg`` (the current
    step lasts longer until then)."""
    while not _allows_cut(guideline, history, day, daily_mg):
        day += 1
    return day


def taper_plan(
    drug: Drug, products: ProductSet, pace: Pace, settings: TaperSettings, *, guideline: PaceRule
) -> Plan:
    """The plan for ``pace`` from ``settings.start_daily_mg`` down to ``settings.target_daily_mg``.

    With ``settings.window_limit`` no cut is faster than ``guideline`` (cuts wait until its window
    allows them); a larger cut forced by the products is a finding measured against it.
    """
    n_times = len(settings.times)
    require_feasible(products, settings.start_daily_mg, n_times, fields.TAPER_FROM)
    if settings.target_daily_mg > 0:
        require_feasible(products, settings.target_daily_mg, n_times, fields.TAPER_TARGET)
    if settings.target_daily_mg >= settings.start_daily_mg:
        raise InputError(
            fields.TAPER_TARGET,
            f"{settings.target_daily_mg:g} mg/day",
            f"a target below the starting dose ({settings.start_daily_mg:g} mg/day)",
        )

    steps: list[Step] = []
    findings: list[Finding] = []
    history: list[tuple[int, float]] = [(-10_000, settings.start_daily_mg)]
    current, day = settings.start_daily_mg, 0
    stops = settings.target_daily_mg <= 0
    final_limit = final_dose_limit_mg(drug, products, settings) if stops else 0.0
    # never below the final dose on the way down (a fixed decrement reaching zero goes to it)
    floor = (
        feasible_daily_at_most(products, final_limit, n_times)
        if stops
        else settings.target_daily_mg
    )
    while current > settings.target_daily_mg + EPSILON_MG:
        if stops and current <= final_limit + EPSILON_MG:
            break  # the final dose: the stop is made from here
        if len(steps) >= MAX_STEPS:
            raise InputError(
                fields.TAPER_STRATEGY,
                pace.name,
                f"a pace that reaches the target within {MAX_STEPS} steps",
            )
        ideal = max(pace.ideal_next(current), floor)
        if settings.window_limit:
            # never more than the guideline allows in one cut
            ideal = max(ideal, guideline.lowest_cut_mg(current))
        nxt = _next_daily(products, ideal, current, n_times, settings.simpler_day_min_share_of_cut)
        if (
            nxt is not None
            and settings.window_limit
            and nxt >= guideline.lowest_cut_mg(current) - EPSILON_MG
        ):
            day = _first_day_allowing(guideline, history, day, nxt)
            if steps and day > steps[-1].end_day:
                steps[-1] = replace(steps[-1], end_day=day)
        if nxt is None or nxt >= current - EPSILON_MG:
            nxt = max(feasible_daily_below(products, current, n_times), floor)
            findings.append(_product_limited(current, nxt, ideal, day=day, guideline=guideline))
        doses = administrations(products, nxt, settings.times)
        steps.append(Step(day, day + pace.interval_days, doses))
        history.append((day, nxt))
        day += pace.interval_days
        if settings.hold_days_after_cut:
            steps.append(
                Step(
                    day, day + settings.hold_days_after_cut, doses, StepKind.HOLD, "hold: no change"
                )
            )
            day += settings.hold_days_after_cut
        current = nxt
    if not steps:  # already at the final dose: keep it for one interval, then stop
        doses = administrations(products, settings.start_daily_mg, settings.times)
        steps.append(Step(0, pace.interval_days, doses, note="final step, then stop"))
    if stops:
        findings.append(_final_step(products, settings, steps[-1], n_times))
    findings = _summarise_product_limits(findings)
    findings.extend(_liquid_notes(products, steps))
    return Plan(
        drug=drug.name,
        strategy=pace.name,
        steps=tuple(steps),
        findings=sort_findings(findings),
        start_date=settings.start_date,
        start_daily_mg=settings.start_daily_mg,
        target_daily_mg=settings.target_daily_mg,
        times=settings.times,
        interval_days=pace.interval_days,
        risk=settings.risk,
        products_market=settings.products_market,
        liquid=settings.liquid,
    )


def _product_limited(
    current: float,
    nxt: float,
    ideal: float,
    *,
    day: int,
    guideline: PaceRule,
) -> Finding:
    cut = (current - nxt) / current
    message = (
        f"Day {day}: the products cannot make a dose between {ideal:g} and {current:g} mg/day, so the "
        f"step goes from {current:g} mg/day to {nxt:g} mg/day (a {cut:.0%} cut)."
    )
    severity = Severity.WARNING if cut > guideline.fraction + EPSILON_MG else Severity.INFO
    return Finding(
        "PLAN-PRODUCT-LIMITED",
        severity,
        message + f" The guideline pace is {guideline}.",
        guideline.source,
        "consider a liquid or a compounded dose for smaller steps",
    ).with_numbers(day=day, from_mg=current, to_mg=nxt, fraction=cut)


def _final_step(products: ProductSet, settings: TaperSettings, last: Step, n_times: int) -> Finding:
    """The stop, stated: from the last step's dose (the final dose) to zero on the plan's last day."""
    final = last.daily_dose_mg()
    share = final / settings.start_daily_mg
    smallest = final <= smallest_daily_mg(products, n_times) + EPSILON_MG
    why = (
        f"the smallest daily dose the chosen products make ({share:.0%} of the starting dose)"
        if smallest and share > settings.final_dose_fraction + EPSILON_MG
        else f"{share:.1%} of the starting {settings.start_daily_mg:g} mg/day (final dose: at most "
        f"{settings.final_dose_fraction:.0%} of the start)"
    )
    action = (
        "a liquid (oral solution, compounded suspension or a tablet dispersed in water) allows a "
        "smaller final dose"
        if smallest and share > settings.final_dose_fraction + EPSILON_MG
        else "stop only when the final dose has been tolerated; pause first if withdrawal symptoms persist"
    )
    return Finding(
        "PLAN-FINAL-STEP",
        Severity.INFO,
        f"Day {last.end_day}: the final step, the stop from {final:g} mg/day, {why}.",
        settings.final_dose_source or "benzokit planner",
        action,
    ).with_numbers(day=last.end_day, from_mg=final, to_mg=0.0, fraction=1.0)


def _summarise_product_limits(findings: list[Finding]) -> list[Finding]:
    """Keep warnings and the final-step note; fold the informational product-limited steps into one."""
    minor = [
        f for f in findings if f.code == "PLAN-PRODUCT-LIMITED" and f.severity is Severity.INFO
    ]
    kept = [f for f in findings if f not in minor]
    if minor:
        kept.append(
            Finding(
                "PLAN-PRODUCT-LIMITED",
                Severity.INFO,
                f"{len(minor)} step(s) are larger than the strategy's ideal because the products "
                f"cannot make the dose in between (each within the guideline limit). First: "
                f"{minor[0].message}",
                minor[0].source,
                minor[0].action,
            )
        )
    return kept


_LIQUID_ACTION = {
    LiquidKind.SOLUTION: "check the marketed liquid is available where the patient lives",
    LiquidKind.SUSPENSION: "a pharmacy compounds the suspension; the handout says how it keeps",
    LiquidKind.DILUTION: "the patient disperses a tablet in water for each dose; the handout says how",
}


def _liquid_notes(products: ProductSet, steps: list[Step]) -> list[Finding]:
    using = [s for s in steps if any(products.needs_liquid(a.dose_mg) for a in s.doses)]
    liquid = products.liquid
    if not using or liquid is None:
        return []
    first = using[0]
    return [
        Finding(
            "PLAN-LIQUID",
            Severity.INFO,
            f"From day {first.start_day} ({first.daily_dose_mg():g} mg/day) doses need the "
            f"{liquid.kind} ({liquid.concentration_mg_ml:g} mg/mL) measured with an oral syringe "
            f"in steps of {liquid.resolution_ml:g} mL.",
            liquid.source or "benzokit product feasibility",
            _LIQUID_ACTION[liquid.kind],
        )
    ]
