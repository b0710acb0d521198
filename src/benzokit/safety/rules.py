"""The safety rule set (``safety/data/rules.toml``): typed, validated, versioned, every rule sourced.

A :class:`Rule` turns into a :class:`~benzokit.safety.findings.Finding` with :meth:`Rule.finding`,
its message and action filled in from the values the checker measured. The checker refers to rules
by key (``rules["opioid"]``); :data:`REQUIRED_RULES` lists those keys, so a rule file that lacks one
fails on load, not in the middle of a check.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, model_validator

from benzokit.drugs.models import Drug, Figure, Source, SourceKind
from benzokit.errors import DataError, UnknownNameError
from benzokit.knowledge import Knowledge, read_document
from benzokit.safety.findings import Finding, Severity
from benzokit.types import FrozenModel

DRUG_LABEL = "@drug_label"
"""Source key meaning: the US prescribing information of the drug being checked."""

REQUIRED_RULES = frozenset(
    {
        "dose_above_label_max", "start_above_label", "paediatric_start_above_max",
        "paediatric_above_maintenance", "weight_needed", "no_labelled_dosing",
        "indication_not_given", "opioid", "alcohol", "gabapentinoid", "cns_depressant",
        "beers_benzodiazepine", "beers_cns_active", "beers_opioid_gabapentinoid",
        "pk_exposure_change", "pk_inducer_unquantified", "cyp3a_inhibitor", "pk_other",
        "valproate_absence_status", "taper_rate", "change_pace", "abrupt_stop",
        "abrupt_stop_overridden", "schedule_above_label_max",
    }
)  # fmt: skip
REQUIRED_PARAMETERS = frozenset({"elderly_age_y", "adult_age_y"})
_RULES_FILE = "rules.toml"


class Rule(FrozenModel):
    """One rule: a stable code, a severity, message and action templates, a source, its numbers."""

    code: str = Field(pattern=r"^BZK(-[A-Z0-9]+)+$")
    severity: Severity
    message: str = Field(min_length=10)
    source: str = Field(min_length=1)
    action: str | None = None
    parameters: dict[str, Figure] = Field(default_factory=dict)
    drugs: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    agent_classes: tuple[str, ...] = ()
    except_classes: tuple[str, ...] = ()
    verified: bool = True
    note: str = ""

    @model_validator(mode="after")
    def _templates_parse(self) -> Self:
        for text in (self.message, self.action or ""):
            try:
                list(string.Formatter().parse(text))
            except ValueError as exc:
                raise ValueError(f"template {text!r} does not parse: {exc}") from exc
        return self

    def applies_to(self, drug: str) -> bool:
        return not self.drugs or drug in self.drugs

    def value(self, name: str) -> float:
        """A numeric parameter of this rule (refuses placeholders)."""
        if name not in self.parameters:
            raise DataError(_RULES_FILE, f"{self.code}.parameters.{name}", "is missing")
        return self.parameters[name].require(f"{self.code}.parameters.{name}")

    def finding(self, citation: str, **values: object) -> Finding:
        """This rule's finding, with ``values`` filled into its message and action."""
        try:
            message = self.message.format(**values)
            action = self.action.format(**values) if self.action else None
        except (KeyError, IndexError, ValueError) as exc:
            raise DataError(
                _RULES_FILE, f"{self.code}.message", f"cannot be filled in: {exc}"
            ) from exc
        if not self.verified:
            citation += " [unverified: held from secondary material]"
        return Finding(self.code, self.severity, message, citation, action)


class TaperPace(FrozenModel):
    """The guideline taper pace (``[taper_pace]``): the one entry the planner and both pace checks read."""

    max_reduction_fraction: Figure
    window_days: Figure

    @model_validator(mode="after")
    def _a_fraction_and_whole_days(self) -> Self:
        fraction, window = self.max_reduction_fraction.value, self.window_days.value
        if fraction is not None and not 0 < fraction <= 1:
            raise ValueError(
                f"max_reduction_fraction {fraction} is not a fraction above 0, at most 1"
            )
        if window is not None and not (window >= 1 and float(window).is_integer()):
            raise ValueError(f"window_days {window} is not a whole number of days, at least 1")
        if DRUG_LABEL in (self.max_reduction_fraction.source, self.window_days.source):
            raise ValueError(
                f"the pace applies to every drug: cite a [sources] key, not {DRUG_LABEL}"
            )
        return self


