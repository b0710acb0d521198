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
from benzokit.plan.model import daily_phase
from benzokit.plan.strategies import Risk, StrategyName
from benzokit.regimen.language import parse_regimen
from benzokit.regimen.regimen import Regimen
from benzokit.sim.population.kernel import BLOCK
from benzokit.sim.population.pd_constants import population_pd
from benzokit.sim.population.schedule import hourly_schedule
from benzokit.sim.population.settings import PopulationSettings, build_settings
from benzokit.sim.population.structures import PopulationPD
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
    schedules: tuple[NDArray[np.float64], ...]
    pd: PopulationPD
    chunk_size: int
    band_stride: int
    knowledge: Knowledge  # the drug and co-medication data the workers read (pickled as its folder)

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


def _fingerprint(spec: TrialSpec, knowledge: Knowledge | None) -> str:
    """The spec's hash; with a clinic's knowledge overlay, its version too (results depend on it)."""
    content: dict[str, object] = spec.model_dump(mode="json")
    if knowledge is not None and knowledge.overlay is not None:
        content = {**content, "knowledge_version": knowledge.version}
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


def _planned_regimen(drug: Drug, strategy: Strategy) -> Regimen:
    """The planner's taper as a regimen, after ``run_in_days`` at the starting dose (its own phase)."""
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
    if planned.run_in_days == 0:
        return regimen
    daily_mg, times = parse_from(planned.from_dose, None)
    doses = administrations(products.for_drug(drug), daily_mg, times)
    return Regimen((daily_phase(doses, planned.run_in_days), *regimen.phases))


def _strategy_regimen(drug: Drug, strategy: Strategy) -> Regimen:
    """The strategy's regimen: its prescription text as written, or the planner's taper."""
    if strategy.regimen is not None:
        return parse_regimen(strategy.regimen)
    return _planned_regimen(drug, strategy)


def plan_trial(spec: TrialSpec, knowledge: Knowledge | None = None) -> TrialPlan:
    """Validate the spec against the knowledge base (default: shipped) and lay out the run."""
    try:
        drug = load_drug(spec.trial.drug, knowledge)
    except InputError as exc:
        raise InputError("trial.drug", spec.trial.drug, exc.allowed) from exc
    hours = spec.trial.days * HOURS_PER_DAY
    schedules = []
    for index, strategy in enumerate(spec.strategies):
        field = f"strategies.{index}.{'regimen' if strategy.regimen else 'plan'}"
        try:
            regimen = _strategy_regimen(drug, strategy)
        except InputError as exc:
            raise InputError(f"{field} ({exc.field})", exc.value, exc.allowed) from exc
        schedules.append(hourly_schedule(regimen, hours, field=field))
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
        fingerprint=_fingerprint(spec, knowledge),
        drug=drug.name,
        seed=spec.trial.seed,
        subjects=spec.trial.subjects,
        hours=hours,
        settings=settings,
        strategies=tuple(s.name for s in spec.strategies),
        schedules=tuple(schedules),
        pd=pd_constants(drug, spec.pd, knowledge),
        chunk_size=chunk_size,
        band_stride=max(1, math.ceil(spec.trial.subjects / band)) if band else 0,
        knowledge=knowledge or Knowledge.shipped(),
    )
