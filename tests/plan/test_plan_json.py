"""The plan's typed planner inputs and their JSON view (README, "Plan JSON": ``"parameters"``)."""

from __future__ import annotations

from datetime import date

import pytest

from benzokit.errors import InputError
from benzokit.monitor.course import slowed
from benzokit.plan.api import plan_taper, plan_titration
from benzokit.plan.model import Plan
from benzokit.plan.serialize import plan_from_dict
from benzokit.plan.strategies import StrategyName
from benzokit.units import ClockTime

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


def test_clock_times_are_values_shown_as_hh_mm_only_in_the_json() -> None:
    plan = _taper(StrategyName.GUIDELINE)
    first = plan.steps[0].doses[0]
    assert first.time == ClockTime.at(8) and first.time.hours == 8.0
    assert plan.to_dict()["steps"][0]["doses"][0]["time"] == "08:00"
    broken = plan.to_dict()
    broken["steps"][0]["doses"][0]["time"] = "24:00"
    with pytest.raises(InputError, match="24:00"):
        plan_from_dict(broken)


@pytest.mark.parametrize(("text", "minutes"), [("08:00", 480), ("8:30", 510), ("10pm", 1320)])
def test_a_clock_time_is_minutes_after_midnight(text: str, minutes: int) -> None:
    time = ClockTime.parse(text)
    assert time.minutes == minutes
    assert ClockTime.from_hours(time.hours) == time
    assert str(time) == f"{minutes // 60:02d}:{minutes % 60:02d}"


@pytest.mark.parametrize("minutes", [-1, 1440])
def test_a_clock_time_is_within_one_day(minutes: int) -> None:
    with pytest.raises(InputError, match="time of day"):
        ClockTime(minutes)
