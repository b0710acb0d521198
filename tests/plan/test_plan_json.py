"""The plan's typed planner inputs and their JSON view (README, "Plan JSON": ``"parameters"``)."""

from __future__ import annotations

from datetime import date

import pytest

from benzokit.monitor.course import slowed
from benzokit.plan.api import plan_taper, plan_titration
from benzokit.plan.model import Plan
from benzokit.plan.serialize import plan_from_dict
from benzokit.plan.strategies import StrategyName

START = date(2027, 1, 4)
TAPER_KEYS = {
    "start_daily_mg",
    "target_daily_mg",
    "times",
    "interval_days",
    "risk",
    "products_market",
    "liquid",
}
SWITCH_KEYS = {
    "diazepam_mg_per_mg",
    "equivalence_source",
    "equivalence_range_diazepam_mg_per_mg",
    "cross_over_stages",
    "stage_days",
}


def _taper(strategy: StrategyName) -> Plan:
    steps = "1.5 mg/day x 14 days, hold x 7 days, 1 mg/day x 14 days"
    return plan_taper("clonazepam", "1 mg bid", strategy, start_date=START, custom_steps=steps)


@pytest.mark.parametrize("strategy", list(StrategyName))
def test_every_taper_round_trips_through_its_json(strategy: StrategyName) -> None:
    plan = _taper(strategy)
    assert plan_from_dict(plan.to_dict()) == plan


def test_titrations_and_slowed_plans_round_trip() -> None:
    titration = plan_titration("clonazepam", "panic", start_date=START)
    assert titration.titration is not None and titration.titration.indication == "panic"
    assert plan_from_dict(titration.to_dict()) == titration
    slow = slowed(_taper(StrategyName.GUIDELINE), 2.0)
    assert slow.slowed_by == 2.0
    assert plan_from_dict(slow.to_dict()) == slow


@pytest.mark.parametrize(
    ("strategy", "keys"),
    [
        (StrategyName.GUIDELINE, TAPER_KEYS),
        (StrategyName.LABEL, TAPER_KEYS),
        (StrategyName.DIAZEPAM_SWITCH, TAPER_KEYS | SWITCH_KEYS),
        (StrategyName.CUSTOM, {"start_daily_mg", "steps", "times"}),
    ],
)
def test_the_json_parameters_keep_their_shape(strategy: StrategyName, keys: set[str]) -> None:
    plan = _taper(strategy)
    view = plan.to_dict()["parameters"]
    assert set(view) == keys
    assert view["start_daily_mg"] == pytest.approx(2.0) == plan.start_daily_mg
    assert view["times"] == ["08:00", "20:00"]


def test_a_switch_records_its_equivalence_as_typed_terms() -> None:
    plan = _taper(StrategyName.DIAZEPAM_SWITCH)
    assert plan.switch is not None
    low, high = plan.switch.equivalence_range_diazepam_mg_per_mg
    assert low <= plan.switch.diazepam_mg_per_mg <= high
    assert plan.switch.cross_over_stages * plan.switch.stage_days <= plan.total_days
    assert plan.start_daily_mg == pytest.approx(2.0)  # the original drug's dose, not diazepam's
