"""Paced strategies: a trial strategy's pacing policy resolved, and its taper as steps for the paced kernel.

A :class:`PacedTaper` is built from the planner's objects directly (its :class:`~benzokit.plan.model.Plan`
steps, or a written regimen's phases), never through prescription text: each step is one daily pattern
of doses (mg due at each hour of the day) and its planned days. Step 0 is the run-in at the starting dose
(when there is one); the last step is 0 mg, the taper complete. Consecutive steps of the same daily
pattern are one step (a planned hold lengthens the step it repeats).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from benzokit.errors import InputError
from benzokit.knowledge import Knowledge
from benzokit.plan.model import Administration, Plan
from benzokit.plan.pacing import (
    PacingFile,
    PacingPolicy,
    PolicyEntry,
    load_pacing,
    resolve_entry,
)
from benzokit.regimen.events import Route
from benzokit.regimen.regimen import Phase, Regimen
from benzokit.sim.population.paced import pacing_constants
from benzokit.sim.population.structures import PacedTaper, PacingConstants
from benzokit.types import FloatArray
from benzokit.units import HOURS_PER_DAY

_ON_THE_HOUR_TOLERANCE_H = 1e-6

DayPattern = tuple[float, ...]
"""mg due at each of the 24 hours of a day."""


@dataclass(frozen=True, slots=True)
class PacedStrategy:
    """What the paced kernel needs for one strategy: the policy (by name) and its constants, the taper."""

    policy: str
    constants: PacingConstants
    taper: PacedTaper
    title: str = ""
    citation: str = ""  # the policy's source, as pacing.toml cites it


def resolve_policy(
    policy: str | PolicyEntry, field: str, knowledge: Knowledge | None
) -> PacingPolicy:
    """The policy a strategy names (from the knowledge's ``pacing.toml``) or writes inline.

    An unknown name lists the known ones; an inline policy's rules must cite sources of ``pacing.toml``.
    """
    knowledge = knowledge or Knowledge.shipped()
    if isinstance(policy, str):
        return load_pacing(knowledge).get(policy, field=field)
    sources = knowledge.document("pacing.toml", PacingFile).sources
    for where, source in policy.cited_sources():
        if source not in sources:
            raise InputError(
                f"{field}.{where}", source, f"a source of pacing.toml: {', '.join(sorted(sources))}"
            )
    return resolve_entry("inline", policy, sources)


def paced_strategy(policy: PacingPolicy, taper: PacedTaper) -> PacedStrategy:
    """A resolved policy and its taper, as the kernel reads them."""
    return PacedStrategy(
        policy.name, pacing_constants(policy), taper, policy.title, policy.citation
    )


def _pattern(doses: list[tuple[float, float]], field: str, written: str) -> DayPattern:
    """(hour of day, mg) doses as mg due at each whole hour of the day."""
    pattern = [0.0] * HOURS_PER_DAY
    for hour_of_day, mg in doses:
        hour = round(hour_of_day)
        if abs(hour_of_day - hour) > _ON_THE_HOUR_TOLERANCE_H or not 0 <= hour < HOURS_PER_DAY:
            raise InputError(
                field,
                written,
                f"dose times on whole hours of the day (one is at {hour_of_day:g} h)",
            )
        pattern[hour] += mg
    return tuple(pattern)


def _administered(doses: tuple[Administration, ...], field: str) -> DayPattern:
    return _pattern([(a.time.hours, a.dose_mg) for a in doses], field, "(planned step)")


def _taper(runs: list[tuple[DayPattern, int]]) -> PacedTaper:
    """Steps from consecutive (pattern, days) runs: equal neighbours merged, a 0 mg step last."""
    zero: DayPattern = (0.0,) * HOURS_PER_DAY
    steps: list[tuple[DayPattern, int]] = []
    for pattern, days in [*runs, (zero, 0)]:
        if steps and steps[-1][0] == pattern:
            steps[-1] = (pattern, steps[-1][1] + days)
        else:
            steps.append((pattern, days))
    return PacedTaper(
        step_pattern_mg=np.array([pattern for pattern, _ in steps], dtype=np.float64),
        step_days=np.array([days for _, days in steps], dtype=np.int64),
    )


def taper_of_plan(
    plan: Plan, run_in: tuple[Administration, ...], run_in_days: int, field: str
) -> PacedTaper:
    """The planner's taper as steps, after ``run_in_days`` of ``run_in`` (a day's administrations)."""
    runs = [(_administered(run_in, field), run_in_days)] if run_in_days else []
    runs += [(_administered(step.doses_of(plan.drug), field), step.days) for step in plan.steps]
    return _taper(runs)


def _phase_days(phase: Phase, field: str) -> int:
    written = phase.text or phase.describe()
    if phase.route is not Route.ORAL:
        raise InputError(field, written, "oral doses only in population trials")
    if phase.duration_h is None:
        raise InputError(
            field,
            written,
            "every phase of a paced taper with a duration (e.g. 'x 14 days'), so that the taper ends",
        )
    days = phase.duration_h / HOURS_PER_DAY
    if days != math.floor(days):
        raise InputError(field, written, "a paced taper's phases in whole days")
    return int(days)


def _phase_pattern(phase: Phase, field: str) -> DayPattern:
    """A phase's doses over one day; its dosing interval must divide the day."""
    written = phase.text or phase.describe()
    period = phase.period_h
    per_day = HOURS_PER_DAY / period if period else 0.0
    if not per_day or per_day != math.floor(per_day):
        raise InputError(
            field, written, "a paced taper's phases as daily patterns (an interval dividing 24 h)"
        )
    assert period is not None
    doses = [
        (slot.offset_h + k * period, slot.dose.to_mg(None, field=field))
        for slot in phase.slots
        for k in range(int(per_day))
    ]
    return _pattern(doses, field, written)


def taper_of_regimen(regimen: Regimen, field: str) -> PacedTaper:
    """A written regimen as steps: each phase a daily pattern of whole hours for whole days."""
    if regimen.steady_state:
        raise InputError(
            field, regimen.text, "a regimen starting drug-naive (no steady-state start)"
        )
    return _taper(
        [(_phase_pattern(phase, field), _phase_days(phase, field)) for phase in regimen.phases]
    )


def planned_schedule(taper: PacedTaper, hours: int) -> FloatArray:
    """The taper's hourly doses if every step is taken on its planned day (the fixed calendar)."""
    days = hours // HOURS_PER_DAY
    per_day = np.repeat(taper.step_pattern_mg[:-1], taper.step_days[:-1], axis=0)[:days]
    schedule = np.zeros((days, HOURS_PER_DAY))
    schedule[: per_day.shape[0]] = per_day
    return schedule.reshape(-1)


__all__ = [
    "PacedStrategy",
    "paced_strategy",
    "planned_schedule",
    "resolve_policy",
    "taper_of_plan",
    "taper_of_regimen",
]
