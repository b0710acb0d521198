"""Strategies side by side for one patient: a summary row per plan, and PD predictions.

The predictions use the PD model (typical subject: exact PK + occupancy + moderator tolerance) and a small
virtual population, run in memory by the population engine, for the 5-95 % band of the withdrawal index.
The diazepam switch changes drug mid-plan; its PD is not predicted (the PD model is one drug at a time) and
says so.

An application of the decide layer (plans) and the engine (single-subject and population): it sits above
both, so neither imports it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from benzokit.drugs.loader import load_drug
from benzokit.drugs.models import Drug
from benzokit.knowledge import Knowledge
from benzokit.plan.model import Plan
from benzokit.plan.strategies import StrategyName
from benzokit.sim.grid import TimeGrid
from benzokit.sim.pd import simulate_pd
from benzokit.sim.population.schedule import hourly_schedule
from benzokit.sim.population.settings import build_settings
from benzokit.sim.population.structures import BandSeries
from benzokit.sim.simulate import simulate
from benzokit.sim.trial.chunk import run_chunk
from benzokit.sim.trial.plan import TrialPlan, default_chunk_size, pd_constants
from benzokit.sim.trial.spec import PDSection
from benzokit.sim.trial.summary import QUANTILES
from benzokit.types import FloatArray
from benzokit.units import HOURS_PER_DAY

BAND_SUBJECTS = 300
WASHOUT_DAYS = 28
BAND_SEED = 20261122


@dataclass(frozen=True, slots=True)
class StrategyPrediction:
    """Daily series for one plan: dose (mg/day), typical occupancy and withdrawal index, population band."""

    strategy: str
    daily_dose_mg: FloatArray
    occupancy: FloatArray | None
    withdrawal_index: FloatArray | None
    withdrawal_band: FloatArray | None  # (5 quantiles, days)


def summary_row(
    plan: Plan, prediction: StrategyPrediction | None = None, label: str | None = None
) -> dict[str, Any]:
    """One plan at a glance: duration (days), steps, the largest cut as a fraction of the dose before
    it (from the dose taken before day 0; a switch in equivalents), the last daily dose before the
    stop (mg/day of the drug taken then), the number of distinct products, the findings by severity,
    and, with ``prediction``, the peak daily withdrawal index of the typical patient and of the
    population's 95th percentile (None where not predicted)."""
    series = daily_doses(plan, plan.total_days)
    doses = [plan.first_daily_mg, *(float(d) for d in series)]
    cuts = [(a - b) / a for a, b in itertools.pairwise(doses) if a > 0 and 0 < b < a]
    counts = {
        level: sum(1 for f in plan.findings if f.severity == level)
        for level in ("critical", "warning", "info")
    }
    last = plan.steps[-1] if plan.steps else None
    return {
        "strategy": label or (prediction.strategy if prediction else plan.strategy),
        "days": plan.total_days,
        "steps": len(plan.steps),
        "largest_cut_fraction": max(cuts, default=0.0),
        "last_daily_mg": None if last is None else last.daily_dose_mg(),
        "last_drug": None if last is None else "+".join(last.daily_dose_by_drug()),
        "distinct_products": len(distinct_products(plan)),
        "peak_withdrawal_index": _peak(prediction.withdrawal_index if prediction else None),
        "peak_withdrawal_index_p95": _peak(
            prediction.withdrawal_band[QUANTILES.index(0.95)]
            if prediction is not None and prediction.withdrawal_band is not None
            else None
        ),
        **counts,
    }


def _peak(series: FloatArray | None) -> float | None:
    return None if series is None else float(np.max(series))


def distinct_products(plan: Plan) -> set[tuple[str, str, float]]:
    """(drug, form, strength mg or concentration mg/mL) of every product the plan uses."""
    return {
        (a.drug, str(p.form), p.strength_mg or p.concentration_mg_ml or 0.0)
        for step in plan.steps
        for a in step.doses
        for p in a.products
    }


def coinciding(predictions: list[StrategyPrediction]) -> list[list[int]]:
    """Groups of predictions (indices, in order) whose daily doses are the same plan."""
    groups: list[list[int]] = []
    for index, p in enumerate(predictions):
        for group in groups:
            first = predictions[group[0]].daily_dose_mg
            if first.shape == p.daily_dose_mg.shape and np.allclose(first, p.daily_dose_mg):
                group.append(index)
                break
        else:
            groups.append([index])
    return groups


def daily_doses(plan: Plan, days: int) -> FloatArray:
    """mg/day of the plan's drug; in a diazepam switch, diazepam counts at the plan's equivalence."""
    per_mg = plan.switch.diazepam_mg_per_mg if plan.switch is not None else 0.0
    series = np.zeros(days)
    for step in plan.steps:
        by_drug = step.daily_dose_by_drug()
        total = by_drug.get(plan.drug, 0.0) + (
            by_drug.get("diazepam", 0.0) / per_mg if per_mg else 0.0
        )
        series[step.start_day : min(step.end_day, days)] = total
    return series


