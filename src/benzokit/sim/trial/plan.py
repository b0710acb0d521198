"""From a spec to a picklable plan: schedules, PD constants, chunk boundaries, band sample."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from pydantic import ValidationError

from benzokit.drugs.loader import load_drug
from benzokit.drugs.models import Drug
from benzokit.errors import InputError
from benzokit.knowledge import Knowledge
from benzokit.pd.params import load_pd_parameters
from benzokit.pd.tolerance import ToleranceModelName
from benzokit.plan.api import ProductChoice, parse_from, plan_taper
from benzokit.plan.daily import administrations
from benzokit.plan.model import Administration, daily_phase
from benzokit.plan.strategies import Risk, StrategyName
from benzokit.regimen.language import parse_regimen
from benzokit.regimen.regimen import Regimen
from benzokit.sim.population.kernel import BLOCK
from benzokit.sim.population.pd_constants import population_pd
from benzokit.sim.population.schedule import hourly_schedule
from benzokit.sim.population.settings import PopulationSettings, build_settings
from benzokit.sim.population.structures import PacedTaper, PopulationPD
from benzokit.sim.trial.paced import (
    PacedStrategy,
    paced_strategy,
    planned_schedule,
    resolve_policy,
    taper_of_plan,
    taper_of_regimen,
)
from benzokit.sim.trial.spec import PDSection, Strategy, TrialSpec
from benzokit.units import HOURS_PER_DAY

_TARGET_CHUNKS = 64
_MIN_CHUNK = 4096
_MAX_CHUNK = 131_072


@dataclass(frozen=True, slots=True)
class TrialPlan:
    """Everything a worker needs to run one chunk; small and picklable."""

    fingerprint: str
    drug: str
    seed: int
    subjects: int
    hours: int
    settings: PopulationSettings
    strategies: tuple[str, ...]
    schedules: tuple[NDArray[np.float64], ...]  # as planned (a paced strategy's fixed calendar)
    paced: tuple[PacedStrategy | None, ...]  # per strategy: its pacing, or None (a fixed schedule)
    pd: PopulationPD
    chunk_size: int
    band_stride: int
    knowledge: Knowledge  # the drug and co-medication data the workers read (pickled as its folder)

    @property
    def days(self) -> int:
        return self.hours // HOURS_PER_DAY

    @property
    def any_paced(self) -> bool:
        """Whether any strategy is paced (the results then hold the pacing columns)."""
        return any(paced is not None for paced in self.paced)

    @property
    def n_chunks(self) -> int:
        return math.ceil(self.subjects / self.chunk_size)

    def chunk_bounds(self, index: int) -> tuple[int, int]:
        start = index * self.chunk_size
        return start, min(self.subjects, start + self.chunk_size)


def default_chunk_size(subjects: int) -> int:
    """About 64 chunks (so workers stay evenly loaded to the end), whole blocks, within sensible bounds."""
    size = min(max(math.ceil(subjects / _TARGET_CHUNKS), _MIN_CHUNK), _MAX_CHUNK)
    return math.ceil(size / BLOCK) * BLOCK


def _fingerprint(
    spec: TrialSpec, knowledge: Knowledge | None, paced: tuple[PacedStrategy | None, ...]
) -> str:
    """The spec's hash; with a clinic's knowledge overlay, its version too (results depend on it), and
    the pacing rules in use (a named policy's numbers come from the knowledge's ``pacing.toml``)."""
    content: dict[str, object] = spec.model_dump(mode="json")
    if knowledge is not None and knowledge.overlay is not None:
        content = {**content, "knowledge_version": knowledge.version}
    if any(p is not None for p in paced):
        content = {
            **content,
            "pacing": [None if p is None else [p.policy, *p.constants] for p in paced],
        }
    text = json.dumps(content, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def pd_constants(drug: Drug, pd: PDSection, knowledge: Knowledge | None = None) -> PopulationPD:
    """The kernel's PD constants for ``drug`` and a spec's ``[pd]`` section (see ``population_pd``)."""
    return population_pd(
        drug,
        load_pd_parameters(knowledge),
        occupancy_set=pd.occupancy_set,
        tolerance=ToleranceModelName(pd.tolerance_model),
        withdrawal_threshold=pd.withdrawal_threshold,
        knowledge=knowledge,
    )


@dataclass(frozen=True, slots=True)
class _Planned:
    """A strategy as planned: its regimen, and (paced) its steps."""

    regimen: Regimen
    taper: PacedTaper | None


def _planned_taper(drug: Drug, strategy: Strategy, field: str) -> _Planned:
    """The planner's taper, after ``run_in_days`` at the starting dose (its own phase / step 0)."""
    planned = strategy.plan
    assert planned is not None
    products = ProductChoice(liquid=planned.liquid)
    plan = plan_taper(
        drug.name,
        planned.from_dose,
        StrategyName(planned.strategy),
        risk=Risk(planned.risk) if planned.risk else None,
        products=products,
    )
    regimen = plan.to_regimen()
    doses: tuple[Administration, ...] = ()
    if planned.run_in_days:
        daily_mg, times = parse_from(planned.from_dose, None)
        doses = administrations(products.for_drug(drug), daily_mg, times)
        regimen = Regimen((daily_phase(doses, planned.run_in_days), *regimen.phases))
    paced = None
    if strategy.policy is not None:
        paced = taper_of_plan(plan, doses, planned.run_in_days, field)
    return _Planned(regimen, paced)


