"""Pacing policies: the shipped file, its validation, and the decision rule's invariants."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benzokit.errors import DataError, InputError
from benzokit.knowledge import Knowledge, shipped_folder
from benzokit.knowledge_check import check_knowledge
from benzokit.plan.pacing import (
    FIXED,
    Pace,
    PacerState,
    PacingPolicy,
    PolicyKind,
    decide,
    load_pacing,
)

SHIPPED = shipped_folder("benzokit.plan") / "pacing.toml"
GUIDED = "maudsley-symptom-guided"


def _policy(**rules: float) -> PacingPolicy:
    base = load_pacing().get(GUIDED)
    values = {
        name: rules.get(name, getattr(base, name))
        for name in (
            "checkin_interval_days",
            "settle_days",
            "hold_rise",
            "slow_after_holds",
            "slow_factor",
            "ask_clinician_at",
            "max_duration_days",
        )
    }
    return PacingPolicy(
        name="test",
        title="test",
        description="test",
        kind=PolicyKind.SYMPTOM_GUIDED,
        source="benzokit_policy",
        citation="test",
        **values,  # type: ignore[arg-type]
    )


def test_the_shipped_presets_are_present_sourced_and_the_symptom_guided_ones_cite_guidelines() -> (
    None
):
    policies = load_pacing()
    assert {FIXED, GUIDED, "asam-pause-slow"} <= set(policies.policies)
    assert not policies.get(FIXED).adaptive
    for name in (GUIDED, "asam-pause-slow"):
        policy = policies.get(name)
        assert policy.adaptive
        assert "guideline" in policy.citation.lower() or "Maudsley" in policy.citation
        assert policy.settle_days == 7  # the week in which withdrawal after a cut may appear
        assert policy.checkin_interval_days >= 1 and policy.slow_factor > 1


def test_an_unknown_policy_is_an_input_error_listing_the_known_ones() -> None:
    with pytest.raises(InputError) as caught:
        load_pacing().get("faster", field="strategies.0.policy")
    assert caught.value.field == "strategies.0.policy"
    assert GUIDED in caught.value.allowed


def _overlay(tmp_path: Path, old: str, new: str) -> Knowledge:
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "pacing.toml").write_text(text.replace(old, new, 1), encoding="utf-8")
    return Knowledge.with_overlay(tmp_path)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("hold_rise = { value = 0.10", "hold_rise = { value = 0", "'hold_rise' is 0; it must be above 0"),
        ("slow_factor = { value = 1.5", "slow_factor = { value = 0.5", "'slow_factor' is 0.5"),
        ("checkin_interval_days = { value = 7", "checkin_interval_days = { value = 3.5",
         "must be a whole number"),
        ("settle_days = { value = 7, source = \"asam_patient_guide\"",
         "settle_days = { value = 7, source = \"nowhere\"", "settle_days.source"),
        ("kind = \"fixed\"\n",
         "kind = \"fixed\"\nhold_rise = { value = 0.1, source = \"benzokit_policy\" }\n",
         "a fixed policy takes no rules"),
        ("max_duration_days = { value = 1095", "max_durations_days = { value = 1095",
         "Extra inputs are not permitted"),
    ],
)  # fmt: skip
def test_a_clinic_pacing_file_with_a_mistake_is_refused_naming_file_policy_and_rule(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    knowledge = _overlay(tmp_path, old, new)
    with pytest.raises(DataError) as caught:
        check_knowledge(knowledge)
    text = str(caught.value)
    assert str(tmp_path / "pacing.toml") in text
    assert "policies" in text and re.search(r"maudsley-symptom-guided|fixed", text)
    assert expected in text


def test_a_clinic_may_adjust_a_rule_and_the_knowledge_version_changes(tmp_path: Path) -> None:
    knowledge = _overlay(tmp_path, "hold_rise = { value = 0.10", "hold_rise = { value = 0.15")
    assert load_pacing(knowledge).get(GUIDED).hold_rise == 0.15
    assert knowledge.version != Knowledge.shipped().version


def test_fixed_advances_on_the_planned_day_whatever_the_measure() -> None:
    fixed = load_pacing().get(FIXED)
    state = PacerState()
    assert decide(fixed, state, 12, 0.99, planned_days=14) == (Pace.WAIT, state)
    pace, after = decide(fixed, state, 13, 0.99, planned_days=14)
    assert pace is Pace.ADVANCE and after.step == 1 and after.step_start_day == 14


def test_a_rise_since_the_cut_holds_and_repeated_holds_slow_the_remaining_steps() -> None:
    policy = _policy(hold_rise=0.1, slow_after_holds=2, slow_factor=1.5, settle_days=7)
    cut = PacerState(step=1, step_start_day=28, baseline=0.05)
    pace, held = decide(policy, cut, 41, 0.16, planned_days=20)
    assert pace is Pace.HOLD and held.holds == 1 and held.step == 1
    pace, slowed = decide(policy, held, 48, 0.2, planned_days=20)
    assert pace is Pace.SLOW and slowed.stretch == 1.5 and slowed.slowdowns == 1
    assert slowed.holds_since_slow == 0
    # tolerated again, but the stretched step (30 days) is not over after 28 days on it
    assert decide(policy, slowed, 55, 0.1, planned_days=20)[0] is Pace.WAIT
    pace, advanced = decide(policy, slowed, 62, 0.1, planned_days=20)
    assert pace is Pace.ADVANCE and advanced.step == 2 and advanced.baseline == 0.1
    assert advanced.stretch == 1.5  # the remaining steps stay lengthened


def test_a_cut_is_not_judged_before_it_settles_and_a_severe_reading_is_referred_at_once() -> None:
    policy = _policy(settle_days=7, ask_clinician_at=0.5)
    cut = PacerState(step=1, step_start_day=28, baseline=0.0)
    assert decide(policy, cut, 30, 0.3, planned_days=14) == (Pace.WAIT, cut)
    pace, referred = decide(policy, cut, 30, 0.6, planned_days=14)
    assert pace is Pace.REFER and referred.referrals == 1 and referred.step == 1


def test_past_the_maximum_duration_the_policy_hands_the_pace_to_the_clinician() -> None:
    policy = _policy(max_duration_days=100)
    state = PacerState(step=3, step_start_day=80, baseline=0.0)
    assert decide(policy, state, 100, 0.0, planned_days=14) == (Pace.OVERDUE, state)


@given(
    readings=st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=80),
    planned_days=st.integers(1, 60),
    interval=st.integers(1, 21),
)
def test_a_policy_never_goes_back_never_skips_a_step_and_never_shortens_a_step(
    readings: list[float], planned_days: int, interval: int
) -> None:
    policy = _policy(checkin_interval_days=interval)
    state = PacerState()
    for k, measure in enumerate(readings):
        day = (k + 1) * interval - 1
        pace, after = decide(policy, state, day, measure, planned_days)
        assert after.step - state.step == (1 if pace is Pace.ADVANCE else 0)
        assert after.stretch >= state.stretch
        if pace is Pace.ADVANCE:
            assert day + 1 - state.step_start_day >= math.ceil(planned_days * state.stretch)
            assert measure < policy.ask_clinician_at
        state = after


def test_a_stretch_slowed_past_any_number_of_days_waits_instead_of_overflowing() -> None:
    """More than 308 slowdowns at a factor of 10 make the stretch infinite: the step is never due."""
    policy = _policy(slow_factor=10.0, max_duration_days=36_500)
    state = PacerState(step=2, step_start_day=0, baseline=0.0, stretch=math.inf)
    assert decide(policy, state, 3000, 0.0, planned_days=14) == (Pace.WAIT, state)
    slowed = PacerState(step=2, step_start_day=0, baseline=0.0, stretch=1e308)
    pace, after = decide(policy, slowed, 3000, 0.5 * policy.hold_rise + policy.hold_rise, 14)
    assert pace in {Pace.HOLD, Pace.SLOW} and after.stretch >= slowed.stretch