def predict(
    plans: list[Plan],
    *,
    occupancy_set: str | None = None,
    subjects: int = BAND_SUBJECTS,
    knowledge: Knowledge | None = None,
    labels: list[str] | None = None,
) -> list[StrategyPrediction]:
    """PD predictions per plan on a shared day axis (the longest plan + a washout of 28 days), with the
    figures of ``knowledge`` (default: shipped). ``labels`` name the plans (default: their strategy;
    they must differ)."""
    knowledge = knowledge or Knowledge.shipped()
    names = labels or [p.strategy for p in plans]
    days = max(p.total_days for p in plans) + WASHOUT_DAYS
    single = [
        (name, p)
        for name, p in zip(names, plans, strict=True)
        if p.strategy != StrategyName.DIAZEPAM_SWITCH
    ]
    bands = population_bands(
        [p for _, p in single],
        days,
        occupancy_set=occupancy_set,
        subjects=subjects,
        knowledge=knowledge,
        labels=[name for name, _ in single],
    )
    out = []
    for name, plan in zip(names, plans, strict=True):
        dose = daily_doses(plan, days)
        if plan.strategy == StrategyName.DIAZEPAM_SWITCH:
            out.append(StrategyPrediction(name, dose, None, None, None))
            continue
        drug = load_drug(plan.drug, knowledge)
        occupancy, withdrawal = _typical_subject(plan, drug, days, occupancy_set, knowledge)
        out.append(StrategyPrediction(name, dose, occupancy, withdrawal, bands.get(name)))
    return out


def _typical_subject(
    plan: Plan, drug: Drug, days: int, occupancy_set: str | None, knowledge: Knowledge
) -> tuple[FloatArray, FloatArray]:
    """The typical subject's occupancy at the start of each day and daily maximum withdrawal index."""
    hours = days * HOURS_PER_DAY
    grid = TimeGrid(float(hours), 1.0)
    pk = simulate(drug, plan.to_regimen(), grid=grid, knowledge=knowledge)
    pd = simulate_pd(pk, drug, occupancy_set=occupancy_set, knowledge=knowledge)
    per_day = slice(0, hours, HOURS_PER_DAY)
    daily_max = pd.withdrawal_index[:hours].reshape(days, HOURS_PER_DAY).max(axis=1)
    return pd.occupancy[per_day], daily_max


def population_bands(
    plans: list[Plan],
    days: int,
    *,
    occupancy_set: str | None = None,
    subjects: int = BAND_SUBJECTS,
    seed: int = BAND_SEED,
    knowledge: Knowledge | None = None,
    labels: list[str] | None = None,
) -> dict[str, FloatArray]:
    """strategy -> (5 quantiles × days) of the daily maximum withdrawal index of ``subjects`` subjects.

    Every subject is in the band sample; the chunks run one after another in this process (the serial
    dispatcher's computation), nothing is written. Single-drug plans of one drug; the quantiles are
    :data:`benzokit.sim.trial.summary.QUANTILES`. No plans, no bands.
    """
    if not plans:
        return {}
    trial = _population_trial(
        plans, days, occupancy_set, subjects, seed, knowledge=knowledge, labels=labels
    )
    column = BandSeries.DAILY_MAX_WITHDRAWAL_INDEX
    chunks = [run_chunk(trial, index) for index in range(trial.n_chunks)]
    return {
        name: np.quantile(
            np.concatenate([chunk.band[name][:, :, column] for chunk in chunks]), QUANTILES, axis=0
        )
        for name in trial.strategies
    }


def _population_trial(
    plans: list[Plan],
    days: int,
    occupancy_set: str | None,
    subjects: int,
    seed: int,
    *,
    knowledge: Knowledge | None,
    labels: list[str] | None = None,
) -> TrialPlan:
    """The population run of ``plans``: default population of the drug, every subject in the band."""
    knowledge = knowledge or Knowledge.shipped()
    drug = load_drug(plans[0].drug, knowledge)
    hours = days * HOURS_PER_DAY
    return TrialPlan(
        fingerprint="plan-comparison",
        drug=drug.name,
        seed=seed,
        subjects=subjects,
        hours=hours,
        settings=build_settings(drug, knowledge=knowledge),
        strategies=tuple(labels or [p.strategy for p in plans]),
        schedules=tuple(
            hourly_schedule(p.to_regimen(), hours, field=f"{p.strategy} plan") for p in plans
        ),
        paced=(None,) * len(plans),  # each plan on its calendar
        pd=pd_constants(drug, PDSection(occupancy_set=occupancy_set), knowledge),
        chunk_size=default_chunk_size(subjects),
        band_stride=1,
        knowledge=knowledge,
    )


__all__ = [
    "BAND_SUBJECTS",
    "StrategyPrediction",
    "coinciding",
    "daily_doses",
    "distinct_products",
    "population_bands",
    "predict",
    "summary_row",
]
