"""Doses against the label: maxima by indication and population, starting doses, paediatric mg/kg.

All doses are total daily doses in mg/day (mg/kg/day where per kg). The limits are the drug file's
``[[dose_limits]]``, cited with their own sources; nothing is copied into the rule file.
"""

from __future__ import annotations

from dataclasses import dataclass

from benzokit.drugs.models import DoseLimit, Drug, Figure, Population
from benzokit.safety.context import PatientContext, population, resolve_indication
from benzokit.safety.findings import Finding
from benzokit.safety.rules import Rule, RuleSet

RELATIVE_TOLERANCE = 1e-9
"""Numerical slack for float comparisons (not a clinical margin)."""


@dataclass(frozen=True, slots=True)
class LabelMaximum:
    """The labelled maximum that applies: mg/day, for which indication and population, cited."""

    daily_mg: float
    indication: str
    population: Population
    citation: str

    def finding(self, rule: Rule, drug: Drug, daily_dose_mg: float, **values: object) -> Finding:
        """``rule``'s finding on ``daily_dose_mg`` (mg/day) against this maximum, cited with it."""
        return rule.finding(
            self.citation,
            drug=drug.name,
            dose_mg=daily_dose_mg,
            limit_mg=self.daily_mg,
            indication=self.indication,
            **values,
        )


def above(value: float, limit: float) -> bool:
    return value > limit * (1 + RELATIVE_TOLERANCE)


def _upper(figure: Figure) -> float:
    return figure.high if figure.high is not None else figure.require()


def _limits(drug: Drug, indication: str) -> dict[Population, DoseLimit]:
    return {lim.population: lim for lim in drug.dose_limits if lim.indication == indication}


def chosen_limit(drug: Drug, indication: str, pop: Population) -> DoseLimit | None:
    """The dose limit for the population; elderly patients fall back to adult dosing."""
    limits = _limits(drug, indication)
    if pop in limits:
        return limits[pop]
    return limits.get(Population.ADULT) if pop is Population.ELDERLY else None


def label_maximum(
    drug: Drug, context: PatientContext, rules: RuleSet | None = None
) -> LabelMaximum | None:
    """The labelled maximum daily dose for the context's indication and population.

    Without an indication: the highest labelled maximum of the drug. Elderly dosing without its own
    maximum uses the adult maximum of the same indication. ``rules`` (default: shipped) set the
    elderly age.
    """
    if context.indication is None:
        candidates = [lim for lim in drug.dose_limits if lim.max_daily_mg is not None]
        if not candidates:
            return None
        best = max(candidates, key=lambda lim: _upper(lim.max_daily_mg) if lim.max_daily_mg else 0)
        return _maximum(drug, best)
    indication = resolve_indication(drug, context.indication)
    pop = population(drug, context, rules)
    limits = _limits(drug, indication)
    for candidate in (pop, Population.ADULT) if pop is Population.ELDERLY else (pop,):
        lim = limits.get(candidate)
        if lim is not None and lim.max_daily_mg is not None:
            return _maximum(drug, lim, pop)
    return None


def _maximum(drug: Drug, lim: DoseLimit, pop: Population | None = None) -> LabelMaximum:
    figure = lim.max_daily_mg
    assert figure is not None
    citation = drug.source_of(figure).citation
    return LabelMaximum(_upper(figure), lim.indication, pop or lim.population, citation)


