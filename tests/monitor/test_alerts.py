"""Alert rules: urgent answers, rising withdrawal scores after a cut, missed doses, silence."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benzokit.errors import DataError
from benzokit.monitor.alerts import (
    checkin_alerts,
    daily_alerts,
    load_alert_rule_file,
    load_alert_rules,
    rising_possible,
)
from benzokit.monitor.course import ChangeKind, Course, PlanVersion
from benzokit.monitor.records import AlertLevel, CheckIn, DoseLog, DoseStatus
from benzokit.monitor.scales import load_scales, score_scale
from benzokit.plan.api import plan_taper
from benzokit.plan.strategies import StrategyName

START = date(2027, 1, 4)


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def phq9(item9: int) -> CheckIn:
    answers = {f"item{i}": 1 for i in range(1, 9)} | {"item9": item9}
    return CheckIn(at(START), (score_scale("phq9", answers),))


def gad7(total: int, when: datetime) -> CheckIn:
    answers = {f"item{i}": min(3, max(0, total - 3 * (i - 1))) for i in range(1, 8)}
    score = score_scale("gad7", answers)
    assert score.total == total
    return CheckIn(when, (score,))


@pytest.fixture(scope="module")
def course() -> Course:
    plan = plan_taper("clonazepam", "1 mg bid", StrategyName.GUIDELINE, start_date=START)
    return Course((PlanVersion(1, plan, at(START), "Dr A", ChangeKind.INITIAL),))


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_phq9_item9_above_zero_is_urgent_with_crisis_guidance(item9: int) -> None:
    [alert] = checkin_alerts("Pat", phq9(item9), [], None, START)
    assert alert.code == "MON-SELF-HARM"
    assert alert.level is AlertLevel.URGENT
    assert alert.patient_guidance
    assert "Kroenke" in alert.source


def test_phq9_item9_zero_raises_nothing() -> None:
    assert checkin_alerts("Pat", phq9(0), [], None, START) == []


def test_a_reported_seizure_is_urgent() -> None:
    [alert] = checkin_alerts("Pat", CheckIn(at(START), seizures=2), [], None, START)
    assert (alert.code, alert.level) == ("MON-SEIZURE", AlertLevel.URGENT)
    assert "2 seizure" in alert.message


def test_scores_rising_after_a_cut_suggest_pause_or_slow(course: Course) -> None:
    rule = load_alert_rules().withdrawal_rising
    cut = START + timedelta(days=course.current.plan.steps[1].start_day)
    n = rule.consecutive_checkins.value
    history = [gad7(4 + i, at(cut + timedelta(days=i))) for i in range(n - 1)]
    new = gad7(4 + n, at(cut + timedelta(days=n)))
    [alert] = checkin_alerts("Pat", new, history, course, new.recorded_at.date())
    assert alert.code == "MON-WITHDRAWAL-RISING"
    assert "pausing or slowing" in (alert.suggestion or "")
    flat = gad7(4 + n - 2, at(cut + timedelta(days=n)))  # not a rise
    assert checkin_alerts("Pat", flat, history, course, flat.recorded_at.date()) == []


def test_scores_rising_before_the_plan_starts_do_not_alert(course: Course) -> None:
    days = [START - timedelta(days=3 - i) for i in range(3)]
    history = [gad7(3 + i, at(d)) for i, d in enumerate(days[:-1])]
    new = gad7(10, at(days[-1]))
    assert checkin_alerts("Pat", new, history, course, days[-1]) == []


def test_the_plans_first_cut_on_day_0_counts_as_a_cut(course: Course) -> None:
    """The demo patient's case: GAD-7 5 -> 6 -> 8 after a plan whose first cut is on its day 0."""
    plan = course.current.plan
    assert plan.steps[0].daily_dose_mg() < plan.first_daily_mg  # the guideline cuts on day 0
    assert course.last_cut_before(START + timedelta(days=5), lookback_days=28) == START
    days = [START + timedelta(days=i) for i in (1, 4, 8)]
    history = [gad7(t, at(d)) for t, d in zip((5, 6), days, strict=False)]
    new = gad7(8, at(days[-1]))
    [alert] = checkin_alerts("Pat", new, history, course, days[-1])
    assert alert.code == "MON-WITHDRAWAL-RISING"
    assert alert.key == f"withdrawal-rising:gad7:{START}"


