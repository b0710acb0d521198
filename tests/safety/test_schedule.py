"""check_schedule: guideline taper pace (25 % per 14 days), abrupt stops, steps above the label."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benzokit.drugs import load_drug
from benzokit.drugs.models import ProductForm
from benzokit.errors import InputError
from benzokit.plan import Administration, ProductUse, Step, StepKind
from benzokit.safety import PatientContext, Severity, check_schedule, smallest_product_dose_mg
from benzokit.units import ClockTime

SEIZURE = PatientContext(age_y=40, indication="seizure")
WINDOW_DAYS = 14
MAX_FALL = 0.25
TAPER = "BZK-TAPER-RATE"
ABRUPT = "BZK-ABRUPT-STOP"


def _codes(steps: list[tuple[float, float, float]], **kwargs: str) -> set[str]:
    return {f.code for f in check_schedule("clonazepam", steps, SEIZURE, **kwargs)}


def _schedule(start_mg: float, parts: list[tuple[int, float]]) -> list[tuple[float, float, float]]:
    """Consecutive steps: each part is (days, dose as a fraction of the previous step's dose)."""
    steps: list[tuple[float, float, float]] = []
    day, dose = 0, start_mg
    for days, factor in parts:
        dose = steps[-1][2] * factor if steps else dose
        steps.append((day, day + days, dose))
        day += days
    return steps


def _largest_fall_brute_force(steps: list[tuple[float, float, float]]) -> float:
    """Independent oracle: the dose on every day, every pair of days at most 14 days apart."""
    daily = [dose for start, end, dose in steps for _ in range(int(start), int(end))]
    falls = [
        1 - daily[j] / daily[i]
        for i in range(len(daily))
        for j in range(i + 1, min(len(daily), i + WINDOW_DAYS + 1))
    ]
    return max(falls, default=0.0)


parts_strategy = st.lists(
    st.tuples(st.integers(1, 30), st.floats(0.4, 1.1, allow_nan=False)), min_size=1, max_size=12
)


@given(start_mg=st.floats(0.5, 10.0), parts=parts_strategy)
def test_the_pace_finding_appears_exactly_when_some_14_day_window_falls_more_than_25_percent(
    start_mg: float, parts: list[tuple[int, float]]
) -> None:
    steps = _schedule(start_mg, [(days, min(f, 20.0 / start_mg)) for days, f in parts])
    found = [f for f in check_schedule("clonazepam", steps, SEIZURE) if f.code == TAPER]
    largest = _largest_fall_brute_force(steps)
    assert bool(found) == (largest > MAX_FALL + 1e-9)
    if found:  # one finding per change too fast; the worst of them is the oracle's worst fall
        assert max(f.fraction or 0.0 for f in found) == pytest.approx(largest)
    for finding in found:
        assert (finding.fraction or 0.0) > MAX_FALL
        assert finding.from_mg is not None and finding.to_mg is not None
        assert finding.fraction == pytest.approx(1 - finding.to_mg / finding.from_mg)


@given(
    start_mg=st.floats(0.5, 20.0),
    cuts=st.lists(st.tuples(st.integers(14, 60), st.floats(0.75, 1.0)), min_size=1, max_size=10),
)
def test_cuts_of_at_most_25_percent_every_14_days_are_never_flagged(
    start_mg: float, cuts: list[tuple[int, float]]
) -> None:
    steps = _schedule(start_mg, cuts)
    assert TAPER not in _codes(steps)


def test_a_50_percent_cut_is_flagged_with_the_numbers() -> None:
    (finding,) = check_schedule("clonazepam", [(0, 14, 2.0), (14, 28, 1.0)], SEIZURE)
    assert finding.code == TAPER and finding.severity is Severity.WARNING
    assert (finding.day, finding.from_mg, finding.to_mg, finding.fraction) == (14, 2.0, 1.0, 0.5)
    assert "50 %" in finding.message  # the prose states the same numbers, and the pace's sentence
    assert "not more than 25 % every 14 days" in finding.message
    data = finding.to_dict()
    assert (data["day"], data["from_mg"], data["to_mg"], data["fraction"]) == (14, 2.0, 1.0, 0.5)
    assert "10.1007/s11606-025-09499-2" in finding.source


def test_two_25_percent_cuts_13_days_apart_exceed_the_pace_but_14_days_apart_do_not() -> None:
    (finding,) = check_schedule("clonazepam", [(0, 5, 2.0), (5, 18, 1.5), (18, 40, 1.125)])
    assert finding.code == TAPER and (finding.day, finding.from_mg, finding.to_mg) == (
        18,
        2.0,
        1.125,
    )
    assert TAPER not in _codes([(0, 5, 2.0), (5, 19, 1.5), (19, 40, 1.125)])


def test_a_drop_to_zero_is_an_abrupt_stop_unless_a_reason_is_recorded() -> None:
    steps = [(0, 14, 1.0), (14, 28, 0.0)]
    (finding,) = check_schedule("clonazepam", steps, SEIZURE)
    assert finding.code == ABRUPT and finding.severity is Severity.CRITICAL
    assert finding.action == "Taper gradually."
    assert (finding.day, finding.from_mg, finding.to_mg, finding.fraction) == (14, 1.0, 0.0, None)
    overridden = check_schedule(
        "clonazepam", steps, SEIZURE, allow_abrupt_stop_reason="anaphylaxis to excipient"
    )
    assert [f.severity for f in overridden] == [Severity.WARNING]
    assert "anaphylaxis to excipient" in overridden[0].message
    assert (overridden[0].day, overridden[0].from_mg) == (14, 1.0)


def test_stopping_from_the_smallest_product_dose_is_not_abrupt() -> None:
    drug = load_drug("clonazepam")
    smallest = smallest_product_dose_mg(drug)
    assert smallest == 0.125  # 0.125 mg orally disintegrating tablet
    assert ABRUPT not in _codes([(0, 14, 0.15), (14, 28, 0.125), (28, 35, 0.0)])
    assert ABRUPT in _codes([(0, 14, 0.25), (14, 28, 0.0)])


def test_a_step_above_the_label_maximum_is_critical() -> None:
    panic = PatientContext(age_y=40, indication="panic")
    findings = check_schedule("clonazepam", [(0, 7, 4.0), (7, 14, 5.0), (14, 28, 4.0)], panic)
    (above,) = [f for f in findings if f.code == "BZK-SCHEDULE-ABOVE-LABEL-MAX"]
    assert above.severity is Severity.CRITICAL and (above.day, above.to_mg) == (7, 5.0)
    assert above.fraction is None  # not a pace finding


def _plan_step(start: int, end: int, dose_mg: float, kind: StepKind = StepKind.DOSE) -> Step:
    products = (ProductUse(ProductForm.TABLET, strength_mg=0.5, quantity=dose_mg / 0.5),)
    doses = (Administration("clonazepam", ClockTime.at(8), dose_mg, products),) if dose_mg else ()
    return Step(start, end, doses, kind)


def test_plan_steps_are_accepted_and_a_hold_repeats_the_previous_dose() -> None:
    steps = [
        _plan_step(0, 14, 1.0),
        _plan_step(14, 21, 0.0, StepKind.HOLD),
        _plan_step(21, 35, 0.9),
    ]
    assert check_schedule("clonazepam", steps, SEIZURE) == ()
    stop = [_plan_step(0, 14, 1.0), _plan_step(14, 21, 0.0)]
    assert {f.code for f in check_schedule("clonazepam", stop, SEIZURE)} == {ABRUPT}


@pytest.mark.parametrize(
    ("steps", "field"),
    [
        ([(0, 14, 1.0), (15, 28, 0.5)], "step 2 start_day"),
        ([(0, 14, -1.0)], "step 1 daily dose"),
        ([(5, 5, 1.0)], "step 1 days"),
        ([(0, 1.5, 1.0)], "step 1 days"),
        ([], "steps"),
    ],
)
def test_bad_steps_are_input_errors_naming_the_step(
    steps: list[tuple[float, float, float]], field: str
) -> None:
    with pytest.raises(InputError) as info:
        check_schedule("clonazepam", steps)
    assert info.value.field == field


def test_an_empty_override_reason_is_refused() -> None:
    with pytest.raises(InputError, match="allow_abrupt_stop_reason"):
        check_schedule("clonazepam", [(0, 14, 1.0), (14, 15, 0.0)], allow_abrupt_stop_reason="  ")
