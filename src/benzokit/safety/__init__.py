"""Safety checks: rules as data (versioned, sourced), findings as values."""

from benzokit.safety.check import check_prescription, check_schedule, condition_findings
from benzokit.safety.context import PatientContext, indications, population
from benzokit.safety.findings import Finding, Severity, sort_findings
from benzokit.safety.pace import DoseSpan, Fall, PaceRule, guideline_pace
from benzokit.safety.rules import Rule, RuleSet, load_rule_file, load_rules
from benzokit.safety.schedule import ScheduleStep, StepLike, smallest_product_dose_mg

__all__ = [
    "DoseSpan",
    "Fall",
    "Finding",
    "PaceRule",
    "PatientContext",
    "Rule",
    "RuleSet",
    "ScheduleStep",
    "Severity",
    "StepLike",
    "check_prescription",
    "check_schedule",
    "condition_findings",
    "guideline_pace",
    "indications",
    "load_rule_file",
    "load_rules",
    "population",
    "smallest_product_dose_mg",
    "sort_findings",
]
