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
    occupancy,
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
    """The products a plan may use: the ``market``'s tablets (and ODTs unless ``odt`` is False),
    restricted to ``strengths_mg`` if given, and at most one liquid measured by oral syringe in steps
    of ``syringe_step_ml`` (default 0.01 mL): ``liquid`` (the market's marketed liquid, else its
    sourced compounded suspension), ``suspension_mg_ml`` (a compounded suspension at the prescriber's
    concentration) or ``dilution`` ((tablet mg, water mL): a tablet dispersed in water)."""

    market: str | None = "US"
    liquid: bool = False
    strengths_mg: tuple[float, ...] | None = None
    odt: bool = True
    suspension_mg_ml: float | None = None
    dilution: tuple[float, float] | None = None
    syringe_step_ml: float | None = None

    def for_switch(self) -> ProductChoice:
        """The choice for the drug a switch moves to: the same market, its marketed liquid where a
        liquid was chosen (strengths, suspensions and dilutions name the original drug's products)."""
        return ProductChoice(market=self.market, liquid=self.any_liquid, odt=self.odt)

    @property
    def any_liquid(self) -> bool:
        return self.liquid or self.suspension_mg_ml is not None or self.dilution is not None

    def for_drug(self, drug: Drug) -> ProductSet:
        forms = (ProductForm.TABLET, ProductForm.CAPSULE) + ((ProductForm.ODT,) if self.odt else ())
        return product_set(
            drug,
            market=self.market,
            forms=forms,
            liquid=self.liquid,
            strengths_mg=self.strengths_mg,
            resolution_ml=self.syringe_step_ml,
            suspension_mg_ml=self.suspension_mg_ml,
            dilution=self.dilution,
        )


def require_measurable(products: ProductSet, start_mg: float, n_times: int) -> None:
    """An :class:`InputError` on the syringe step when one step of the liquid is more than a dose."""
    liquid = products.liquid
    if liquid is None:
        return
    step_mg = liquid.concentration_mg_ml * liquid.resolution_ml
    dose_mg = start_mg / n_times
    if step_mg > dose_mg + 1e-9:
        raise InputError(
            fields.PRODUCTS_SYRINGE_STEP,
            f"{liquid.resolution_ml:g} mL",
            f"a syringe step whose volume of the {liquid.concentration_mg_ml:g} mg/mL liquid "
            f"({step_mg:g} mg) is smaller than one dose ({dose_mg:g} mg); e.g. "
            f"{liquid.resolution_ml / 10:g} mL",
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
    final_fraction: float,
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
        d50 = half_occupancy_daily_dose_mg(drug, anchor, knowledge)
        return EqualOccupancySteps.over_range(
            start_mg, start_mg * final_fraction, fraction, d50, interval
        )
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
    final_dose_fraction: float | None = None,
    context: PatientContext | None = None,
    knowledge: Knowledge | None = None,
) -> Plan:
    """A taper plan for ``drug_name`` from ``from_text``, checked for safety.

    A plan ending at zero walks down to a final dose of at most ``final_dose_fraction`` of the start
    (default: ``[final_dose]`` in ``strategies.toml``) where the products can make it, and states the
    stop from there.

    ``from_text`` is the current dose as written ('2 mg/day' or '1 mg bid') or as a :class:`DailyDose`
    (e.g. a course's current step); ``times`` overrides its dose times. Drugs, strategy parameters and
    the PD anchors come from ``knowledge`` (default: the shipped knowledge base).
    """
    knowledge = knowledge or Knowledge.shipped()
    try:
        strategy = StrategyName(strategy)
    except ValueError as error:
        allowed = ", ".join(s.value for s in StrategyName)
        raise InputError(fields.TAPER_STRATEGY, strategy, f"one of: {allowed}") from error
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
        final_dose_fraction=final_dose_fraction,
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
        found = list(check_schedule(drug, schedule_spans(plan), context, knowledge=knowledge))
    found += check_prescription(
        drug, max(start_mg, plan.steps[0].daily_dose_mg(plan.drug)), context, knowledge=knowledge
    )
    findings = stamped(sort_findings([*plan.findings, *found]), version)
    return replace(plan, findings=findings, knowledge_version=version)


