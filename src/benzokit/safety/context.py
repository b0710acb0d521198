"""The patient a safety check is for, and the labelled population (adult, paediatric, elderly) they fall in.

Units: age in years, weight in kg. Co-medications are resolved agents of ``drugs/data/agents.toml``;
conditions are names from ``safety/data/rules.toml`` (aliases accepted). Unknown values are an
:class:`~benzokit.errors.InputError` listing what is allowed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from benzokit.drugs.agents import Agent, resolve_agents
from benzokit.drugs.models import DoseLimit, Drug, Population
from benzokit.errors import InputError
from benzokit.knowledge import Knowledge
from benzokit.patient import Patient
from benzokit.safety.rules import RuleSet, load_rules, normalise_condition

PREGNANCY = "pregnancy"


@dataclass(frozen=True, slots=True)
class PatientContext:
    """Who the prescription or schedule is for. ``None`` means not known (and is said so).

    ``pregnant=True`` and the condition ``pregnancy`` are the same thing: either sets both.
    ``indication`` is checked against the drug's labelled indications when a check runs.
    """

    age_y: float | None = None
    weight_kg: float | None = None
    comedications: tuple[Agent, ...] = ()
    conditions: tuple[str, ...] = ()
    pregnant: bool = False
    indication: str | None = None

    def __post_init__(self) -> None:
        Patient(weight_kg=self.weight_kg, age_y=self.age_y)  # validates the ranges
        names = [normalise_condition(c) for c in self.conditions]
        if self.pregnant:
            names.append(PREGNANCY)
        unique = tuple(dict.fromkeys(names))
        object.__setattr__(self, "conditions", unique)
        object.__setattr__(self, "pregnant", PREGNANCY in unique)
        if self.indication is not None:
            object.__setattr__(self, "indication", self.indication.strip() or None)

    def resolved(self, rules: RuleSet) -> PatientContext:
        """This context with its conditions named as ``rules`` names them (aliases resolved); an
        unknown condition is an :class:`UnknownNameError` listing the conditions ``rules`` knows."""
        names = tuple(rules.resolve_condition(c) for c in self.conditions)
        return replace(self, conditions=names, pregnant=PREGNANCY in names)

    @classmethod
    def create(
        cls,
        *,
        age_y: float | None = None,
        weight_kg: float | None = None,
        comedications: Iterable[str | Agent] = (),
        conditions: Iterable[str] = (),
        pregnant: bool = False,
        indication: str | None = None,
        knowledge: Knowledge | None = None,
    ) -> PatientContext:
        """Build a context from names: co-medications by name or alias (e.g. ``"oxycodone"``), looked up
        in ``knowledge`` (default: shipped)."""
        items = list(comedications)
        agents = [a for a in items if isinstance(a, Agent)]
        agents += resolve_agents([a for a in items if isinstance(a, str)], knowledge=knowledge)
        return cls(
            age_y=age_y,
            weight_kg=weight_kg,
            comedications=tuple({a.name: a for a in agents}.values()),
            conditions=tuple(conditions),
            pregnant=pregnant,
            indication=indication,
        )

    def patient(self) -> Patient:
        """The PK engine's view of this patient (weight, age, co-medication names)."""
        names = tuple(a.name for a in self.comedications)
        return Patient(weight_kg=self.weight_kg, age_y=self.age_y, comedications=names)

    def agents_in(
        self, classes: Iterable[str], *, except_classes: Iterable[str] = ()
    ) -> tuple[Agent, ...]:
        """Co-medications in any of ``classes`` and in none of ``except_classes``."""
        wanted, excluded = set(classes), set(except_classes)
        return tuple(
            a
            for a in self.comedications
            if wanted & set(a.classes) and not excluded & set(a.classes)
        )

    def population_for(self, drug: Drug) -> Population:
        return population(drug, self)


def indications(drug: Drug) -> tuple[str, ...]:
    """The indications the drug's label gives dosing for, in file order."""
    return tuple(dict.fromkeys(limit.indication for limit in drug.dose_limits))


def resolve_indication(drug: Drug, indication: str, *, field: str = "indication") -> str:
    """The labelled indication matching ``indication`` (case-insensitive), or an input error."""
    known = indications(drug)
    for name in known:
        if name.lower() == indication.strip().lower():
            return name
    allowed = ", ".join(known) if known else "none (no labelled dosing in the knowledge base)"
    raise InputError(field, indication, f"labelled indications of {drug.name} are: {allowed}")


def population(drug: Drug, context: PatientContext, rules: RuleSet | None = None) -> Population:
    """The labelled population of ``context`` for ``drug``, as the label draws it.

    Paediatric: at or below the age (y) or weight (kg) bound of one of the drug's paediatric dose
    limits (for the context's indication if it has one, else any); clonazepam seizures: ≤ 10 y or
    ≤ 30 kg. Elderly: age at or above the Beers age (65 y, ``rules.toml``) when the label has elderly
    dosing for the indication. Everyone else: adult. ``rules``: the rule set (default: shipped).
    """
    limits = [lim for lim in drug.dose_limits if _same_indication(lim, context.indication)]
    if _paediatric(drug, limits, context):
        return Population.PAEDIATRIC
    elderly_age = (rules or load_rules()).parameter("elderly_age_y")
    has_elderly = any(lim.population is Population.ELDERLY for lim in limits)
    if context.age_y is not None and context.age_y >= elderly_age and has_elderly:
        return Population.ELDERLY
    return Population.ADULT


def _same_indication(limit: DoseLimit, indication: str | None) -> bool:
    return indication is None or limit.indication.lower() == indication.lower()


def _paediatric(drug: Drug, limits: list[DoseLimit], context: PatientContext) -> bool:
    bounded = [
        lim
        for lim in (limits if any(_has_bounds(x) for x in limits) else drug.dose_limits)
        if lim.population is Population.PAEDIATRIC and _has_bounds(lim)
    ]
    for lim in bounded:
        age_bound = lim.max_age_y.require("max_age_y") if lim.max_age_y else None
        weight_bound = lim.max_weight_kg.require("max_weight_kg") if lim.max_weight_kg else None
        if age_bound is not None and context.age_y is not None and context.age_y <= age_bound:
            return True
        if (
            weight_bound is not None
            and context.weight_kg is not None
            and context.weight_kg <= weight_bound
        ):
            return True
    return False


def _has_bounds(limit: DoseLimit) -> bool:
    return limit.population is Population.PAEDIATRIC and (
        limit.max_age_y is not None or limit.max_weight_kg is not None
    )
