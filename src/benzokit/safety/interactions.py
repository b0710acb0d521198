"""Co-medication and age findings: opioids (boxed warning), alcohol and other CNS depressants, the
Beers 2023 rules at age ≥ 65, and the pharmacokinetic interactions as the PK engine sees them.

Exposure changes are predicted by :func:`benzokit.pk.individualize` (steady-state exposure ratio =
typical clearance / individual clearance at the same weight, bioavailability unchanged), so the
checker states exactly what the simulator models; unquantified effects are said to be unquantified.
"""

from __future__ import annotations

from benzokit.drugs.agents import Agent
from benzokit.drugs.models import Drug, InteractionEffect
from benzokit.patient import Patient
from benzokit.pk.covariates import InteractionNote, individualize
from benzokit.safety.context import PatientContext
from benzokit.safety.findings import Finding
from benzokit.safety.rules import Rule, RuleSet

CLASS_RULES = ("opioid", "alcohol", "gabapentinoid", "cns_depressant")
_DRUG_CLASS_WORDS = {"benzodiazepine": "benzodiazepine", "z-drug": "Z-drug"}


def _names(agents: tuple[Agent, ...] | list[Agent]) -> str:
    return ", ".join(a.name for a in agents)


def _cite(rules: RuleSet, rule: Rule, drug: Drug) -> str:
    return rules.citation(rule.source, drug)


def interaction_findings(drug: Drug, context: PatientContext, rules: RuleSet) -> list[Finding]:
    """Findings under ``rules`` from co-medications (pharmacodynamic and pharmacokinetic) and age."""
    findings: list[Finding] = []
    for key in CLASS_RULES:
        rule = rules.rules[key]
        agents = context.agents_in(rule.agent_classes, except_classes=rule.except_classes)
        if agents and rule.applies_to(drug.name):
            findings.append(
                rule.finding(_cite(rules, rule, drug), drug=drug.name, agents=_names(agents))
            )
    valproate = rules.rules["valproate_absence_status"]
    if valproate.applies_to(drug.name) and any(
        a.name in valproate.agents for a in context.comedications
    ):
        findings.append(valproate.finding(_cite(rules, valproate, drug), drug=drug.name))
    findings += beers_findings(drug, context, rules)
    findings += pk_findings(drug, context, rules)
    return findings


def beers_findings(drug: Drug, context: PatientContext, rules: RuleSet) -> list[Finding]:
    """Beers 2023 at age ≥ 65 (the age is a sourced parameter of the rule file)."""
    elderly_age = rules.parameter("elderly_age_y")
    if context.age_y is None or context.age_y < elderly_age:
        return []
    common = {"drug": drug.name, "age_y": context.age_y, "elderly_age_y": elderly_age}
    benzo = rules.rules["beers_benzodiazepine"]
    found = [
        benzo.finding(
            _cite(rules, benzo, drug), drug_class=_DRUG_CLASS_WORDS[drug.drug_class], **common
        )
    ]
    cns_rule = rules.rules["beers_cns_active"]
    cns = context.agents_in(cns_rule.agent_classes)
    count = 1 + len(cns)  # the benzodiazepine or Z-drug itself is CNS-active
    if count >= cns_rule.value("min_count"):
        found.append(
            cns_rule.finding(
                _cite(rules, cns_rule, drug),
                count=count,
                agents=_names(cns),
                min_count=cns_rule.value("min_count"),
                **common,
            )
        )
    pair_rule = rules.rules["beers_opioid_gabapentinoid"]
    groups = [context.agents_in([c]) for c in pair_rule.agent_classes]
    if groups and all(groups):
        agents = [a for group in groups for a in group]
        found.append(
            pair_rule.finding(_cite(rules, pair_rule, drug), agents=_names(agents), **common)
        )
    return found


def exposure_ratio(drug: Drug, context: PatientContext) -> float:
    """Steady-state exposure with the co-medications relative to without (same weight and age)."""
    with_comeds = individualize(drug, context.patient()).model
    without = individualize(drug, Patient(weight_kg=context.weight_kg, age_y=context.age_y)).model
    return (with_comeds.bioavailability / with_comeds.clearance_l_h) / (
        without.bioavailability / without.clearance_l_h
    )


def pk_findings(drug: Drug, context: PatientContext, rules: RuleSet) -> list[Finding]:
    """Pharmacokinetic interactions from the drug file, as the PK engine applies them."""
    if not context.comedications:
        return []
    notes = individualize(drug, context.patient()).interactions
    by_name = {a.name: a for a in context.comedications}
    found: list[Finding] = []
    quantified = [n for n in notes if n.effect is InteractionEffect.EXPOSURE and n.modelled]
    if quantified:
        ratio = exposure_ratio(drug, context)
        agents = ", ".join(n.agent for n in quantified)
        lower = ratio < 1
        found.append(
            rules.rules["pk_exposure_change"].finding(
                quantified[0].source,
                drug=drug.name,
                agents=agents,
                ratio=ratio,
                percent=abs(1 - ratio) * 100,
                direction="lower" if lower else "higher",
                effect="less effect" if lower else "more sedation",
            )
        )
    unquantified = [n for n in notes if n.effect is InteractionEffect.UNQUANTIFIED]
    for key in ("cyp3a_inhibitor", "pk_inducer_unquantified"):
        rule = rules.rules[key]
        matched = [
            n for n in unquantified if set(rule.agent_classes) & set(by_name[n.agent].classes)
        ]
        if matched:
            found.append(_unquantified(rule, matched, drug))
            unquantified = [n for n in unquantified if n not in matched]
    other = rules.rules["pk_other"]
    found += [
        other.finding(n.source, drug=drug.name, agents=n.agent, note=n.message)
        for n in unquantified
    ]
    return found


def _unquantified(rule: Rule, notes: list[InteractionNote], drug: Drug) -> Finding:
    return rule.finding(notes[0].source, drug=drug.name, agents=", ".join(n.agent for n in notes))