def _strategy_plan(drug: Drug, strategy: Strategy, field: str) -> _Planned:
    """The strategy's regimen (its prescription text as written, or the planner's taper) and steps."""
    if strategy.regimen is None:
        return _planned_taper(drug, strategy, field)
    regimen = parse_regimen(strategy.regimen)
    paced = taper_of_regimen(regimen, field) if strategy.policy is not None else None
    return _Planned(regimen, paced)


def plan_trial(spec: TrialSpec, knowledge: Knowledge | None = None) -> TrialPlan:
    """Validate the spec against the knowledge base (default: shipped) and lay out the run."""
    try:
        drug = load_drug(spec.trial.drug, knowledge)
    except InputError as exc:
        raise InputError("trial.drug", spec.trial.drug, exc.allowed) from exc
    hours = spec.trial.days * HOURS_PER_DAY
    schedules = []
    paced: list[PacedStrategy | None] = []
    for index, strategy in enumerate(spec.strategies):
        field = f"strategies.{index}.{'regimen' if strategy.regimen else 'plan'}"
        try:
            planned = _strategy_plan(drug, strategy, field)
        except InputError as exc:
            if exc.field == field:
                raise
            raise InputError(f"{field} ({exc.field})", exc.value, exc.allowed) from exc
        if planned.taper is None:
            schedules.append(hourly_schedule(planned.regimen, hours, field=field))
            paced.append(None)
            continue
        assert strategy.policy is not None
        policy = resolve_policy(strategy.policy, f"strategies.{index}.policy", knowledge)
        schedules.append(planned_schedule(planned.taper, hours))
        paced.append(paced_strategy(policy, planned.taper))
    try:
        settings = build_settings(drug, spec.population, knowledge)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(["population", *(str(part) for part in first["loc"])])
        value = first.get("input", "")
        shown = value if isinstance(value, str | int | float | bool) else "(the given entry)"
        raise InputError(field, shown, first["msg"].removeprefix("Value error, ")) from exc
    chunk_size = spec.trial.chunk_size or default_chunk_size(spec.trial.subjects)
    band = spec.outputs.band_subjects
    return TrialPlan(
        fingerprint=_fingerprint(spec, knowledge, tuple(paced)),
        drug=drug.name,
        seed=spec.trial.seed,
        subjects=spec.trial.subjects,
        hours=hours,
        settings=settings,
        strategies=tuple(s.name for s in spec.strategies),
        schedules=tuple(schedules),
        paced=tuple(paced),
        pd=pd_constants(drug, spec.pd, knowledge),
        chunk_size=chunk_size,
        band_stride=max(1, math.ceil(spec.trial.subjects / band)) if band else 0,
        knowledge=knowledge or Knowledge.shipped(),
    )
