"""Entry points: ``plan_taper`` and ``plan_titration`` from plain, validated inputs."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from functools import partial

from benzokit.drugs.loader import load_drug
from benzokit.drugs.models import Drug, ProductForm
from benzokit.errors import InputError
from benzokit.knowledge import Knowledge
from benzokit.pd.occupancy import half_occupancy_daily_dose_mg
from benzokit.pd.params import load_pd_parameters
from benzokit.plan import fields
from benzokit.plan.daily import administrations, require_feasible
from benzokit.plan.model import DailyDose, Plan, Step, StepKind
from benzokit.plan.params import StrategyParameters, load_strategy_parameters
from benzokit.plan.products import ProductSet, product_set
from benzokit.plan.strategies import (
    EqualOccupancySteps,
    FixedDecrement,
    FractionOfCurrent,
    Pace,
    Risk,
    StrategyName,
)
from benzokit.plan.switch import DIAZEPAM, SwitchDrug, switch_plan
from benzokit.plan.taper import TaperSettings, taper_plan
from benzokit.plan.titration import TitrationRequest, titration_plan
from benzokit.regimen.language import parse_regimen
from benzokit.safety.check import check_prescription, check_schedule
from benzokit.safety.context import PatientContext
from benzokit.safety.findings import sort_findings, stamped
from benzokit.safety.pace import guideline_pace
from benzokit.units import ClockTime, parse_dose

DEFAULT_TIMES = (ClockTime.at(8), ClockTime.at(20))
FROM_ALLOWED = (
    "a daily dose ('2 mg/day') or a daily pattern ('1 mg bid', '0.5 mg tid', "
    "'1 mg at 08:00 and 2 mg at 22:00')"
)
_PER_DAY = re.compile(
    r"^\s*(?P<dose>[\d.]+\s*(?:mg|µg|ug|mcg))\s*(?:/|per|a)\s*day\s*$", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class ProductChoice:
    market: str | None = "US"
    liquid: bool = False
    strengths_mg: tuple[float, ...] | None = None
    odt: bool = True

    def for_drug(self, drug: Drug) -> ProductSet:
        forms = (ProductForm.TABLET, ProductForm.CAPSULE) + ((ProductForm.ODT,) if self.odt else ())
        return product_set(
            drug,
            market=self.market,
            forms=forms,
            liquid=self.liquid,
            strengths_mg=self.strengths_mg,
        )


def parse_from(
    text: str, times: tuple[ClockTime, ...] | None
) -> tuple[float, tuple[ClockTime, ...]]:
    """'2 mg/day' or a regimen such as '1 mg bid' -> (daily dose mg, dose times)."""
    if match := _PER_DAY.match(text):
        return parse_dose(match["dose"], field=fields.TAPER_FROM).to_mg(
            None
        ), times or DEFAULT_TIMES
    try:
        regimen = parse_regimen(text)
    except InputError as error:
        raise InputError(fields.TAPER_FROM, text, FROM_ALLOWED) from error
    phase = regimen.phases[0]
    if len(regimen.phases) > 1 or phase.period_h != 24.0:
        raise InputError(fields.TAPER_FROM, text, FROM_ALLOWED)
    daily = phase.daily_dose_mg()
    return daily, times or tuple(ClockTime.from_hours(slot.offset_h) for slot in phase.slots)


def risk_from_dose(drug: Drug, daily_mg: float, params: StrategyParameters) -> Risk:
    """The ASAM 2025 dose band (``params.dose_bands``) as the default risk level (the clinician may
    raise it)."""
    bands = params.dose_bands.get(drug.name)
    if bands is None:
        return Risk.MODERATE
    if daily_mg <= bands.low_max_daily_mg.require():
        return Risk.LOW
    return Risk.MODERATE if daily_mg <= bands.moderate_max_daily_mg.require() else Risk.HIGH


def _pace(
    drug: Drug,
    strategy: StrategyName,
    risk: Risk,
    start_mg: float,
    *,
    interval_days: int | None,
    reduction_fraction: float | None,
    occupancy_set: str | None,
    knowledge: Knowledge,
) -> Pace:
    params = load_strategy_parameters(knowledge)
    pace = params.risk[risk.value]
    fraction = (
        reduction_fraction if reduction_fraction is not None else pace.reduction_fraction.require()
    )
    interval = interval_days if interval_days is not None else int(pace.interval_days.require())
    if strategy is StrategyName.LABEL:
        label = drug.label_taper
        if label is None:
            raise InputError(
                fields.TAPER_STRATEGY,
                "label",
                f"another strategy: the {drug.name} label gives no taper schedule",
            )
        return FixedDecrement(
            label.step_daily_mg.require(), interval_days or int(label.interval_days.require())
        )
    if strategy is StrategyName.HYPERBOLIC:
        try:
            anchor = load_pd_parameters(knowledge).occupancy_set(occupancy_set)
        except InputError as error:
            raise InputError(fields.TAPER_OCCUPANCY_SET, error.value, error.allowed) from error
        d50 = half_occupancy_daily_dose_mg(drug, anchor)
        return EqualOccupancySteps.from_first_cut(start_mg, fraction, d50, interval)
    return FractionOfCurrent(fraction, interval)


def plan_taper(
    drug_name: str,
    from_text: str | DailyDose,
    strategy: StrategyName,
    *,
    risk: Risk | None = None,
    target_daily_mg: float = 0.0,
    times: tuple[ClockTime, ...] | None = None,
    start_date: date | None = None,
    products: ProductChoice = ProductChoice(),
    interval_days: int | None = None,
    reduction_fraction: float | None = None,
    occupancy_set: str | None = None,
    equivalence_source: str | None = None,
    hold_days_after_cut: int = 0,
    custom_steps: str | None = None,
    context: PatientContext | None = None,
    knowledge: Knowledge | None = None,
) -> Plan:
    """A taper plan for ``drug_name`` from ``from_text``, checked for safety.

    ``from_text`` is the current dose as written ('2 mg/day' or '1 mg bid') or as a :class:`DailyDose`
    (e.g. a course's current step); ``times`` overrides its dose times. Drugs, strategy parameters and
    the PD anchors come from ``knowledge`` (default: the shipped knowledge base).
    """
    knowledge = knowledge or Knowledge.shipped()
    plan = _build_taper(
        drug_name,
        from_text,
        strategy,
        risk=risk,
        target_daily_mg=target_daily_mg,
        times=times,
        start_date=start_date,
        products=products,
        interval_days=interval_days,
        reduction_fraction=reduction_fraction,
        occupancy_set=occupancy_set,
        equivalence_source=equivalence_source,
        hold_days_after_cut=hold_days_after_cut,
        custom_steps=custom_steps,
        knowledge=knowledge,
    )
    return with_safety_findings(plan, context, knowledge)


def with_safety_findings(
    plan: Plan, context: PatientContext | None, knowledge: Knowledge | None = None
) -> Plan:
    """The plan with the safety checker's findings on its schedule and starting dose added, the plan
    and every finding marked with the knowledge base's version."""
    version = (knowledge or Knowledge.shipped()).version
    if not plan.steps:
        return replace(plan, knowledge_version=version)
    drug = load_drug(plan.drug, knowledge)
    start_mg = plan.first_daily_mg
    if plan.strategy == StrategyName.DIAZEPAM_SWITCH:
        # the cross-over replaces the original drug stage by stage; the schedule to check is diazepam's
        diazepam_steps = [
            s
            for s in plan.steps
            if DIAZEPAM in s.daily_dose_by_drug() and len(s.daily_dose_by_drug()) == 1
        ]
        diazepam = load_drug(DIAZEPAM, knowledge)
        found = (
            list(check_schedule(diazepam, diazepam_steps, context, knowledge=knowledge))
            if diazepam_steps
            else []
        )
    else:
        # the stop after the last step is part of the schedule (unless the plan keeps a target dose)
        final = (plan.total_days, plan.total_days + 1, 0.0)
        spans = [(s.start_day, s.end_day, s.daily_dose_mg(plan.drug)) for s in plan.steps]
        spans += [] if plan.target_daily_mg else [final]
        reason = (
            "the label's own discontinuation schedule ends here"
            if plan.strategy == StrategyName.LABEL
            else None
        )
        found = list(
            check_schedule(
                drug, spans, context, allow_abrupt_stop_reason=reason, knowledge=knowledge
            )
        )
    found += check_prescription(
        drug, max(start_mg, plan.steps[0].daily_dose_mg(plan.drug)), context, knowledge=knowledge
    )
    findings = stamped(sort_findings([*plan.findings, *found]), version)
    return replace(plan, findings=findings, knowledge_version=version)


def _build_taper(
    drug_name: str,
    from_text: str | DailyDose,
    strategy: StrategyName,
    *,
    risk: Risk | None,
    target_daily_mg: float,
    times: tuple[ClockTime, ...] | None,
    start_date: date | None,
    products: ProductChoice,
    interval_days: int | None,
    reduction_fraction: float | None,
    occupancy_set: str | None,
    equivalence_source: str | None,
    hold_days_after_cut: int,
    custom_steps: str | None,
    knowledge: Knowledge,
) -> Plan:
    drug = load_drug(drug_name, knowledge)
    strategy_params = load_strategy_parameters(knowledge)
    if isinstance(from_text, DailyDose):
        start_mg, dose_times = from_text.daily_mg, times or from_text.times
    else:
        start_mg, dose_times = parse_from(from_text, times)
    if interval_days is not None and interval_days < 1:
        raise InputError(fields.TAPER_INTERVAL, interval_days, "a whole number of days, at least 1")
    if reduction_fraction is not None and not 0 < reduction_fraction < 1:
        raise InputError(
            fields.TAPER_REDUCTION,
            reduction_fraction,
            "a fraction of the current dose between 0 and 1",
        )
    if hold_days_after_cut < 0:
        raise InputError(fields.TAPER_HOLD, hold_days_after_cut, "0 or more days")
    chosen_risk = risk or risk_from_dose(drug, start_mg, strategy_params)
    product_set_ = products.for_drug(drug)
    settings = TaperSettings(
        start_mg,
        dose_times,
        target_daily_mg,
        hold_days_after_cut,
        start_date,
        window_limit=strategy is not StrategyName.LABEL,
        risk=str(chosen_risk),
        products_market=products.market,
        liquid=products.liquid,
    )
    if strategy is StrategyName.CUSTOM:
        return custom_plan(drug, product_set_, settings, custom_steps)
    pace_of = partial(
        _pace,
        risk=chosen_risk,
        start_mg=start_mg,
        interval_days=interval_days,
        reduction_fraction=reduction_fraction,
        occupancy_set=occupancy_set,
        knowledge=knowledge,
    )
    pace = pace_of(drug, strategy)
    if strategy is StrategyName.DIAZEPAM_SWITCH:
        if drug.name == DIAZEPAM:
            raise InputError(
                fields.TAPER_STRATEGY,
                "diazepam-switch",
                "another strategy: the patient already takes diazepam",
            )
        diazepam = load_drug(DIAZEPAM, knowledge)
        diazepam_pace = pace_of(diazepam, StrategyName.GUIDELINE)
        return switch_plan(
            drug,
            product_set_,
            SwitchDrug(diazepam, products.for_drug(diazepam), diazepam_pace),
            settings,
            strategy_params,
            equivalence_source=equivalence_source,
            guideline=guideline_pace(knowledge),
        )
    return taper_plan(drug, product_set_, pace, settings, guideline=guideline_pace(knowledge))


_CUSTOM_STEP = re.compile(
    r"^\s*(?:(?P<dose>\d+(?:\.\d+)?|\.\d+)\s*mg\s*/\s*day|(?P<hold>hold))\s*(?:x|for)\s*(?P<days>\d+)\s*(?:days?|d)\s*$",
    re.IGNORECASE,
)


def custom_plan(
    drug: Drug, products: ProductSet, settings: TaperSettings, text: str | None
) -> Plan:
    """Explicit steps: '1.5 mg/day x 14 days, hold x 7 days, 1 mg/day x 14 days' (doses must not rise)."""
    if not text:
        raise InputError(
            fields.TAPER_STEPS,
            text,
            "explicit steps, e.g. '1.5 mg/day x 14 days, hold x 7 days, 1 mg/day x 14 days'",
        )
    steps: list[Step] = []
    day, current = 0, settings.start_daily_mg
    for index, part in enumerate(re.split(r"\s*(?:,|;|\bthen\b)\s*", text.strip())):
        match = _CUSTOM_STEP.match(part)
        if match is None:
            raise InputError(
                fields.taper_step(index), part, "'X mg/day x N days' or 'hold x N days'"
            )
        days = int(match["days"])
        if days < 1:
            raise InputError(fields.taper_step(index), part, "at least 1 day")
        kind = StepKind.HOLD if match["hold"] else StepKind.DOSE
        dose = current if kind is StepKind.HOLD else float(match["dose"])
        if dose > current + 1e-9:
            raise InputError(
                fields.taper_step(index), part, f"a dose at most the previous {current:g} mg/day"
            )
        if dose > 0:
            require_feasible(products, dose, len(settings.times), fields.taper_step(index))
        doses = administrations(products, dose, settings.times) if dose > 0 else ()
        steps.append(Step(day, day + days, doses, kind, "hold" if kind is StepKind.HOLD else ""))
        day, current = day + days, dose
    return Plan(
        drug=drug.name,
        strategy="custom",
        steps=tuple(steps),
        start_date=settings.start_date,
        start_daily_mg=settings.start_daily_mg,
        times=settings.times,
        custom_steps=text,
    )


def plan_titration(
    drug_name: str,
    indication: str,
    *,
    weight_kg: float | None = None,
    age_y: float | None = None,
    target_daily_mg: float | None = None,
    times: tuple[ClockTime, ...] | None = None,
    start_date: date | None = None,
    products: ProductChoice = ProductChoice(),
    context: PatientContext | None = None,
    knowledge: Knowledge | None = None,
) -> Plan:
    """A label titration for ``indication``, checked for safety (the drug from ``knowledge``)."""
    drug = load_drug(drug_name, knowledge)
    limits = [lim for lim in drug.dose_limits if lim.indication == indication]
    per_day = int(limits[0].doses_per_day.require()) if limits and limits[0].doses_per_day else 2
    default_times = {
        1: (ClockTime.at(22),),
        2: DEFAULT_TIMES,
        3: (ClockTime.at(8), ClockTime.at(14), ClockTime.at(22)),
    }.get(per_day, DEFAULT_TIMES)
    request = TitrationRequest(
        indication, times or default_times, weight_kg, age_y, target_daily_mg, start_date
    )
    context = context or PatientContext(age_y=age_y, weight_kg=weight_kg, indication=indication)
    plan = titration_plan(drug, products.for_drug(drug), request)
    return with_safety_findings(plan, context, knowledge)
