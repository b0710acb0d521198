"""Issue 10: tapers the way the guidelines mean them (items 1, 2, 3, 5; the done-when commands).

Every transition is checked from the dose taken today; hyperbolic plans cut shrinking mg amounts and
stop from a small final dose; small doses come from sourced liquids; a stop from the smallest unit is
the final step, not an abrupt stop.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from cli_support import invoke_benzokit, normalise

from benzokit.plan.api import ProductChoice, plan_taper
from benzokit.plan.dispensing import dispensing_totals, preparations
from benzokit.plan.model import Plan
from benzokit.plan.strategies import StrategyName


def _daily(plan: Plan, start: float) -> list[float]:
    return [start] + [s.daily_dose_mg(plan.drug) for s in plan.steps]


def test_the_done_when_hyperbolic_liquid_plan_cuts_shrinking_amounts_to_a_small_final_dose() -> (
    None
):
    """`plan taper clonazepam --from "2 mg/day" --strategy hyperbolic --liquid`: shrinking mg cuts,
    none above 30 % of the current dose, the last dose before the stop at most 0.1 mg/day."""
    outcome = invoke_benzokit(
        [
            "plan",
            "taper",
            "clonazepam",
            "--from",
            "2 mg/day",
            "--strategy",
            "hyperbolic",
            "--liquid",
            "--json",
        ]
    )
    assert outcome.exit_code == 0, outcome.stdout
    data = json.loads(outcome.stdout)
    doses = [2.0] + [s["daily_dose_mg"] for s in data["steps"]]
    cuts = [a - b for a, b in itertools.pairwise(doses)]
    assert all(b <= a + 1e-9 for a, b in itertools.pairwise(cuts)), "mg cuts never grow"
    assert cuts[-1] < cuts[0] / 4, "and shrink"
    assert max(c / a for c, a in zip(cuts, doses, strict=False)) <= 0.30
    assert doses[-1] <= 0.1 + 1e-9
    final = [f for f in data["findings"] if f["code"] == "PLAN-FINAL-STEP"]
    assert final and final[0]["from_mg"] == pytest.approx(doses[-1])
    assert not [f for f in data["findings"] if f["severity"] == "critical"]


def test_the_label_plan_reports_its_first_cut_and_never_overrides_the_abrupt_stop_rule() -> None:
    """From 0.5 mg/day the label's 0.25 mg/day decrement is a 50 % cut on day 0: reported, with the
    numbers as fields; the stop is from the final dose, with no override recorded by the strategy."""
    plan = plan_taper("clonazepam", "0.5 mg/day", StrategyName.LABEL)
    rate = [f for f in plan.findings if f.code == "BZK-TAPER-RATE"]
    first = [f for f in rate if f.day == 0]
    assert first and first[0].from_mg == 0.5 and first[0].to_mg == pytest.approx(0.25)
    assert first[0].fraction == pytest.approx(0.5)
    codes = {f.code for f in plan.findings}
    assert "BZK-ABRUPT-STOP-OVERRIDDEN" not in codes and "BZK-ABRUPT-STOP" not in codes
    assert plan.steps[-1].daily_dose_mg() == pytest.approx(0.125)  # the smallest ODT, then stop


def test_from_1_mg_the_fall_is_measured_from_todays_dose() -> None:
    plan = plan_taper("clonazepam", "1 mg/day", StrategyName.LABEL)
    spans = [(-1, 0, 1.0)] + [(s.start_day, s.end_day, s.daily_dose_mg()) for s in plan.steps]
    worst = max(
        1 - later[2] / earlier[2]
        for earlier, later in itertools.combinations(spans, 2)
        if later[0] - (earlier[1] - 1) <= 14
    )
    rate = [f for f in plan.findings if f.code == "BZK-TAPER-RATE"]
    assert any(f.from_mg == 1.0 for f in rate)  # the falls count from today's 1 mg/day
    assert max(f.fraction or 0.0 for f in rate) == pytest.approx(worst)


def test_the_label_panic_taper_steps_0_125_mg_bid_every_3_days() -> None:
    """Klonopin label (clinical-facts.md section 1): decrease 0.125 mg bid every 3 days until
    withdrawn. benzokit follows it from 2 mg/day (1 mg bid) down to 0.25 mg/day; it then adds one
    step at 0.125 mg/day (the smallest ODT) before the stop, where the label goes from 0.25 mg/day to
    zero (a stop above the smallest unit would be an abrupt stop for the safety rule)."""
    plan = plan_taper("clonazepam", "1 mg bid", StrategyName.LABEL)
    doses = [s.daily_dose_mg() for s in plan.steps]
    expected = [2.0 - 0.25 * k for k in range(1, 8)]  # 1.75 ... 0.25 mg/day
    assert doses[: len(expected)] == pytest.approx(expected)
    assert all(s.days == 3 for s in plan.steps)
    assert doses[len(expected) :] == pytest.approx([0.125])


@pytest.mark.parametrize(
    ("drug", "start"), [("alprazolam", "0.25 mg/day"), ("lorazepam", "0.5 mg/day")]
)
def test_a_drug_started_from_its_smallest_unit_ends_with_the_final_step(
    drug: str, start: str
) -> None:
    plan = plan_taper(drug, start, StrategyName.GUIDELINE)
    assert not [f for f in plan.findings if f.severity == "critical"]
    final = [f for f in plan.findings if f.code == "PLAN-FINAL-STEP"]
    assert final and final[0].severity == "info" and final[0].action


def test_the_hyperbolic_plan_says_when_its_anchor_is_nearly_linear() -> None:
    linear = plan_taper(
        "clonazepam", "2 mg/day", StrategyName.HYPERBOLIC, products=ProductChoice(liquid=True)
    )
    assert any("nearly linear" in note for note in linear.notes)
    saturating = plan_taper(
        "clonazepam",
        "2 mg/day",
        StrategyName.HYPERBOLIC,
        occupancy_set="horowitz_maudsley",
        products=ProductChoice(liquid=True),
    )
    assert not any("nearly linear" in note for note in saturating.notes)
    assert _daily(saturating, 2.0) != _daily(linear, 2.0)


def test_a_final_dose_fraction_of_the_prescriber_is_where_the_stop_is_made() -> None:
    def last(fraction: float | None) -> float:
        plan = plan_taper(
            "clonazepam",
            "1 mg/day",
            StrategyName.GUIDELINE,
            products=ProductChoice(liquid=True),
            final_dose_fraction=fraction,
        )
        return plan.steps[-1].daily_dose_mg()

    assert 0.04 < last(None) <= 0.05  # the default: at most 5 % of the start
    assert last(0.02) <= 0.02 < last(None)


def test_the_handout_explains_how_to_make_and_keep_each_liquid(tmp_path: Path) -> None:
    plan = plan_taper(
        "clonazepam", "0.5 mg/day", StrategyName.GUIDELINE, products=ProductChoice(liquid=True)
    )
    (suspension,) = preparations(plan)
    assert "60 days" in suspension.keeps and "Allen" in suspension.source
    assert any(line.unit == "mL" and line.quantity > 0 for line in dispensing_totals(plan))
    water = plan_taper(
        "clonazepam",
        "0.5 mg/day",
        StrategyName.GUIDELINE,
        products=ProductChoice(dilution=(0.5, 10.0), syringe_step_ml=0.1),
    )
    (dilution,) = preparations(water)
    assert "ask your pharmacist" in dilution.keeps and not dilution.source
    out = tmp_path / "h.pdf"
    outcome = invoke_benzokit(
        [
            "plan",
            "taper",
            "clonazepam",
            "--from",
            "0.5 mg/day",
            "--dilution",
            "0.5mg in 10ml",
            "--syringe-step",
            "0.1ml",
            "--pdf",
            str(out),
        ]
    )
    assert outcome.exit_code == 0 and out.stat().st_size > 0
    assert "PREPARATION" in outcome.stdout and "To dispense" in outcome.stdout


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--suspension", "0mg/ml"], "--suspension"),
        (["--dilution", "0.3mg in 10ml"], "--dilution"),
        (["--dilution", "0.5mg in 10ml", "--syringe-step", "6ml"], "--syringe-step"),
        (["--liquid", "--syringe-step", "5ml"], "--syringe-step"),
        (["--suspension", "lots"], "--suspension"),
        (["--final-dose", "1.5"], "--final-dose"),
    ],
)
def test_bad_product_input_exits_2_naming_the_option(args: list[str], option: str) -> None:
    outcome = invoke_benzokit(["plan", "taper", "clonazepam", "--from", "0.5 mg/day", *args])
    assert outcome.exit_code == 2 and outcome.exception is None
    assert option in normalise(outcome.stdout + outcome.stderr)


def test_an_unknown_product_names_what_is_allowed() -> None:
    outcome = invoke_benzokit(
        ["plan", "taper", "lorazepam", "--from", "1 mg/day", "--suspension", "0.1mg/ml"]
    )
    text = normalise(outcome.stdout + outcome.stderr)
    assert outcome.exit_code == 2 and "--suspension" in text and "none" in text
