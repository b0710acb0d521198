"""The guideline pace: one PaceRule from one data entry, judged against an independent oracle, and a
clinic's overlay that changes the planner, the schedule check and the plan-change check together."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest
import tomli_w
from hypothesis import given
from hypothesis import strategies as st

from benzokit.drugs.loader import load_drug
from benzokit.errors import DataError, InputError
from benzokit.knowledge import Knowledge
from benzokit.monitor.change_check import change_pace_findings
from benzokit.monitor.course import ChangeKind, Course, PlanVersion
from benzokit.plan.api import ProductChoice, plan_taper
from benzokit.plan.model import Plan
from benzokit.plan.params import load_strategy_file
from benzokit.plan.products import product_set
from benzokit.plan.strategies import FractionOfCurrent, Risk, StrategyName
from benzokit.plan.taper import TaperSettings, taper_plan
from benzokit.safety import PatientContext, check_schedule
from benzokit.safety.pace import DoseSpan, PaceRule, guideline_pace

RULES_FILE = Path(str(resources.files("benzokit.safety").joinpath("data", "rules.toml")))
STRATEGIES_FILE = Path(str(resources.files("benzokit.plan").joinpath("data", "strategies.toml")))
SEIZURE = PatientContext(age_y=40, indication="seizure")
START = date(2027, 1, 4)
AT = datetime(2027, 1, 1, tzinfo=UTC)
RULE = PaceRule(0.25, 14, "test")


def test_the_shipped_pace_is_the_guideline_entry_with_its_source() -> None:
    pace = guideline_pace()
    assert (pace.fraction, pace.window_days) == (0.25, 14)
    assert "10.1007/s11606-025-09499-2" in pace.source
    assert str(pace) == "not more than 25 % every 14 days"
    assert guideline_pace(Knowledge.shipped()) is pace  # built once per knowledge base


@pytest.mark.parametrize(
    ("fraction", "window_days", "field"),
    [(0.0, 14, "pace fraction"), (1.5, 14, "pace fraction"), (0.25, 0, "pace window_days")],
)
def test_a_pace_that_means_nothing_is_refused(
    fraction: float, window_days: int, field: str
) -> None:
    with pytest.raises(InputError) as info:
        PaceRule(fraction, window_days, "test")
    assert info.value.field == field


def _daily(spans: list[DoseSpan]) -> dict[int, float]:
    return {day: s.daily_dose_mg for s in spans for day in range(s.start_day, s.end_day)}


def _spans(first_day: int, parts: list[tuple[int, float]]) -> list[DoseSpan]:
    spans, day = [], first_day
    for days, dose in parts:
        spans.append(DoseSpan(day, day + days, dose))
        day += days
    return spans


parts = st.lists(
    st.tuples(st.integers(1, 20), st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0])),
    min_size=1,
    max_size=8,
)


@given(parts=parts, window=st.integers(1, 21))
def test_the_worst_fall_is_the_largest_fall_between_two_days_a_window_apart(
    parts: list[tuple[int, float]], window: int
) -> None:
    """Oracle: every pair of days at most ``window`` apart on which the dose falls, not to zero."""
    rule = PaceRule(0.25, window, "test")
    daily = _daily(_spans(0, parts))
    falls = [
        1 - daily[j] / daily[i]
        for i in daily
        for j in daily
        if i < j <= i + window and daily[i] > daily[j] > 0
    ]
    fall = rule.worst_fall(_spans(0, parts))
    assert (fall.fraction if fall else None) == (max(falls) if falls else None)
    if fall is not None:
        assert daily[fall.from_day] == fall.from_mg and daily[fall.to_day] == fall.to_mg
        assert 0 < fall.to_day - fall.from_day <= window
    assert rule.is_satisfied_by(_spans(0, parts)) == (not falls or max(falls) <= 0.25 + 1e-9)


@given(before=parts, after=parts)
def test_a_fall_across_a_change_counts_only_from_before_to_after(
    before: list[tuple[int, float]], after: list[tuple[int, float]]
) -> None:
    old = _spans(-sum(days for days, _ in before), before)
    new = _spans(0, after)
    daily_old, daily_new = _daily(old), _daily(new)
    falls = [
        1 - daily_new[j] / daily_old[i]
        for i in daily_old
        for j in daily_new
        if j - i <= RULE.window_days and daily_old[i] > daily_new[j] > 0
    ]
    fall = RULE.worst_fall(old, after=new)
    assert (fall.fraction if fall else None) == (max(falls) if falls else None)
    if fall is not None:
        assert fall.from_day < 0 <= fall.to_day


def test_a_copy_of_the_pace_in_the_strategy_file_is_refused(tmp_path: Path) -> None:
    data = tomllib.loads(STRATEGIES_FILE.read_text(encoding="utf-8"))
    data["guideline"]["max_reduction_fraction"] = {"value": 0.1, "source": "asam2025"}
    path = tmp_path / "strategies.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    with pytest.raises(DataError, match=r"taper_pace\] in rules.toml") as info:
        load_strategy_file(path)
    assert "guideline" in str(info.value)


@pytest.mark.parametrize("share", [0.0, 1.5])
def test_a_product_rounding_share_outside_0_to_1_is_refused(tmp_path: Path, share: float) -> None:
    data = tomllib.loads(STRATEGIES_FILE.read_text(encoding="utf-8"))
    data["product_rounding"]["simpler_day_min_share_of_cut"]["value"] = share
    path = tmp_path / "strategies.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    with pytest.raises(DataError, match="simpler_day_min_share_of_cut"):
        load_strategy_file(path)


# ----------------------------------------------------------------- a clinic's adjusted pace


@pytest.fixture(scope="module")
def stricter(tmp_path_factory: pytest.TempPathFactory) -> Knowledge:
    """An overlay whose rules.toml allows only 10 % per 14 days."""
    folder = tmp_path_factory.mktemp("clinic")
    data = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))
    data["taper_pace"]["max_reduction_fraction"]["value"] = 0.10
    (folder / "rules.toml").write_text(tomli_w.dumps(data), encoding="utf-8")
    return Knowledge.with_overlay(folder)


def test_the_overlay_pace_is_the_one_every_part_reads(stricter: Knowledge) -> None:
    assert guideline_pace(stricter).fraction == 0.10
    assert str(guideline_pace(stricter)) == "not more than 10 % every 14 days"


def test_an_overlay_pace_changes_the_schedule_check(stricter: Knowledge) -> None:
    schedule = [(0, 14, 2.0), (14, 28, 1.75)]  # a 12.5 % cut
    assert check_schedule("clonazepam", schedule, SEIZURE) == ()
    (finding,) = check_schedule("clonazepam", schedule, SEIZURE, knowledge=stricter)
    assert finding.code == "BZK-TAPER-RATE"
    assert (finding.day, finding.from_mg, finding.to_mg) == (14, 2.0, 1.75)
    assert finding.fraction == pytest.approx(0.125)
    assert "not more than 10 % every 14 days" in finding.message


def test_an_overlay_pace_changes_the_plan_change_check(stricter: Knowledge) -> None:
    old = plan_taper(
        "clonazepam",
        "2 mg/day",
        StrategyName.CUSTOM,
        custom_steps="2 mg/day x 28 days",
        start_date=START,
    )
    course = Course((PlanVersion(1, old, AT, "Dr A", ChangeKind.INITIAL),))
    new = plan_taper(
        "clonazepam", "2 mg/day", StrategyName.CUSTOM, custom_steps="1.75 mg/day x 14 days"
    )
    today = START + timedelta(days=7)
    assert change_pace_findings(course, new, today) == []
    (finding,) = change_pace_findings(course, new, today, knowledge=stricter)
    assert finding.code == "BZK-CHANGE-PACE"
    assert (finding.day, finding.from_mg, finding.to_mg) == (0, 2.0, 1.75)
    assert "not more than 10 % every 14 days" in finding.message


def test_an_overlay_pace_changes_the_planner(stricter: Knowledge) -> None:
    """The planner's pace-limited taper itself, given the overlay's rule directly."""
    drug = load_drug("clonazepam")
    settings = TaperSettings(2.0, ("08:00", "20:00"), target_daily_mg=1.0)
    products = product_set(drug, liquid=True)
    fast = FractionOfCurrent(0.25, 14)  # a strategy asking for 25 % cuts

    def worst(pace: PaceRule) -> float:
        plan = taper_plan(drug, products, fast, settings, guideline=pace)
        spans = [DoseSpan(-14, 0, 2.0)] + [
            DoseSpan(s.start_day, s.end_day, s.daily_dose_mg()) for s in plan.steps
        ]
        assert not [f for f in plan.findings if f.code == "PLAN-PRODUCT-LIMITED"]
        fall = pace.worst_fall(spans)
        assert fall is not None
        return fall.fraction

    assert worst(guideline_pace()) == pytest.approx(0.25)
    assert 0.09 < worst(guideline_pace(stricter)) <= 0.10 + 1e-9


def test_one_overlay_changes_planner_checker_and_change_check_together(
    stricter: Knowledge,
) -> None:
    """The same adjusted entry, through each part's public entry point with ``knowledge=``."""

    def plan(knowledge: Knowledge | None) -> Plan:
        return plan_taper(
            "clonazepam",
            "2 mg/day",
            StrategyName.GUIDELINE,
            risk=Risk.LOW,  # the low-risk preset asks for 20 % cuts
            products=ProductChoice(liquid=True),
            knowledge=knowledge,
        )

    def worst_fall(made: Plan) -> float:
        # the cuts from the start down to half the dose (the last small steps are issue 10's: the
        # products' smallest units set them)
        spans = [DoseSpan(-14, 0, made.first_daily_mg)] + [
            DoseSpan(s.start_day, s.end_day, s.daily_dose_mg())
            for s in made.steps
            if s.daily_dose_mg() >= made.first_daily_mg / 2
        ]
        fall = RULE.worst_fall(spans)
        assert fall is not None
        return fall.fraction

    shipped, clinic = plan(None), plan(stricter)
    assert 0.10 < worst_fall(shipped) <= 0.25 + 1e-9  # the planner: 20 % cuts ...
    assert worst_fall(clinic) <= 0.10 + 1e-9  # ... held to the clinic's 10 %
    assert clinic.knowledge_version == stricter.version != shipped.knowledge_version
    assert all(f.knowledge_version == stricter.version for f in clinic.findings)
    # the checker and the change check judge the shipped plan's cuts by the clinic's pace
    spans = [(s.start_day, s.end_day, s.daily_dose_mg()) for s in shipped.steps]
    assert not [f for f in check_schedule("clonazepam", spans[:3]) if f.code == "BZK-TAPER-RATE"]
    judged = check_schedule("clonazepam", spans[:3], knowledge=stricter)
    assert [f.code for f in judged if f.code == "BZK-TAPER-RATE"]
    today = shipped.steps[1].start_day  # the day of the first cut, as a change made that day
    first_cut = START + timedelta(days=today)
    steady = replace(shipped, start_date=START)
    course = Course((PlanVersion(1, steady, AT, "Dr A", ChangeKind.INITIAL),))
    rest = plan_taper(
        "clonazepam",
        f"{shipped.steps[1].daily_dose_mg():g} mg/day",
        StrategyName.CUSTOM,
        custom_steps=f"{shipped.steps[1].daily_dose_mg():g} mg/day x 14 days",
        products=ProductChoice(liquid=True),
    )
    assert change_pace_findings(course, rest, first_cut) == []
    assert [f.code for f in change_pace_findings(course, rest, first_cut, knowledge=stricter)] == [
        "BZK-CHANGE-PACE"
    ]
