"""Plan.to_regimen builds the regimen straight from the steps, the same doses as the prescription text."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from benzokit.errors import InputError
from benzokit.plan.api import plan_taper
from benzokit.plan.model import Step
from benzokit.plan.strategies import StrategyName
from benzokit.regimen.events import expand_events
from benzokit.regimen.regimen import Regimen
from benzokit.sim.trial.plan import plan_trial
from benzokit.sim.trial.spec import parse_trial_spec


@pytest.mark.parametrize("strategy", [StrategyName.GUIDELINE, StrategyName.HYPERBOLIC])
def test_the_regimen_gives_every_planned_dose_at_its_time(strategy: StrategyName) -> None:
    plan = plan_taper("clonazepam", "1 mg bid", strategy)
    horizon_h = plan.total_days * 24.0
    table = expand_events(plan.to_regimen().to_events(horizon_h))
    expected_time_h = []
    expected_mg = []
    for step in plan.steps:
        for day in range(step.start_day, step.end_day):
            for dose in step.doses:
                expected_time_h.append(day * 24.0 + dose.time.minutes / 60.0)
                expected_mg.append(dose.dose_mg)
    order = np.argsort(expected_time_h, kind="stable")
    np.testing.assert_allclose(table.time_h, np.asarray(expected_time_h)[order])
    np.testing.assert_allclose(table.amount_mg, np.asarray(expected_mg)[order])
    assert sum(table.amount_mg) == pytest.approx(
        sum(s.daily_dose_mg() * s.days for s in plan.steps)
    )


def _mg_by_day(plan_regimen: Regimen, days: int) -> list[float]:
    table = expand_events(plan_regimen.to_events(days * 24.0))
    totals = [0.0] * days
    for time_h, amount in zip(table.time_h, table.amount_mg, strict=True):
        totals[int(time_h // 24)] += float(amount)
    return totals


def test_a_switch_gives_each_drug_its_own_regimen() -> None:
    plan = plan_taper("clonazepam", "1 mg bid", StrategyName.DIAZEPAM_SWITCH)
    for drug in ("clonazepam", "diazepam"):
        expected = [s.daily_dose_mg(drug) for s in plan.steps for _ in range(s.days)]
        got = _mg_by_day(plan.to_regimen(drug), plan.total_days)
        np.testing.assert_allclose(got, expected)
    # the original drug's regimen ends with its last dose day (the diazepam taper is not a phase)
    last_original = max(s.end_day for s in plan.steps if s.daily_dose_mg("clonazepam") > 0)
    assert plan.to_regimen().defined_duration_h == last_original * 24.0


def test_days_without_the_drug_mid_plan_are_a_phase_without_doses() -> None:
    taper = plan_taper("clonazepam", "1 mg bid", StrategyName.GUIDELINE)
    first = taper.steps[0]
    plan = replace(
        taper,
        steps=(
            first,
            Step(first.end_day, first.end_day + 3, ()),
            replace(first, start_day=first.end_day + 3, end_day=first.end_day + 3 + first.days),
        ),
    )
    regimen = plan.to_regimen()
    assert [len(p.slots) for p in regimen.phases] == [len(first.doses), 0, len(first.doses)]
    daily = _mg_by_day(regimen, plan.total_days)
    assert daily[first.end_day : first.end_day + 3] == [0.0, 0.0, 0.0]
    assert sum(daily) == pytest.approx(2 * first.daily_dose_mg() * first.days)


def test_a_plan_without_the_drug_has_no_regimen() -> None:
    plan = plan_taper("clonazepam", "1 mg bid", StrategyName.GUIDELINE)
    with pytest.raises(InputError, match="at least one dose of diazepam"):
        plan.to_regimen("diazepam")


@pytest.mark.parametrize("run_in_days", [0, 28])
def test_a_planned_trial_arm_is_the_run_in_then_the_plan(run_in_days: int) -> None:
    plan = plan_taper("clonazepam", "1 mg bid", StrategyName.GUIDELINE)
    planned = {"strategy": "guideline", "from": "1 mg bid", "run_in_days": run_in_days}
    days = run_in_days + plan.total_days + 7
    trial = {"name": "t", "drug": "clonazepam", "subjects": 10, "seed": 1, "days": days}
    spec = parse_trial_spec(
        {"trial": trial, "strategies": [{"name": "planned", "plan": planned}]}, source="test"
    )
    schedule = plan_trial(spec).schedules[0]
    expected = [1.0] * (2 * run_in_days) + [
        a.dose_mg for s in plan.steps for _ in range(s.days) for a in s.doses
    ]
    np.testing.assert_allclose(schedule[schedule > 0], expected)
    assert schedule[: run_in_days * 24].sum() == pytest.approx(2.0 * run_in_days)
    assert schedule.sum() == pytest.approx(
        2.0 * run_in_days + sum(s.daily_dose_mg() * s.days for s in plan.steps)
    )