def schedule_spans(plan: Plan) -> list[tuple[int, int, float]]:
    """The plan's schedule as the checker judges it: (start_day, end_day, mg/day) of the plan's drug.

    It starts from the dose taken before day 0 (day -1 at ``plan.first_daily_mg``), so the first cut is
    a transition like every other; the stop after the last step is part of it (unless the plan keeps a
    target dose).
    """
    spans = [(s.start_day, s.end_day, s.daily_dose_mg(plan.drug)) for s in plan.steps]
    before = [(-1, 0, plan.first_daily_mg)] if plan.first_daily_mg > 0 else []
    final = [] if plan.target_daily_mg else [(plan.total_days, plan.total_days + 1, 0.0)]
    return before + spans + final


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
    final_dose_fraction: float | None,
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
    final_figure = strategy_params.final_dose.fraction_of_start
    final_fraction = (
        final_figure.require("final_dose.fraction_of_start")
        if final_dose_fraction is None
        else final_dose_fraction
    )
    if not 0 < final_fraction < 1:
        raise InputError(
            fields.TAPER_FINAL_DOSE,
            final_dose_fraction,
            "a fraction of the starting dose between 0 and 1, e.g. 0.05",
        )
    chosen_risk = risk or risk_from_dose(drug, start_mg, strategy_params)
    product_set_ = products.for_drug(drug)
    require_measurable(product_set_, start_mg, len(dose_times))
    settings = TaperSettings(
        start_mg,
        dose_times,
        target_daily_mg,
        hold_days_after_cut,
        start_date,
        window_limit=strategy is not StrategyName.LABEL,
        risk=str(chosen_risk),
        products_market=products.market,
        liquid=products.any_liquid,
        final_dose_fraction=final_fraction,
        final_dose_source=(
            strategy_params.citation(final_figure)
            if final_dose_fraction is None
            else "the prescriber's final dose"
        ),
        simpler_day_min_share_of_cut=strategy_params.product_rounding.simpler_day_min_share_of_cut.require(
            "product_rounding.simpler_day_min_share_of_cut"
        ),
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
        final_fraction=final_fraction,
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
            SwitchDrug(diazepam, products.for_switch().for_drug(diazepam), diazepam_pace),
            settings,
            strategy_params,
            equivalence_source=equivalence_source,
            guideline=guideline_pace(knowledge),
        )
    plan = taper_plan(drug, product_set_, pace, settings, guideline=guideline_pace(knowledge))
    if isinstance(pace, EqualOccupancySteps):
        plan = replace(plan, notes=(*plan.notes, occupancy_note(plan, pace, occupancy_set)))
    return plan


NEAR_LINEAR = 0.8
"""Occupancy counts as nearly linear in dose where d/(d + d50) is at least this share of d/d50 (a
presentation threshold: within 20 % of a straight line), not a clinical figure."""


def occupancy_note(plan: Plan, pace: EqualOccupancySteps, occupancy_set: str | None) -> str:
    """What the occupancy anchor does to a hyperbolic plan, in words (for the plan's notes)."""
    start = plan.first_daily_mg
    d50 = pace.half_occupancy_daily_mg
    anchor = occupancy_set or "default"
    binding = sum(pace.occupancy_binds(s.daily_dose_mg(plan.drug)) for s in plan.steps)
    head = (
        f"Occupancy anchor {anchor}: half occupancy at {d50:.3g} mg/day of {plan.drug}; "
        f"{start:g} mg/day occupies {occupancy(start, d50):.0%}."
    )
    if d50 / (start + d50) >= NEAR_LINEAR:
        return (
            f"{head} Over this plan's range occupancy is nearly linear in dose, so equal occupancy "
            "steps are equal mg steps; the mg cuts shrink because each cut is also capped at "
            f"{pace.reduction_fraction:.0%} of the current dose (the cap sets {len(plan.steps) - binding} "
            f"of {len(plan.steps)} cuts). Another anchor gives other steps: compare them with "
            "'benzokit plan compare'."
        )
    return (
        f"{head} Equal occupancy steps set {binding} of {len(plan.steps)} cuts; the cap of "
        f"{pace.reduction_fraction:.0%} of the current dose sets the rest."
    )


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
