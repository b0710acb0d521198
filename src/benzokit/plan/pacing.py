"""Pacing policies: when a taper's next step is taken, decided from how the last cut went.

A :class:`PacingPolicy` (``plan/data/pacing.toml``) says how often the watched measure is looked at, how
long a cut settles before it is judged, what rise since the cut holds the taper, after how many holds the
remaining steps are lengthened and by how much, when the clinician is asked instead, and the longest a
policy paces a taper. The ``fixed`` policy takes every step on its planned day.

:func:`decide` is the rule itself, on plain numbers: the clinic calls it on a patient's check-ins and the
reference simulation on simulated ones; the compiled population kernel implements the same arithmetic and
is tested against it, decision for decision. The measure is a fraction of its range (0 none, 1 maximum).

A policy never raises a dose and never stops a taper: a severe reading, and a taper past the policy's
maximum duration, are handed to the clinician (:attr:`Pace.REFER`, :attr:`Pace.OVERDUE`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Self

from pydantic import Field, model_validator

from benzokit.drugs.models import Figure, Source
from benzokit.errors import DataError, InputError
from benzokit.knowledge import Knowledge, read_document
from benzokit.types import FrozenModel

FIXED = "fixed"
"""The name of the shipped policy that takes every step on its planned day."""


class PolicyKind(StrEnum):
    FIXED = "fixed"
    SYMPTOM_GUIDED = "symptom-guided"


class Pace(IntEnum):
    """What a check-in decides (the integer is the kernel's code)."""

    WAIT = 0  # the step is not due yet, or too recent to judge: keep the dose
    ADVANCE = 1  # the step is due and the last cut is tolerated: take the next step
    HOLD = 2  # symptoms rose since the cut: keep the dose, judge again at the next check-in
    SLOW = 3  # a hold after repeated holds: keep the dose and lengthen the remaining steps
    REFER = 4  # a severe reading: keep the dose and ask the clinician
    OVERDUE = 5  # past the policy's maximum duration: the pace is the clinician's decision

    @property
    def label(self) -> str:
        return self.name.lower()


RULES = (
    "checkin_interval_days",
    "settle_days",
    "hold_rise",
    "slow_after_holds",
    "slow_factor",
    "ask_clinician_at",
    "max_duration_days",
    "observation_noise_sd",
)
"""The rules of a symptom-guided policy: the sourced numbers of a ``pacing.toml`` policy."""
_WHOLE_DAYS = ("checkin_interval_days", "settle_days", "slow_after_holds", "max_duration_days")
# The range each rule's value must lie in: (lowest, highest, whether the lowest itself is allowed).
_BOUNDS: dict[str, tuple[float, float, bool]] = {
    "checkin_interval_days": (1, 365, True),
    "settle_days": (0, 365, True),
    "hold_rise": (0, 1, False),
    "slow_after_holds": (1, 100, True),
    "slow_factor": (1, 10, False),
    "ask_clinician_at": (0, 1, False),
    "max_duration_days": (1, 36_500, True),
    "observation_noise_sd": (0, 1, True),
}


class PolicyEntry(FrozenModel):
    """One policy as written in the file; a symptom-guided policy gives every rule, a fixed one none."""

    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    kind: PolicyKind
    source: str = Field(min_length=1)
    checkin_interval_days: Figure | None = None
    settle_days: Figure | None = None
    hold_rise: Figure | None = None
    slow_after_holds: Figure | None = None
    slow_factor: Figure | None = None
    ask_clinician_at: Figure | None = None
    max_duration_days: Figure | None = None
    observation_noise_sd: Figure | None = None

    @model_validator(mode="after")
    def _rules_fit_the_kind(self) -> Self:
        given = [rule for rule in RULES if getattr(self, rule) is not None]
        if self.kind is PolicyKind.FIXED:
            if given:
                raise ValueError(f"a fixed policy takes no rules; remove {', '.join(given)}")
            return self
        missing = [rule for rule in RULES if rule not in given]
        if missing:
            raise ValueError(
                f"a symptom-guided policy needs every rule; missing {', '.join(missing)}"
            )
        for rule in RULES:
            _check_rule(rule, getattr(self, rule))
        return self

    def cited_sources(self) -> list[tuple[str, str]]:
        """Every ``(field, source)`` the policy cites: its own source, then each rule's."""
        return [("source", self.source)] + [
            (f"{rule}.source", figure.source)
            for rule in RULES
            if (figure := getattr(self, rule)) is not None
        ]


def _check_rule(rule: str, figure: Figure) -> None:
    if figure.placeholder or figure.value is None:
        raise ValueError(f"'{rule}' needs a single value (not a placeholder or a range)")
    value = figure.value
    low, high, low_allowed = _BOUNDS[rule]
    above = value >= low if low_allowed else value > low
    if not (above and value <= high):
        side = "at least" if low_allowed else "above"
        raise ValueError(f"'{rule}' is {value:g}; it must be {side} {low:g} and at most {high:g}")
    if rule in _WHOLE_DAYS and value != int(value):
        raise ValueError(f"'{rule}' is {value:g}; it must be a whole number")


class PacingFile(FrozenModel):
    """``pacing.toml``: the sources and the named policies."""

    schema_version: int
    data_version: str
    sources: dict[str, Source]
    policies: dict[str, PolicyEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _fixed_present(self) -> Self:
        if FIXED not in self.policies or self.policies[FIXED].kind is not PolicyKind.FIXED:
            raise ValueError(f"the '{FIXED}' policy (kind = \"fixed\") must be present")
        return self

    def unknown_source(self) -> tuple[str, str] | None:
        """The first ``(field, source)`` citing a source the file does not list, if any."""
        for name, entry in self.policies.items():
            for field, source in entry.cited_sources():
                if source not in self.sources:
                    return f"policies.{name}.{field}", source
        return None


@dataclass(frozen=True, slots=True)
class PacingPolicy:
    """A validated policy with its rules as plain numbers (days are whole days; fractions of the range)."""

    name: str
    title: str
    description: str
    kind: PolicyKind
    source: str
    citation: str
    checkin_interval_days: int = 1
    settle_days: int = 0
    hold_rise: float = math.inf
    slow_after_holds: int = 1
    slow_factor: float = 1.0
    ask_clinician_at: float = math.inf
    max_duration_days: int = 36_500
    observation_noise_sd: float = 0.0

    @property
    def adaptive(self) -> bool:
        """Whether symptoms decide the pace (else every step is taken on its planned day)."""
        return self.kind is PolicyKind.SYMPTOM_GUIDED

    def is_due(self, days_on_step: int, planned_days: int, stretch: float) -> bool:
        """Whether a step planned for ``planned_days``, stretched by ``stretch``, has run its course after
        ``days_on_step`` whole days: ``days_on_step >= ceil(planned_days * stretch)``, compared in floats
        (for a whole number of days the same test, and it holds for any stretch, however large)."""
        return days_on_step >= planned_days * stretch

    def is_checkin_day(self, day: int) -> bool:
        """Whether the end of plan day ``day`` (0-based) is a check-in: every ``checkin_interval_days``."""
        return (day + 1) % self.checkin_interval_days == 0


@dataclass(frozen=True, slots=True)
class PacerState:
    """Where a patient (or a virtual subject) stands in a paced taper.

    ``step`` is the index of the current step, begun on plan day ``step_start_day``; ``baseline`` is the
    measure read at the check-in that began it (NaN before the first cut: nothing to compare with);
    ``stretch`` multiplies the planned days of every step from now on (1 as planned).
    """

    step: int = 0
    step_start_day: int = 0
    baseline: float = math.nan
    holds_since_slow: int = 0
    stretch: float = 1.0
    holds: int = 0
    slowdowns: int = 0
    referrals: int = 0


def decide(
    policy: PacingPolicy, state: PacerState, day: int, measure: float, planned_days: int
) -> tuple[Pace, PacerState]:
    """The decision at the check-in ending plan day ``day`` (0-based), and the state after it.

    ``measure`` is the watched measure read at that check-in (fraction of its range); ``planned_days`` is
    the current step's planned length in days. An advance begins the next step on day ``day + 1``.
    """
    days_on_step = day + 1 - state.step_start_day
    if policy.adaptive:
        pace = _symptom_pace(
            policy, state, day, measure, days_on_step=days_on_step, planned_days=planned_days
        )
    else:
        pace = Pace.ADVANCE if days_on_step >= planned_days else Pace.WAIT
    return pace, _state_after(policy, state, pace, day, measure)


def _symptom_pace(
    policy: PacingPolicy,
    state: PacerState,
    day: int,
    measure: float,
    *,
    days_on_step: int,
    planned_days: int,
) -> Pace:
    """The rules in the order of their importance: the clinician first, then symptoms, then the calendar."""
    if day + 1 > policy.max_duration_days:
        return Pace.OVERDUE
    if measure >= policy.ask_clinician_at:
        return Pace.REFER
    if days_on_step < policy.settle_days:
        return Pace.WAIT
    if measure - state.baseline >= policy.hold_rise:  # False while the baseline is NaN
        return Pace.SLOW if state.holds_since_slow + 1 >= policy.slow_after_holds else Pace.HOLD
    due = policy.is_due(days_on_step, planned_days, state.stretch)
    return Pace.ADVANCE if due else Pace.WAIT


def _state_after(
    policy: PacingPolicy, state: PacerState, pace: Pace, day: int, measure: float
) -> PacerState:
    """What a decision changes: the step, the holds, the stretch, the referrals."""
    if pace is Pace.ADVANCE:
        return replace(
            state, step=state.step + 1, step_start_day=day + 1, baseline=measure, holds_since_slow=0
        )
    if pace is Pace.HOLD:
        return replace(state, holds=state.holds + 1, holds_since_slow=state.holds_since_slow + 1)
    if pace is Pace.SLOW:
        return replace(
            state,
            holds=state.holds + 1,
            holds_since_slow=0,
            stretch=state.stretch * policy.slow_factor,
            slowdowns=state.slowdowns + 1,
        )
    if pace is Pace.REFER:
        return replace(state, referrals=state.referrals + 1)
    return state


def resolve_entry(name: str, entry: PolicyEntry, sources: dict[str, Source]) -> PacingPolicy:
    """The policy ``entry`` (validated, citing only ``sources``) as plain numbers, named ``name``."""
    rules = {
        rule: (int(figure.require(rule)) if rule in _WHOLE_DAYS else figure.require(rule))
        for rule in RULES
        if (figure := getattr(entry, rule)) is not None
    }
    return PacingPolicy(
        name=name,
        title=entry.title,
        description=entry.description,
        kind=entry.kind,
        source=entry.source,
        citation=sources[entry.source].citation,
        **rules,
    )


@dataclass(frozen=True, slots=True)
class PacingPolicies:
    """Every policy of a pacing file, by name, and the file's data version."""

    data_version: str
    policies: dict[str, PacingPolicy]

    def get(self, name: str, *, field: str = "policy") -> PacingPolicy:
        """The policy ``name``; an unknown name is an :class:`InputError` on ``field`` listing the known."""
        try:
            return self.policies[name]
        except KeyError:
            known = ", ".join(sorted(self.policies))
            raise InputError(field, name, f"one of the pacing policies: {known}") from None


def load_pacing_file(path: Path) -> PacingPolicies:
    """Load and validate a pacing file; a problem is a :class:`DataError` naming the policy and rule."""
    document = read_document(path, PacingFile)
    unknown = document.unknown_source()
    if unknown is not None:
        field, source = unknown
        known = ", ".join(sorted(document.sources))
        raise DataError(str(path), field, f"cites unknown source '{source}'; known: {known}")
    return PacingPolicies(
        document.data_version,
        {name: resolve_entry(name, e, document.sources) for name, e in document.policies.items()},
    )


def load_pacing(knowledge: Knowledge | None = None) -> PacingPolicies:
    """The pacing policies (``pacing.toml``) of ``knowledge`` (default: shipped)."""
    return (knowledge or Knowledge.shipped()).load("pacing.toml", load_pacing_file)
