"""From a spec to a picklable plan: schedules, PD constants, chunk boundaries, band sample."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from pydantic import ValidationError

from benzokit.drugs.loader import load_drug
from benzokit.drugs.models import Drug
from benzokit.errors import InputError
from benzokit.knowledge import Knowledge
from benzokit.pd.params import load_pd_parameters
from benzokit.pd.tolerance import ToleranceModelName
from benzokit.regimen.language import parse_regimen
from benzokit.sim.population.kernel import BLOCK
from benzokit.sim.population.pd_constants import population_pd
from benzokit.sim.population.schedule import hourly_schedule
from benzokit.sim.population.settings import PopulationSettings, build_settings
from benzokit.sim.population.structures import PopulationPD
from benzokit.sim.trial.spec import Strategy, TrialSpec
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


def _pd_constants(spec: TrialSpec, drug: Drug, knowledge: Knowledge | None) -> PopulationPD:
    """The kernel's PD constants for the spec's ``[pd]`` section (see ``population_pd``)."""
    return population_pd(
        drug,
        load_pd_parameters(knowledge),
        occupancy_set=spec.pd.occupancy_set,
        tolerance=ToleranceModelName(spec.pd.tolerance_model),
        withdrawal_threshold=spec.pd.withdrawal_threshold,
        knowledge=knowledge,
    )


def _planned_regimen(drug: str, strategy: Strategy) -> str:
    """The planner's taper as prescription text, after ``run_in_days`` at the starting dose."""
    from benzokit.drugs.loader import load_drug
    from benzokit.plan.api import ProductChoice, parse_from, plan_taper
    from benzokit.plan.compare import plan_regimen_text
    from benzokit.plan.daily import administrations
    from benzokit.plan.model import Step
    from benzokit.plan.strategies import Risk, StrategyName

    planned = strategy.plan
    assert planned is not None
    products = ProductChoice(liquid=planned.liquid)
    plan = plan_taper(
        drug,
        planned.from_dose,
        StrategyName(planned.strategy),
        risk=Risk(planned.risk) if planned.risk else None,
        products=products,
    )
    if planned.run_in_days == 0:
        return plan_regimen_text(plan)
    daily_mg, times = parse_from(planned.from_dose, None)
    doses = administrations(products.for_drug(load_drug(drug)), daily_mg, times)
    run_in = replace(plan, steps=(Step(0, planned.run_in_days, doses),))
    return f"{plan_regimen_text(run_in)}, then {plan_regimen_text(plan)}"


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
            regimen = parse_regimen(strategy.regimen or _planned_regimen(drug.name, strategy))
        except InputError as exc:
            raise InputError(f"{field} ({exc.field})", exc.value, exc.allowed) from exc
        schedules.append(hourly_schedule(regimen, hours, field=field))
    try:
        settings = build_settings(drug, spec.population)
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
        pd=_pd_constants(spec, drug, knowledge),
        chunk_size=chunk_size,
        band_stride=max(1, math.ceil(spec.trial.subjects / band)) if band else 0,
        knowledge=knowledge or Knowledge.shipped(),
    )