def dose_findings(
    drug: Drug,
    daily_dose_mg: float,
    context: PatientContext,
    *,
    starting: bool = False,
    rules: RuleSet,
) -> list[Finding]:
    """Findings on one daily dose (mg/day) under ``rules``: label maximum, starting dose, paediatric
    mg/kg."""
    findings: list[Finding] = []
    maximum = label_maximum(drug, context, rules)
    if context.indication is None:
        if maximum is not None:
            rule = rules.rules["indication_not_given"]
            findings.append(maximum.finding(rule, drug, daily_dose_mg))
    else:
        indication = resolve_indication(drug, context.indication)
        pop = population(drug, context, rules)
        lim = chosen_limit(drug, indication, pop)
        unlabelled = _unlabelled(drug, indication, pop=pop, lim=lim, context=context, rules=rules)
        if unlabelled is not None:
            findings.append(unlabelled)
        if lim is not None:
            findings += _start_findings(
                drug,
                daily_dose_mg,
                lim=lim,
                pop=pop,
                context=context,
                starting=starting,
                rules=rules,
            )
    if maximum is not None and above(daily_dose_mg, maximum.daily_mg):
        rule = rules.rules["dose_above_label_max"]
        findings.append(maximum.finding(rule, drug, daily_dose_mg, population=maximum.population))
    return findings


def _unlabelled(
    drug: Drug,
    indication: str,
    *,
    pop: Population,
    lim: DoseLimit | None,
    context: PatientContext,
    rules: RuleSet,
) -> Finding | None:
    """A finding when the label has no dosing for this patient's population and indication."""
    adult_age = rules.parameter("adult_age_y")
    minor = context.age_y is not None and context.age_y < adult_age
    has_paediatric = Population.PAEDIATRIC in _limits(drug, indication)
    if lim is not None and not (minor and not has_paediatric):
        return None
    described = []
    if context.age_y is not None:
        described.append(f"age {context.age_y:g} y")
    if context.weight_kg is not None:
        described.append(f"{context.weight_kg:g} kg")
    rule = rules.rules["no_labelled_dosing"]
    return rule.finding(
        rules.citation(rule.source, drug),
        drug=drug.name,
        indication=indication,
        population=Population.PAEDIATRIC if minor else pop,
        patient=", ".join(described) or "age and weight not given",
    )


def _start_findings(
    drug: Drug,
    dose_mg: float,
    *,
    lim: DoseLimit,
    pop: Population,
    context: PatientContext,
    starting: bool,
    rules: RuleSet,
) -> list[Finding]:
    findings: list[Finding] = []
    common = {
        "drug": drug.name,
        "indication": lim.indication,
        "population": pop,
        "dose_mg": dose_mg,
    }
    if starting and lim.start_daily_mg is not None and above(dose_mg, _upper(lim.start_daily_mg)):
        findings.append(
            rules.rules["start_above_label"].finding(
                drug.source_of(lim.start_daily_mg).citation,
                limit_mg=_upper(lim.start_daily_mg),
                **common,
            )
        )
    per_kg = (
        lim.max_start_daily_mg_per_kg,
        lim.maintenance_daily_mg_per_kg,
        lim.start_daily_mg_per_kg,
    )
    if all(f is None for f in per_kg):
        return findings
    if context.weight_kg is None:
        rule = rules.rules["weight_needed"]
        return [*findings, rule.finding(drug.sources[lim.source].citation, **common)]
    weight = context.weight_kg
    dose_mg_kg = dose_mg / weight
    max_start, maintenance, start = per_kg
    if starting and max_start is not None and above(dose_mg_kg, max_start.require()):
        low, high = (
            (start.low or start.require(), _upper(start)) if start else (0.0, max_start.require())
        )
        findings.append(
            rules.rules["paediatric_start_above_max"].finding(
                drug.source_of(max_start).citation,
                dose_mg_kg=dose_mg_kg,
                weight_kg=weight,
                limit_mg_kg=max_start.require(),
                start_low=low,
                start_high=high,
                start_low_mg=low * weight,
                start_high_mg=high * weight,
                **common,
            )
        )
    if not starting and maintenance is not None and above(dose_mg_kg, _upper(maintenance)):
        findings.append(
            rules.rules["paediatric_above_maintenance"].finding(
                drug.source_of(maintenance).citation,
                dose_mg_kg=dose_mg_kg,
                weight_kg=weight,
                low=maintenance.low if maintenance.low is not None else maintenance.require(),
                high=_upper(maintenance),
                **common,
            )
        )
    return findings