class Condition(FrozenModel):
    """A patient condition the checker knows, with its rules (a drug-specific rule wins)."""

    label: str = Field(min_length=3)
    aliases: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = Field(min_length=1)

    def rule_for(self, drug: str) -> Rule | None:
        specific = [r for r in self.rules if drug in r.drugs]
        generic = [r for r in self.rules if not r.drugs]
        chosen = specific or generic
        return chosen[0] if chosen else None


class RuleSet(FrozenModel):
    """The whole rule file."""

    schema_version: Literal[1]
    data_version: str = Field(min_length=1)
    sources: dict[str, Source]
    parameters: dict[str, Figure]
    taper_pace: TaperPace
    rules: dict[str, Rule]
    conditions: dict[str, Condition]

    @model_validator(mode="after")
    def _complete_and_sourced(self) -> Self:
        missing = sorted(REQUIRED_RULES - set(self.rules))
        if missing:
            raise ValueError(f"rule(s) the checker needs are missing: {', '.join(missing)}")
        missing = sorted(REQUIRED_PARAMETERS - set(self.parameters))
        if missing:
            raise ValueError(f"parameter(s) the checker needs are missing: {', '.join(missing)}")
        keys = [(f"parameters.{n}", f.source) for n, f in self.parameters.items()]
        keys += [
            (f"taper_pace.{n}", f.source)
            for n, f in (
                ("max_reduction_fraction", self.taper_pace.max_reduction_fraction),
                ("window_days", self.taper_pace.window_days),
            )
        ]
        codes: dict[str, str] = {}
        for where, rule in self.all_rules():
            keys.append((where, rule.source))
            keys.extend((f"{where}.parameters.{n}", f.source) for n, f in rule.parameters.items())
            if rule.code in codes:
                raise ValueError(f"code {rule.code} is used by both {codes[rule.code]} and {where}")
            codes[rule.code] = where
        undefined = [
            f"{w} cites {k!r}" for w, k in keys if k != DRUG_LABEL and k not in self.sources
        ]
        if undefined:
            raise ValueError(
                "undefined source key(s) (define them under [sources]): " + "; ".join(undefined)
            )
        return self

    def all_rules(self) -> list[tuple[str, Rule]]:
        """Every rule with where it lives in the file (``rules.opioid``, ``conditions.x.rules.0``)."""
        found = [(f"rules.{k}", r) for k, r in self.rules.items()]
        for name, cond in self.conditions.items():
            found.extend((f"conditions.{name}.rules.{i}", r) for i, r in enumerate(cond.rules))
        return found

    def parameter(self, name: str) -> float:
        return self.parameters[name].require(f"parameters.{name}")

    def citation(self, key: str, drug: Drug) -> str:
        """The citation text of a source key; ``@drug_label`` is the checked drug's label."""
        if key == DRUG_LABEL:
            return drug_label_citation(drug)
        return self.source_citation(key)

    def source_citation(self, key: str) -> str:
        """The citation text of a key under ``[sources]`` (with its doi, if it has one)."""
        source = self.sources[key]
        return f"{source.citation}, doi {source.doi}" if source.doi else source.citation

    def condition_names(self) -> dict[str, str]:
        """Every accepted spelling (lower case, ``-`` and spaces as ``_``) mapped to its condition."""
        table: dict[str, str] = {}
        for name, cond in self.conditions.items():
            for spelling in (name, *cond.aliases):
                table[normalise_condition(spelling)] = name
        return table

    def resolve_condition(self, text: str, *, field: str = "condition") -> str:
        key = normalise_condition(text)
        table = self.condition_names()
        if key not in table:
            raise UnknownNameError(field, text, self.conditions)
        return table[key]


def normalise_condition(text: str) -> str:
    return "_".join(text.strip().lower().replace("-", " ").split())


def drug_label_citation(drug: Drug) -> str:
    """The drug's labelling source: the source of its labelled dosing, else its first label."""
    if drug.dose_limits:
        return drug.sources[drug.dose_limits[0].source].citation
    labels = [s for s in drug.sources.values() if s.kind is SourceKind.LABEL]
    return labels[0].citation if labels else f"{drug.display_name} prescribing information"


def load_rule_file(path: Path) -> RuleSet:
    """Load and validate a rule file; a problem is a :class:`DataError` naming its field."""
    return read_document(path, RuleSet)


def load_rules(knowledge: Knowledge | None = None) -> RuleSet:
    """The safety rule set (``rules.toml``) of ``knowledge`` (default: shipped)."""
    return (knowledge or Knowledge.shipped()).load(_RULES_FILE, load_rule_file)