@given(missed=st.integers(min_value=0, max_value=10))
def test_missed_doses_alert_from_the_policy_count(missed: int) -> None:
    rule = load_alert_rules().missed_doses
    now = at(START + timedelta(days=20))
    logs = [
        DoseLog(
            now.date() - timedelta(days=i % rule.window_days.value),
            "08:00",
            "clonazepam",
            1.0,
            DoseStatus.MISSED,
            now,
        )
        for i in range(missed)
    ]
    found = daily_alerts("Pat", logs, now, now - timedelta(days=30), now)
    assert any(a.code == "MON-MISSED-DOSES" for a in found) == (missed >= rule.missed.value)


def test_silence_alerts_after_the_policy_days() -> None:
    days = load_alert_rules().no_checkin.days.value
    now = at(START + timedelta(days=40))
    quiet = daily_alerts("Pat", [], now - timedelta(days=days), now - timedelta(days=60), now)
    assert [a.code for a in quiet] == ["MON-NO-CHECKIN"]
    assert (
        daily_alerts("Pat", [], now - timedelta(days=days - 1), now - timedelta(days=60), now) == []
    )


def test_every_alert_setting_says_whether_it_is_policy_or_evidence() -> None:
    rules = load_alert_rules()
    for setting in (rules.missed_doses.missed, rules.no_checkin.days, rules.actions.slow_factor):
        assert setting.policy
        assert setting.source in rules.sources


def test_a_broken_alert_file_names_the_field(tmp_path: Path) -> None:
    source = Path(__file__).parents[2] / "src/benzokit/monitor/data/alerts.toml"
    broken = tmp_path / "alerts.toml"
    broken.write_text(source.read_text().replace('level = "urgent"', 'level = "loud"', 1))
    with pytest.raises(DataError, match="level"):
        load_alert_rule_file(broken)


def checklist(total: int, when: datetime) -> CheckIn:
    items = [i.id for i in load_scales().get("withdrawal_checklist").items]
    answers = {item: min(3, max(0, total - 3 * n)) for n, item in enumerate(items)}
    score = score_scale("withdrawal_checklist", answers)
    assert score.total == total
    return CheckIn(when, (score,))


def test_the_withdrawal_checklist_is_watched_before_gad7(course: Course) -> None:
    days = [START + timedelta(days=i) for i in (1, 4, 8)]
    rising = [checklist(t, at(d)) for t, d in zip((2, 5, 9), days, strict=True)]
    [alert] = checkin_alerts("Pat", rising[-1], rising[:-1], course, days[-1])
    assert alert.key == f"withdrawal-rising:withdrawal_checklist:{START}"
    assert "Withdrawal checklist" in alert.message
    # GAD-7 rising in the same check-ins is not read while the checklist is answered (and flat)
    both = [
        CheckIn(at(d), (*gad7(g, at(d)).scales, *checklist(4, at(d)).scales))
        for g, d in zip((3, 5, 8), days, strict=True)
    ]
    assert checkin_alerts("Pat", both[-1], both[:-1], course, days[-1]) == []


@given(
    totals=st.lists(st.integers(0, 21), min_size=1, max_size=6),
    offsets=st.lists(st.integers(-40, 60), min_size=6, max_size=6),
)
def test_a_rising_alert_is_only_raised_when_rising_possible_says_so(
    course: Course, totals: list[int], offsets: list[int]
) -> None:
    """The check-in reads the course only when :func:`rising_possible` holds: it must hold for every
    history (any order of days, backdated ones included) that raises the rising alert with a course."""
    checkins = [
        gad7(total, at(START + timedelta(days=offset)))
        for total, offset in zip(totals, offsets, strict=False)
    ]
    *history, new = checkins
    day = new.recorded_at.date()
    raised = checkin_alerts("Pat", new, history, course, day)
    if any(a.code == "MON-WITHDRAWAL-RISING" for a in raised):
        assert rising_possible(new, history)
    if not rising_possible(new, history):
        assert checkin_alerts("Pat", new, history, None, day) == raised


def test_rising_possible_needs_a_rise_of_the_rules_length() -> None:
    n = load_alert_rules().withdrawal_rising.consecutive_checkins.value
    rising = [gad7(3 + i, at(START + timedelta(days=i))) for i in range(n)]
    assert rising_possible(rising[-1], rising[:-1])
    flat = [gad7(5, at(START + timedelta(days=i))) for i in range(n + 2)]
    assert not rising_possible(flat[-1], flat[:-1])
    assert not rising_possible(CheckIn(at(START), seizures=1), rising)  # no watched scale
