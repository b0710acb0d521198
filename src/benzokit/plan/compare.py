"""Strategies side by side for one patient: plans, a summary row each, and PD predictions.

The predictions use the PD model (typical subject: exact PK + occupancy + moderator tolerance) and a small
virtual population run by the trial engine for the 5-95 % band of the withdrawal index. The diazepam
switch changes drug mid-plan; its PD is not predicted (the PD model is one drug at a time) and says so.
"""

from __future__ import annotations

import itertools
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from benzokit.plan.model import Plan
from benzokit.plan.strategies import StrategyName
from benzokit.units import format_clock, parse_clock_h

BAND_SUBJECTS = 300
WASHOUT_DAYS = 28
_SEED = 20261122


@dataclass(frozen=True, slots=True)
class StrategyPrediction:
    """Daily series for one plan: dose, typical occupancy and withdrawal index, population band."""

    strategy: str
    daily_dose_mg: NDArray[np.float64]
    occupancy: NDArray[np.float64] | None
    withdrawal_index: NDArray[np.float64] | None
    withdrawal_band: NDArray[np.float64] | None  # (5 quantiles, days)


def plan_regimen_text(plan: Plan) -> str:
    """The plan as prescription text for the simulator (single-drug plans)."""
    phases = []
    for step in plan.steps:
        doses = " and ".join(
            f"{a.dose_mg:.6g} mg at {format_clock(parse_clock_h(a.time))}" for a in step.doses
        )
        phases.append(f"{doses} x {step.days} days")
    return ", then ".join(phases)


def summary_row(plan: Plan) -> dict[str, Any]:
    """Duration, steps, largest single cut and the count of findings by severity."""
    doses = [float(plan.parameters.get("start_daily_mg", 0.0))] + [
        s.daily_dose_mg(plan.drug) for s in plan.steps
    ]
    cuts = [(a - b) / a for a, b in itertools.pairwise(doses) if a > 0 and b < a]
    counts = {
        level: sum(1 for f in plan.findings if f.severity == level)
        for level in ("critical", "warning", "info")
    }
    return {
        "strategy": plan.strategy,
        "days": plan.total_days,
        "steps": len(plan.steps),
        "largest_cut_fraction": max(cuts, default=0.0),
        **counts,
    }


def daily_doses(plan: Plan, days: int) -> NDArray[np.float64]:
    """mg/day of the plan's drug; in a diazepam switch, diazepam counts at the plan's equivalence."""
    per_mg = float(plan.parameters.get("diazepam_mg_per_mg") or 0.0)
    series = np.zeros(days)
    for step in plan.steps:
        by_drug = step.daily_dose_by_drug()
        total = by_drug.get(plan.drug, 0.0) + (
            by_drug.get("diazepam", 0.0) / per_mg if per_mg else 0.0
        )
        series[step.start_day : min(step.end_day, days)] = total
    return series


def predict(
    plans: list[Plan], *, occupancy_set: str | None = None, subjects: int = BAND_SUBJECTS
) -> list[StrategyPrediction]:
    """PD predictions per plan on a shared day axis (plan length + a washout)."""
    from benzokit.drugs.loader import load_drug
    from benzokit.regimen.language import parse_regimen
    from benzokit.sim.grid import TimeGrid
    from benzokit.sim.pd import simulate_pd
    from benzokit.sim.simulate import simulate

    days = max(p.total_days for p in plans) + WASHOUT_DAYS
    single = [p for p in plans if p.strategy != StrategyName.DIAZEPAM_SWITCH]
    bands = _population_bands(single, days, occupancy_set, subjects) if single else {}
    out = []
    for plan in plans:
        dose = daily_doses(plan, days)
        if plan.strategy == StrategyName.DIAZEPAM_SWITCH:
            out.append(StrategyPrediction(plan.strategy, dose, None, None, None))
            continue
        drug = load_drug(plan.drug)
        pk = simulate(drug, parse_regimen(plan_regimen_text(plan)), grid=TimeGrid(days * 24.0, 1.0))
        pd = simulate_pd(pk, drug, occupancy_set=occupancy_set)
        per_day = slice(0, days * 24, 24)
        daily_w = pd.withdrawal_index[: days * 24].reshape(days, 24).max(axis=1)
        out.append(
            StrategyPrediction(
                plan.strategy, dose, pd.occupancy[per_day], daily_w, bands.get(plan.strategy)
            )
        )
    return out


def _population_bands(
    plans: list[Plan], days: int, occupancy_set: str | None, subjects: int
) -> dict[str, NDArray[np.float64]]:
    from benzokit.sim.trial import run_trial
    from benzokit.sim.trial.spec import parse_trial_spec
    from benzokit.sim.trial.summary import quantile_bands

    spec = parse_trial_spec(
        {
            "trial": {
                "name": "plan-comparison",
                "drug": plans[0].drug,
                "subjects": subjects,
                "seed": _SEED,
                "days": days,
            },
            "pd": {"occupancy_set": occupancy_set},
            "strategies": [{"name": p.strategy, "regimen": plan_regimen_text(p)} for p in plans],
            "outputs": {"plots": False, "band_subjects": subjects},
        },
        source="plan compare",
    )
    with tempfile.TemporaryDirectory() as folder:
        run_trial(spec, Path(folder) / "trial")
        bands = quantile_bands(Path(folder) / "trial", tuple(p.strategy for p in plans))
    return {name: series["daily_max_withdrawal_index"] for name, series in bands.items()}
