"""The safety checker: a prescription or a schedule against the label, the guidelines and the patient.

Findings are values (:class:`~benzokit.safety.findings.Finding`), most severe first; bad input is an
:class:`~benzokit.errors.InputError`. The rules and their numbers live in ``safety/data/rules.toml``;
dose limits in the drug files.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from benzokit.drugs.loader import load_drug
from benzokit.drugs.models import Drug
from benzokit.errors import InputError
from benzokit.knowledge import Knowledge
from benzokit.safety.context import PatientContext, resolve_indication
from benzokit.safety.dosing import dose_findings
from benzokit.safety.findings import Finding, sort_findings, stamped
from benzokit.safety.interactions import interaction_findings
from benzokit.safety.rules import RuleSet, load_rules
from benzokit.safety.schedule import StepLike, check_spans, normalise_steps


def _drug(drug: Drug | str, knowledge: Knowledge | None) -> Drug:
    return drug if isinstance(drug, Drug) else load_drug(drug, knowledge)


def _version(knowledge: Knowledge | None) -> str:
    return (knowledge or Knowledge.shipped()).version


def _validated(drug: Drug, context: PatientContext | None, rules: RuleSet) -> PatientContext:
    """The patient's context checked against the drug's indications and named by ``rules``."""
    context = context or PatientContext()
    if context.indication is not None:
        resolve_indication(drug, context.indication)
    return context.resolved(rules)


def check_prescription(
    drug: Drug | str,
    daily_dose_mg: float,
    context: PatientContext | None = None,
    *,
    starting: bool = False,
    knowledge: Knowledge | None = None,
) -> tuple[Finding, ...]:
    """Check a total daily dose (mg/day) of ``drug`` for the patient in ``context``.

    ``starting=True`` also checks the dose against the labelled starting dose (and, for children,
    the labelled maximum starting dose in mg/kg/day). The rules are those of ``knowledge`` (default:
    shipped). Returns the findings, most severe first.
    """
    entry = _drug(drug, knowledge)
    if not (math.isfinite(daily_dose_mg) and daily_dose_mg > 0):
        raise InputError("daily dose", daily_dose_mg, "a daily dose in mg greater than 0")
    rules = load_rules(knowledge)
    context = _validated(entry, context, rules)
    findings = dose_findings(entry, daily_dose_mg, context, starting=starting, rules=rules)
    findings += interaction_findings(entry, context, rules)
    findings += condition_findings(entry, context, rules)
    return stamped(sort_findings(findings), _version(knowledge))


def condition_findings(
    drug: Drug, context: PatientContext, rules: RuleSet | None = None
) -> list[Finding]:
    """One finding per patient condition that has a rule for this drug (``rules``: shipped if None)."""
    rules = rules or load_rules()
    found: list[Finding] = []
    for name in context.conditions:
        rule = rules.conditions[name].rule_for(drug.name)
        if rule is not None:
            found.append(rule.finding(rules.citation(rule.source, drug), drug=drug.name))
    return found


def check_schedule(
    drug: Drug | str,
    steps: Sequence[StepLike],
    context: PatientContext | None = None,
    *,
    allow_abrupt_stop_reason: str | None = None,
    knowledge: Knowledge | None = None,
) -> tuple[Finding, ...]:
    """Check a dosing schedule: steps of ``(start_day, end_day, daily_dose_mg)`` (days ``[start,
    end)``, mg/day) or plan steps.

    Reductions faster than the guideline pace, a fall to zero from above the smallest product dose
    (critical, unless ``allow_abrupt_stop_reason`` records why — then a warning that keeps the
    reason), and any step above the labelled maximum. The rules and the pace are those of
    ``knowledge`` (default: shipped). Returns the findings, most severe first.
    """
    entry = _drug(drug, knowledge)
    reason = allow_abrupt_stop_reason
    if reason is not None and not reason.strip():
        raise InputError(
            "allow_abrupt_stop_reason",
            reason,
            "the prescriber's reason for stopping abruptly, in words",
        )
    spans = normalise_steps(steps, entry.name)
    if not spans:
        raise InputError("steps", "none", "at least one step (start_day, end_day, daily_dose_mg)")
    rules = load_rules(knowledge)
    context = _validated(entry, context, rules)
    found = check_spans(entry, spans, context, reason.strip() if reason else None, rules)
    return stamped(sort_findings(found), _version(knowledge))
