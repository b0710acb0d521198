"""The plan-change check: a new plan judged with the doses of the days before it (the guideline pace)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benzokit.monitor.change_check import change_pace_findings
from benzokit.monitor.course import ChangeKind, Course, PlanVersion
from benzokit.plan.api import plan_taper
from benzokit.plan.model import Plan
from benzokit.plan.strategies import StrategyName
from benzokit.safety.pace import guideline_pace

START = date(2027, 1, 4)
AT = datetime(2027, 1, 1, tzinfo=UTC)
PACE = guideline_pace()
CHANGE = "BZK-CHANGE-PACE"


def _custom(from_mg: float, steps: str, start: date | None = None) -> Plan:
    return plan_taper(
        "clonazepam", f"{from_mg} mg/day", StrategyName.CUSTOM, custom_steps=steps, start_date=start
    )


def _course(steps: str, from_mg: float = 2.0) -> Course:
    return Course((PlanVersion(1, _custom(from_mg, steps, START), AT, "Dr A", ChangeKind.INITIAL),))


def test_a_first_cut_faster_than_the_pace_is_a_warning_with_its_numbers() -> None:
    course = _course("2 mg/day x 28 days")
    today = START + timedelta(days=10)
    (finding,) = change_pace_findings(course, _custom(2.0, "1.375 mg/day x 14 days"), today)
    assert finding.code == CHANGE and finding.severity.value == "warning"
    assert (finding.day, finding.from_mg, finding.to_mg) == (0, 2.0, 1.375)
    assert finding.fraction == pytest.approx(0.3125)
    # the fall is from yesterday's dose (the last day at 2 mg/day), not from the replaced plan's today
    yesterday = (today - timedelta(days=1)).isoformat()
    assert f"on {yesterday} to 1.375 mg/day on {today.isoformat()}" in finding.message
    assert str(PACE) in finding.message


def test_a_gentle_first_cut_is_not_flagged() -> None:
    course = _course("2 mg/day x 28 days")
    plan = _custom(2.0, "1.75 mg/day x 14 days")
    assert change_pace_findings(course, plan, START + timedelta(days=10)) == []


def test_a_dose_14_days_before_the_change_counts_but_15_days_before_does_not() -> None:
    """As in the schedule check, two days at most ``window_days`` apart are in one window."""
    course = _course("2 mg/day x 14 days, 1.5 mg/day x 28 days")  # 2 mg/day last on START + 13
    plan = _custom(1.5, "1.375 mg/day x 14 days")  # 31 % below 2 mg/day, 8 % below 1.5 mg/day
    (finding,) = change_pace_findings(course, plan, START + timedelta(days=27))
    assert (finding.day, finding.from_mg) == (0, 2.0)
    assert f"on {(START + timedelta(days=13)).isoformat()}" in finding.message
    assert change_pace_findings(course, plan, START + timedelta(days=28)) == []


def test_a_diazepam_switch_is_judged_on_diazepam_not_here() -> None:
    course = _course("2 mg/day x 28 days")
    switch = plan_taper("clonazepam", "2 mg/day", StrategyName.DIAZEPAM_SWITCH)
    assert change_pace_findings(course, switch, START + timedelta(days=10)) == []


DOSES = [2.0, 1.75, 1.5, 1.375, 1.25, 1.0]


@settings(max_examples=30, deadline=None)
@given(
    old=st.lists(st.tuples(st.integers(1, 10), st.sampled_from(DOSES)), min_size=1, max_size=4),
    new=st.lists(st.tuples(st.integers(1, 10), st.sampled_from(DOSES)), min_size=1, max_size=3),
    today_day=st.integers(0, 30),
)
def test_the_change_is_flagged_exactly_when_a_fall_across_it_breaks_the_pace(
    old: list[tuple[int, float]], new: list[tuple[int, float]], today_day: int
) -> None:
    """Oracle: every (day before today, day from today) pair at most 14 days apart, day by day."""
    old = sorted(old, key=lambda part: -part[1])  # plans only fall
    new = sorted(new, key=lambda part: -part[1])
    course = _course(", ".join(f"{mg} mg/day x {days} days" for days, mg in old), old[0][1])
    plan = _custom(new[0][1], ", ".join(f"{mg} mg/day x {days} days" for days, mg in new))
    today = START + timedelta(days=today_day)
    window = PACE.window_days
    before = {-k: course.daily_dose_mg(today - timedelta(days=k)) for k in range(1, window + 1)}
    before = {
        k: (mg if today + timedelta(days=k) >= START else old[0][1]) for k, mg in before.items()
    }
    after = {
        day: step.daily_dose_mg()
        for step in plan.steps
        for day in range(step.start_day, step.end_day)
        if day < window
    }
    falls = [
        1 - after[j] / before[i]
        for i in before
        for j in after
        if j - i <= window and before[i] > after[j] > 0
    ]
    expected = bool(falls) and max(falls) > PACE.fraction + 1e-9
    found = change_pace_findings(course, plan, today)
    assert bool(found) == expected
    if found:
        assert found[0].fraction == pytest.approx(max(falls))
