"""Plan.to_regimen builds the regimen straight from the steps, the same doses as the prescription text."""

from __future__ import annotations

import numpy as np
import pytest

from benzokit.plan.api import plan_taper
from benzokit.plan.strategies import StrategyName
from benzokit.regimen.events import expand_events


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
                hour, minute = (int(part) for part in dose.time.split(":"))
                expected_time_h.append(day * 24.0 + hour + minute / 60.0)
                expected_mg.append(dose.dose_mg)
    order = np.argsort(expected_time_h, kind="stable")
    np.testing.assert_allclose(table.time_h, np.asarray(expected_time_h)[order])
    np.testing.assert_allclose(table.amount_mg, np.asarray(expected_mg)[order])
    assert sum(table.amount_mg) == pytest.approx(
        sum(s.daily_dose_mg() * s.days for s in plan.steps)
    )
