"""Diazepam substitution: a staged cross-over at a clinician-chosen equivalence, then a diazepam taper.

The equivalence is picked from the sourced range of both drugs' files (never one silent number): the plan
records which source's value was used and the whole range.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from benzokit.drugs.models import Drug
from benzokit.errors import InputError
from benzokit.plan import fields
from benzokit.plan.daily import (
    administrations,
    feasible_daily_at_most,
    feasible_daily_at_or_above,
    require_feasible,
)
from benzokit.plan.model import Plan, Step, SwitchTerms
from benzokit.plan.params import StrategyParameters
from benzokit.plan.products import ProductSet
from benzokit.plan.strategies import Pace
from benzokit.plan.taper import TaperSettings, taper_plan
from benzokit.safety.findings import Finding, Severity, sort_findings
from benzokit.safety.pace import PaceRule

DIAZEPAM = "diazepam"


@dataclass(frozen=True, slots=True)
class SwitchDrug:
    """Diazepam as a switch uses it: its knowledge-base entry, its products and its taper pace."""

    drug: Drug
    products: ProductSet
    pace: Pace


def diazepam_mg_per_mg(
    drug: Drug, diazepam: Drug, source: str | None
) -> tuple[float, str, tuple[float, float]]:
    """(diazepam mg per mg of ``drug``, the source used, the sourced range) from the equivalence tables."""
    reference = diazepam.equivalence.reference_diazepam_mg
    values = {v.source: reference / v.dose_mg for v in drug.equivalence.values}
    low, high = min(values.values()), max(values.values())
    if source is None:
        key = min(
            values, key=lambda k: values[k]
        )  # the lower diazepam dose: the conservative switch
    elif source in values:
        key = source
    else:
        raise InputError(
            fields.TAPER_EQUIVALENCE,
            source,
            "one of the sourced values: " + ", ".join(sorted(values)),
        )
    return values[key], key, (low, high)


def switch_plan(
    drug: Drug,
    products: ProductSet,
    diazepam: SwitchDrug,
    settings: TaperSettings,
    strategy_params: StrategyParameters,
    *,
    equivalence_source: str | None = None,
    guideline: PaceRule,
) -> Plan:
    """Stages of (drug down, diazepam up), then diazepam's pace to the target (stages from
    ``strategy_params``)."""
    ratio, used, (low, high) = diazepam_mg_per_mg(drug, diazepam.drug, equivalence_source)
    diazepam_products = diazepam.products
    params = strategy_params.diazepam_switch
    stages = int(params.stages.require("diazepam_switch.stages"))
    stage_days = int(params.stage_days.require("diazepam_switch.stage_days"))
    start = settings.start_daily_mg
    n_times = len(settings.times)
    require_feasible(products, start, n_times, fields.TAPER_FROM)
    steps: list[Step] = []
    rounded: list[Finding] = []
    diazepam_daily = 0.0
    before = start  # the combined daily dose before each stage, in mg of the original drug
    for k in range(1, stages + 1):
        remaining = start * (1 - k / stages)
        original = (
            feasible_daily_at_or_above(products, remaining, n_times) or start
            if remaining > 0
            else 0.0
        )
        wanted = start * ratio * k / stages
        budget = (before - original) * ratio  # never more in total than the stage before
        diazepam_daily = feasible_daily_at_most(diazepam_products, min(wanted, budget), n_times)
        if k == stages and diazepam_daily <= 0:
            # nothing at or below the budget: the products cannot switch without raising the total
            diazepam_daily = _diazepam_daily(diazepam_products, wanted, start, n_times)
            rounded.append(_raises(k, diazepam_daily, before, ratio, day=(k - 1) * stage_days))
        elif diazepam_daily < wanted - 1e-9:
            rounded.append(
                _rounded_down(
                    k,
                    wanted,
                    diazepam_daily,
                    day=(k - 1) * stage_days,
                    before_mg=before,
                    original_mg=original,
                    ratio=ratio,
                    guideline=guideline,
                )
            )
        doses = (
            *(administrations(products, original, settings.times) if original else ()),
            *(
                administrations(diazepam_products, diazepam_daily, settings.times)
                if diazepam_daily
                else ()
            ),
        )
        day = (k - 1) * stage_days
        steps.append(Step(day, day + stage_days, doses, note=f"cross-over stage {k} of {stages}"))
        before = original + diazepam_daily / ratio
    offset = stages * stage_days
    taper = taper_plan(
        diazepam.drug,
        diazepam_products,
        diazepam.pace,
        replace(settings, start_daily_mg=diazepam_daily, target_daily_mg=0.0),
        guideline=guideline,
    )
    for step in taper.steps:
        steps.append(
            replace(step, start_day=step.start_day + offset, end_day=step.end_day + offset)
        )
    finding = Finding(
        "PLAN-EQUIVALENCE",
        Severity.INFO,
        f"Switch at {ratio:g} mg diazepam per 1 mg {drug.name} ({used}); the sourced range is "
        f"{low:g}–{high:g} mg. Equivalences are approximate: confirm the choice and watch for over-sedation "
        f"or withdrawal during the cross-over.",
        drug.sources[used].citation if used in drug.sources else used,
        "choose the equivalence from the sourced range",
    )
    return replace(
        taper,
        drug=drug.name,
        strategy="diazepam-switch",
        steps=tuple(steps),
        findings=sort_findings([finding, *rounded, *taper.findings]),
        start_daily_mg=start,
        switch=SwitchTerms(ratio, used, (low, high), stages, stage_days),
    )


def _rounded_down(
    stage: int,
    wanted_mg: float,
    given_mg: float,
    *,
    day: int,
    before_mg: float,
    original_mg: float,
    ratio: float,
    guideline: PaceRule,
) -> Finding:
    """A cross-over stage with less diazepam than its equivalent, so the total does not rise."""
    total = original_mg + given_mg / ratio
    fall = 1.0 - total / before_mg
    severity = Severity.WARNING if fall > guideline.fraction + 1e-9 else Severity.INFO
    return Finding(
        "PLAN-SWITCH-ROUNDED",
        severity,
        f"Cross-over stage {stage}: the diazepam products make {given_mg:g} mg/day, not the "
        f"{wanted_mg:g} mg/day of the equivalence, so that the total (in equivalents) does not rise; "
        f"it falls by {fall:.0%} at this stage.",
        guideline.source,
        "a diazepam liquid (or a split tablet) lets the cross-over keep the total dose",
    ).with_numbers(day=day, from_mg=before_mg, to_mg=total, fraction=fall)


def _raises(stage: int, given_mg: float, before_mg: float, ratio: float, *, day: int) -> Finding:
    """The last cross-over stage above the total before it: the products can do no better."""
    total = given_mg / ratio
    return Finding(
        "PLAN-SWITCH-RAISES",
        Severity.WARNING,
        f"Cross-over stage {stage}: the smallest diazepam dose the products make ({given_mg:g} "
        f"mg/day) is more, in equivalents ({total:g} mg/day), than the {before_mg:g} mg/day before "
        "it: these products cannot make the switch without raising the total dose.",
        "benzokit product feasibility",
        "use a diazepam liquid, or taper the current drug directly",
    ).with_numbers(day=day, from_mg=before_mg, to_mg=total)


def _diazepam_daily(products: ProductSet, wanted_mg: float, start_mg: float, n_times: int) -> float:
    """The smallest diazepam daily dose (mg) >= ``wanted_mg`` the products make; else an InputError."""
    daily = feasible_daily_at_or_above(products, wanted_mg, n_times)
    if daily is None:
        raise InputError(
            fields.TAPER_FROM,
            f"{start_mg:g} mg/day",
            f"a starting dose whose diazepam equivalent ({wanted_mg:g} mg/day) the diazepam "
            f"products can make over {n_times} dose(s) a day",
        )
    return daily
