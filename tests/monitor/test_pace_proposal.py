"""The pacing policy judged on recorded check-ins (no service): hold, slow, advance, wait, contact.

The course: a guideline taper from 1 mg bid starting on 3 March 2026 (first cut 2 -> 1.875 mg/day on
the start day; 28-day steps) under the Maudsley symptom-guided policy (weekly check-ins, settle 7 days,
hold at a rise of 0.10 of the range, slow after 2 holds, ask the clinician at 0.5). The check-ins hold
the withdrawal checklist (range 0-39).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benzokit.monitor.course import ChangeKind, Course, PlanVersion, promised_plan
from benzokit.monitor.pace_proposal import (
    Assessment,
    Choice,
    assess,
    choice_plan,
    cut_day,
    next_checkin,
)
from benzokit.monitor.records import CheckIn
from benzokit.monitor.scales import load_scales, score_scale
from benzokit.plan.api import plan_taper
from benzokit.plan.pacing import Pace, load_pacing

START = date(2026, 3, 3)
SCALES = load_scales()
WATCHED = ("ciwa_b", "withdrawal_checklist", "gad7")
POLICY = load_pacing().get("maudsley-symptom-guided")
ITEMS = [i.id for i in SCALES.get("withdrawal_checklist").items]


def course(policy: str = POLICY.name) -> Course:
    plan = plan_taper("clonazepam", "1 mg bid", "guideline", start_date=START)
    created = datetime(2026, 3, 3, 9, tzinfo=UTC)
    return Course((PlanVersion(1, plan, created, "Dr R", ChangeKind.INITIAL, policy=policy),))


def checkin(day: date, total: int, *, seizures: int = 0) -> CheckIn:
    answers = dict.fromkeys(ITEMS, 0)
    for n in range(total):
        answers[ITEMS[n % len(ITEMS)]] += 1
    score = score_scale("withdrawal_checklist", answers, scales=SCALES)
    at = datetime(day.year, day.month, day.day, 20, tzinfo=UTC)
    return CheckIn(recorded_at=at, scales=(score,), seizures=seizures)


def judged(c: Course, checkins: list[CheckIn], today: date) -> Assessment | None:
    return assess(c, checkins, POLICY, today, watched=WATCHED, scales=SCALES)


BEFORE = START - timedelta(days=1)
DUE = START + timedelta(days=30)  # the next step was planned for day 28


def test_a_rise_since_the_cut_holds() -> None:
    found = judged(course(), [checkin(BEFORE, 6), checkin(DUE, 14)], DUE)
    assert found is not None
    assert found.pace is Pace.HOLD and found.recommended is Choice.HOLD and found.due
    assert found.cut_day == START
    assert found.reasons[0] == (
        "Withdrawal checklist 6/39 → 14/39 since the cut on 3 March 2026: a rise of 0.21 of the "
        "range, ≥ the policy's 0.1."
    )
    assert found.choices == (Choice.HOLD, Choice.ADVANCE, Choice.SLOW)


def test_a_hold_after_an_accepted_hold_slows() -> None:
    c = course()
    held_plan = choice_plan(
        c, Choice.HOLD, DUE, next_checkin=DUE + timedelta(days=4), policy=POLICY
    )
    held = c.with_version(
        PlanVersion(
            2,
            held_plan,
            datetime(2026, 4, 2, tzinfo=UTC),
            "Dr R",
            ChangeKind.HELD,
            policy=POLICY.name,
        )
    )
    later = DUE + timedelta(days=5)
    found = judged(held, [checkin(BEFORE, 6), checkin(later, 13)], later)
    assert found is not None and found.pace is Pace.SLOW and found.recommended is Choice.SLOW


def test_a_tolerated_cut_advances_when_due_and_waits_before() -> None:
    checkins = [checkin(BEFORE, 6), checkin(DUE, 9)]  # 3/39 = 0.077 under 0.1
    found = judged(course(), checkins, DUE)
    assert found is not None and found.pace is Pace.ADVANCE and found.recommended is Choice.ADVANCE
    early = START + timedelta(days=20)
    assert judged(course(), [checkin(BEFORE, 6), checkin(early, 14)], early) is None


def test_a_severe_reading_or_a_seizure_asks_for_the_clinician_due_or_not() -> None:
    early = START + timedelta(days=10)
    severe = judged(course(), [checkin(early, 20)], early)  # 20/39 = 0.51 >= 0.5
    assert severe is not None and severe.pace is Pace.REFER and severe.recommended is None
    assert severe.choices == (Choice.HOLD, Choice.SLOW)  # never a cut, never a higher dose
    seizure = judged(course(), [checkin(early, 3, seizures=1)], early)
    assert seizure is not None and seizure.recommended is None
    assert seizure.reasons[0].startswith("A seizure was reported since the cut on 3 March 2026")


def test_no_reading_since_the_cut_keeps_the_dose() -> None:
    found = judged(course(), [checkin(BEFORE, 6)], DUE)
    assert found is not None and found.recommended is Choice.HOLD
    assert "cannot judge the cut" in found.reasons[0]


def test_no_baseline_cannot_hold() -> None:
    found = judged(course(), [checkin(DUE, 14)], DUE)
    assert found is not None and found.pace is Pace.ADVANCE
    assert "no reading of it before the cut" in found.reasons[0]


def test_the_fixed_policy_proposes_nothing_and_never_waits() -> None:
    fixed = course("fixed")
    assert (
        assess(
            fixed,
            [checkin(BEFORE, 6), checkin(DUE, 30)],
            load_pacing().get("fixed"),
            DUE,
            watched=WATCHED,
            scales=SCALES,
        )
        is None
    )
    assert not fixed.waiting_on(DUE)
    assert fixed.daily_dose_mg(DUE) == pytest.approx(1.75)


def test_a_paced_course_keeps_the_dose_while_waiting() -> None:
    c = course()
    assert not c.waiting_on(START + timedelta(days=27))
    assert c.waiting_on(START + timedelta(days=28))
    for back in (27, 28, 100, 400, 1000):
        assert c.daily_dose_mg(START + timedelta(days=back)) == pytest.approx(1.875)
    assert c.dose_change_on(START + timedelta(days=28)) is None  # no silent cut
    assert c.status_on(START + timedelta(days=1000)).value == "active"


def test_the_choices_plans() -> None:
    c = course()
    checkin_day = next_checkin(START, DUE, POLICY)
    assert checkin_day == START + timedelta(days=34)  # the end of the 5th week from the cut
    advance = choice_plan(c, Choice.ADVANCE, DUE, next_checkin=checkin_day, policy=POLICY)
    assert advance.start_date == DUE and advance.steps[0].daily_dose_mg() == pytest.approx(1.75)
    assert advance.first_daily_mg == pytest.approx(1.875)
    hold = choice_plan(c, Choice.HOLD, DUE, next_checkin=checkin_day, policy=POLICY)
    assert [hold.steps[0].daily_dose_mg(), hold.steps[0].days] == [pytest.approx(1.875), 5]
    assert hold.steps[0].note == (
        "Your clinician keeps this dose to 6 April 2026; then they decide on the next step."
    )
    assert [s.daily_dose_mg() for s in hold.steps[1:]] == [s.daily_dose_mg() for s in advance.steps]
    slow = choice_plan(c, Choice.SLOW, DUE, next_checkin=checkin_day, policy=POLICY)
    assert slow.steps[1].days == 42 and slow.steps[0].days == 5


@settings(max_examples=40, deadline=None)
@given(
    before=st.integers(0, 39),
    after=st.integers(0, 39),
    days=st.integers(28, 120),
)
def test_the_proposal_never_cuts_on_a_severe_reading_and_agrees_with_the_rule(
    before: int, after: int, days: int
) -> None:
    today = START + timedelta(days=days)
    found = judged(course(), [checkin(BEFORE, before), checkin(today, after)], today)
    assert found is not None  # the step is due: always a proposal
    assert cut_day(course(), today) == START
    rise = after / 39 - before / 39
    if after / 39 >= POLICY.ask_clinician_at:
        assert found.recommended is None and Choice.ADVANCE not in found.choices
    elif rise >= POLICY.hold_rise:
        assert found.recommended is Choice.HOLD
    else:
        assert found.recommended is Choice.ADVANCE


def test_a_later_version_under_a_held_step_counts_from_the_original_cut() -> None:
    c = course()
    hold = choice_plan(c, Choice.HOLD, DUE, next_checkin=START + timedelta(days=34), policy=POLICY)
    held = c.with_version(
        replace(
            PlanVersion(2, hold, datetime(2026, 4, 2, tzinfo=UTC), "Dr R", ChangeKind.HELD),
            policy=POLICY.name,
        )
    )
    assert cut_day(held, START + timedelta(days=33)) == START
    assert held.waiting_on(START + timedelta(days=35)) and not held.waiting_on(
        START + timedelta(days=34)
    )


def test_the_handout_and_calendar_of_a_paced_plan_promise_only_the_current_step() -> None:
    c = course()
    promised = promised_plan(c, START + timedelta(days=10))
    assert len(promised.steps) == 1 and promised.steps[0].days == 18
    assert "waits for your clinician" in promised.steps[0].note
    fixed = course("fixed")
    assert len(promised_plan(fixed, START + timedelta(days=10)).steps) > 1
