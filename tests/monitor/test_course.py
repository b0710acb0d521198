"""The course: plan versions and pauses, what to take on a day, and the pure plan changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benzokit.errors import InputError
from benzokit.monitor.course import (
    MAX_SLOWED_PLAN_DAYS,
    ChangeKind,
    Course,
    CourseStatus,
    Pause,
    PlanVersion,
    current_dose,
    pause,
    remaining_plan,
    resume,
    slowed,
)
from benzokit.plan.api import plan_taper
from benzokit.plan.model import Plan
from benzokit.plan.serialize import plan_from_dict
from benzokit.plan.strategies import StrategyName

START = date(2027, 1, 4)
AT = datetime(2027, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return plan_taper("clonazepam", "1 mg bid", StrategyName.GUIDELINE, start_date=START)


def course_of(plan: Plan) -> Course:
    return Course((PlanVersion(1, plan, AT, "Dr A", ChangeKind.INITIAL),))


def test_days_follow_the_plan_before_and_after(plan: Plan) -> None:
    course = course_of(plan)
    assert course.status_on(START - timedelta(days=1)) is CourseStatus.NOT_STARTED
    assert course.step_on(START - timedelta(days=1)) is None
    for step in plan.steps:
        day = START + timedelta(days=step.start_day)
        assert course.step_on(day) == step
        assert course.daily_dose_mg(day) == pytest.approx(step.daily_dose_mg())
    end = START + timedelta(days=plan.total_days)
    assert course.status_on(end) is CourseStatus.COMPLETED
    assert course.doses_on(end) == ()


def test_a_pause_holds_the_dose_and_shifts_every_later_step(plan: Plan) -> None:
    second = plan.steps[1]
    cut_day = START + timedelta(days=second.start_day)
    paused_on = cut_day - timedelta(days=2)
    course = pause(course_of(plan), paused_on, reason="symptoms", by="Dr A")
    assert course.paused
    held = course.daily_dose_mg(paused_on)
    for later in range(10):
        assert course.daily_dose_mg(paused_on + timedelta(days=later)) == held
        assert course.status_on(paused_on + timedelta(days=later)) is CourseStatus.PAUSED
    resumed_on = paused_on + timedelta(days=10)
    course = resume(course, resumed_on, by="Dr A")
    assert not course.paused
    # the cut that was 2 days away when paused comes 2 days after resuming
    assert course.daily_dose_mg(resumed_on + timedelta(days=1)) == held
    assert course.daily_dose_mg(resumed_on + timedelta(days=2)) == pytest.approx(
        second.daily_dose_mg()
    )
    assert course.plan_day(resumed_on + timedelta(days=2)) == second.start_day


def test_pause_and_resume_refuse_the_wrong_order(plan: Plan) -> None:
    course = course_of(plan)
    with pytest.raises(InputError, match="not paused"):
        resume(course, START, by="x")
    paused = pause(course, START, reason="r", by="x")
    with pytest.raises(InputError, match="already paused"):
        pause(paused, START, reason="r", by="x")
    with pytest.raises(InputError, match="on or after"):
        resume(paused, START - timedelta(days=1), by="x")


@given(
    factor=st.floats(min_value=1.05, max_value=4.0), offset=st.integers(min_value=0, max_value=150)
)
def test_slowing_keeps_every_dose_and_never_shortens_a_step(factor: float, offset: int) -> None:
    plan = _PLAN
    course = course_of(plan)
    day = START + timedelta(days=min(offset, plan.total_days - 1))
    rest = remaining_plan(course, day)
    slow = slowed(rest, factor)
    assert [s.daily_dose_mg() for s in slow.steps] == [s.daily_dose_mg() for s in rest.steps]
    assert all(b.days > a.days for a, b in zip(rest.steps, slow.steps, strict=True))
    assert slow.steps[0].start_day == 0
    assert all(a.end_day == b.start_day for a, b in zip(slow.steps, slow.steps[1:], strict=False))
    # the remaining plan starts with today's dose
    assert rest.steps[0].daily_dose_mg() == pytest.approx(course.daily_dose_mg(day))


_PLAN = plan_taper("clonazepam", "1 mg bid", StrategyName.GUIDELINE, start_date=START)


def test_slowing_factor_out_of_range_names_the_field(plan: Plan) -> None:
    with pytest.raises(InputError, match="factor"):
        slowed(plan, 1.0)
    with pytest.raises(InputError, match="factor"):
        slowed(plan, 5.0)


def test_slowing_again_and_again_stops_before_the_calendar_overflows(plan: Plan) -> None:
    """Four slows of 4x took a plan past year 9999 (the FHIR export then failed): refused instead,
    naming the factor and how long the plan would have lasted."""
    for _ in range(20):
        try:
            plan = slowed(plan, 4.0)
        except InputError as error:
            assert error.field == "factor"
            assert str(MAX_SLOWED_PLAN_DAYS) in error.allowed
            break
    else:
        pytest.fail("slowing never refused")
    assert plan.steps[-1].end_day <= MAX_SLOWED_PLAN_DAYS
    start = START + timedelta(days=plan.steps[-1].end_day)  # still a calendar date
    assert start.year < 9999


def test_new_versions_take_over_from_their_start(plan: Plan) -> None:
    course = course_of(plan)
    day = START + timedelta(days=30)
    slow = slowed(remaining_plan(course, day), 2.0)
    changed = course.with_version(PlanVersion(2, slow, AT, "Dr A", ChangeKind.SLOWED, "symptoms"))
    assert changed.version_on(day - timedelta(days=1)).number == 1
    assert changed.version_on(day).number == 2
    assert changed.versions[0].plan == plan  # the old version is kept unchanged
    assert changed.daily_dose_mg(day) == pytest.approx(course.daily_dose_mg(day))
    with pytest.raises(InputError, match="version"):
        course.with_version(PlanVersion(3, slow, AT, "Dr A", ChangeKind.SLOWED))


def test_last_cut_is_found_within_the_lookback(plan: Plan) -> None:
    course = course_of(plan)
    cut = START + timedelta(days=plan.steps[1].start_day)
    assert course.last_cut_before(cut + timedelta(days=3), lookback_days=28) == cut
    assert course.last_cut_before(cut - timedelta(days=1), lookback_days=5) is None


def test_the_current_dose_reproduces_the_step(plan: Plan) -> None:
    step = plan.steps[1]
    dose = current_dose(step, plan.drug)
    assert dose.daily_mg == pytest.approx(step.daily_dose_mg())
    assert dose.times == tuple(sorted(a.time for a in step.doses))
    again = plan_taper(plan.drug, dose, StrategyName.GUIDELINE)
    written = plan_taper(plan.drug, f"{step.daily_dose_mg():g} mg/day", StrategyName.GUIDELINE)
    assert again.steps == written.steps


def test_a_step_without_the_drug_has_no_current_dose() -> None:
    switch = plan_taper("clonazepam", "1 mg bid", StrategyName.DIAZEPAM_SWITCH)
    with pytest.raises(InputError, match="a current dose of clonazepam"):
        current_dose(switch.steps[-1], "clonazepam")


@pytest.mark.parametrize("strategy", list(StrategyName)[:4])
def test_plans_round_trip_through_their_json(strategy: StrategyName) -> None:
    plan = plan_taper("clonazepam", "2 mg/day", strategy, start_date=START)
    assert plan_from_dict(plan.to_dict()) == plan


def test_a_malformed_plan_view_is_an_input_error(plan: Plan) -> None:
    broken = plan.to_dict()
    del broken["steps"][0]["doses"]
    with pytest.raises(InputError, match="plan"):
        plan_from_dict(broken)


def test_the_dose_change_of_a_day_counts_the_plans_first_cut() -> None:
    start = date(2027, 1, 4)
    plan = plan_taper("clonazepam", "1 mg bid", StrategyName.GUIDELINE, start_date=start)
    course = Course(
        (PlanVersion(1, plan, datetime(2027, 1, 1, tzinfo=UTC), "Dr", ChangeKind.INITIAL),)
    )
    change = course.dose_change_on(start)
    assert change is not None and change.is_cut
    assert (change.from_mg, change.to_mg) == (2.0, plan.steps[0].daily_dose_mg())
    assert course.dose_change_on(start + timedelta(days=1)) is None
    assert course.dose_change_on(start - timedelta(days=1)) is None
    second = start + timedelta(days=plan.steps[1].start_day)
    assert course.last_cut_before(second - timedelta(days=1), lookback_days=28) == start


def test_the_step_calendar_moves_later_steps_back_by_the_days_paused() -> None:
    start = date(2027, 1, 4)
    plan = plan_taper("clonazepam", "1 mg bid", StrategyName.GUIDELINE, start_date=start)
    version = PlanVersion(1, plan, datetime(2027, 1, 1, tzinfo=UTC), "Dr", ChangeKind.INITIAL)
    paused = start + timedelta(days=3)
    course = Course((version,), (Pause(paused, paused + timedelta(days=5)),))
    calendar = course.step_calendar(version)
    assert calendar[0].first == start
    assert calendar[1].first == start + timedelta(days=plan.steps[1].start_day + 5)
    still = Course((version,), (Pause(paused),))
    open_calendar = still.step_calendar(version)
    assert open_calendar[0].first == start and open_calendar[0].last is None
    assert open_calendar[1].first is None
