"""Published taper schedules, reproduced or compared stage by stage (issue 10, item 4).

Each table below is copied from its source, named in its docstring. Where benzokit's plan differs from
the table, the test says how and why; the differences are the point of benzokit's checker (the 2025
joint guideline's pace) and of its product rules, so they are asserted, not hidden.

The Ashton Manual's clonazepam schedules (2002, "Slow withdrawal schedules") and a Maudsley hyperbolic
clonazepam table could not be read from any source reachable while this was written, so they are not
reproduced here; the label's panic taper is in tests/cli/test_cli_tapers.py and the joint guideline's
pace in tests/plan/test_asam_pace_reference.py.
"""

from __future__ import annotations

import itertools

import pytest

from benzokit.plan.api import ProductChoice, plan_taper
from benzokit.plan.model import Plan
from benzokit.plan.strategies import StrategyName

# Nardi AE et al. 2010, J Clin Psychopharmacol (panic disorder, >= 3 years on clonazepam, n = 73;
# clinical-facts.md section 5): clonazepam 0.5 mg less every 2 weeks down to 1 mg/day, then 0.25 mg
# less every week. From 2 mg/day: (daily mg, days).
NARDI_2010_FROM_2_MG = ((1.5, 14), (1.0, 14), (0.75, 7), (0.5, 7), (0.25, 7))

# Scottish Government 2024, "Quality prescribing for benzodiazepines and z-drugs: a guide for
# improvement 2024 to 2027", reducing, stopping and switching: reduction schedules (the worked
# example: lorazepam 1 mg twice daily switched to diazepam, then reduced). Rows: (morning, night) as
# (drug, mg); the table's own last column is the total in diazepam mg at 1 mg lorazepam = 10 mg
# diazepam (the Ashton equivalence, benzokit's `ashton2002`).
NHS_SCOTLAND_LORAZEPAM_SWITCH = (
    (("lorazepam", 1.0), ("lorazepam", 1.0), 20),  # starting dose
    (("lorazepam", 1.0), ("diazepam", 10.0), 20),  # step 1
    (("diazepam", 10.0), ("diazepam", 10.0), 20),  # step 2
)
NHS_SCOTLAND_DIAZEPAM_TOTALS = tuple(range(19, 0, -1))  # steps 3-21: 1 mg less each step, then stop
LORAZEPAM_TO_DIAZEPAM_MG = 10.0  # the table's equivalence (Ashton 2002)


def _nardi_plan() -> Plan:
    steps = ", ".join(f"{mg} mg/day x {days} days" for mg, days in NARDI_2010_FROM_2_MG)
    return plan_taper("clonazepam", "1 mg bid", StrategyName.CUSTOM, custom_steps=steps)


def test_the_nardi_2010_schedule_is_reproduced_step_by_step() -> None:
    plan = _nardi_plan()
    assert [s.daily_dose_mg() for s in plan.steps] == pytest.approx(
        [mg for mg, _ in NARDI_2010_FROM_2_MG]
    )
    assert [s.end_day - s.start_day for s in plan.steps] == [d for _, d in NARDI_2010_FROM_2_MG]


def test_the_nardi_2010_schedule_is_faster_than_the_2025_guideline_and_says_so() -> None:
    """Difference, by design: Nardi's cuts of 0.5 mg from 1.5 mg/day and of 0.25 mg a week below
    1 mg/day fall more than 25 % within 14 days, the 2025 joint guideline's limit (published 15 years
    later). benzokit keeps the prescriber's schedule and reports each such fall with its numbers; and
    its last step, a stop from 0.25 mg/day where a 0.125 mg ODT exists, is reported as abrupt."""
    plan = _nardi_plan()
    rate = {(f.day, f.from_mg, f.to_mg) for f in plan.findings if f.code == "BZK-TAPER-RATE"}
    assert rate == {(14, 1.5, 1.0), (35, 1.0, 0.5), (42, 0.75, 0.25)}
    assert all(
        f.fraction is not None and f.fraction > 0.25
        for f in plan.findings
        if f.code == "BZK-TAPER-RATE"
    )
    stop = [f for f in plan.findings if f.code == "BZK-ABRUPT-STOP"]
    assert len(stop) == 1 and stop[0].from_mg == 0.25 and stop[0].to_mg == 0.0
    # the first cut, 2 -> 1.5 mg/day (25 % from today's dose), is within the limit: no finding on it
    assert not [f for f in plan.findings if f.code == "BZK-TAPER-RATE" and f.day == 0]


def _switch(products: ProductChoice) -> Plan:
    return plan_taper(
        "lorazepam",
        "1 mg bid",
        StrategyName.DIAZEPAM_SWITCH,
        equivalence_source="ashton2002",
        products=products,
    )


def _equivalents(by_drug: dict[str, float]) -> float:
    return by_drug.get("lorazepam", 0.0) * LORAZEPAM_TO_DIAZEPAM_MG + by_drug.get("diazepam", 0.0)


@pytest.mark.parametrize("liquid", [False, True])
def test_the_lorazepam_switch_keeps_the_total_as_the_nhs_scotland_table_does(liquid: bool) -> None:
    """Same: at the table's equivalence every cross-over stage gives 20 mg diazepam equivalents, as
    the table's steps 1 and 2 do, and the diazepam phase starts from 20 mg/day. Different: benzokit
    crosses over in four stages (a quarter of the dose at a time, the planner's sourced default)
    where the table uses two (one dose at a time)."""
    table_totals = {total for *_, total in NHS_SCOTLAND_LORAZEPAM_SWITCH}
    assert table_totals == {20}
    plan = _switch(ProductChoice(liquid=liquid))
    crossing = list(
        itertools.takewhile(lambda s: "lorazepam" in s.daily_dose_by_drug(), plan.steps)
    )
    assert len(crossing) == 3  # then diazepam alone: four stages in all
    assert [_equivalents(s.daily_dose_by_drug()) for s in crossing] == pytest.approx([20.0] * 3)
    first_diazepam = plan.steps[len(crossing)].daily_dose_by_drug()
    assert first_diazepam == pytest.approx({"diazepam": 20.0})


def test_the_diazepam_reduction_cuts_a_fraction_where_the_nhs_table_cuts_a_fixed_mg() -> None:
    """Different, by design: the table takes 1 mg off at every step, so its cuts grow from 5 % of the
    dose (20 -> 19 mg) to 50 % (2 -> 1 mg) and 100 % (1 mg -> stop). benzokit cuts a fraction of the
    current dose (the 2025 joint guideline's 5-10 %, here with the diazepam liquid so no product
    rounds it): no cut is larger than 10 % of the dose it cuts, the mg cuts shrink, and the stop is
    made from a small final dose (at most 5 % of the start) rather than from 1 mg of 20."""
    table = (20, *NHS_SCOTLAND_DIAZEPAM_TOTALS)
    table_fractions = [1 - b / a for a, b in itertools.pairwise(table)]
    assert table_fractions[0] == pytest.approx(0.05) and table_fractions[-1] == pytest.approx(0.5)

    plan = _switch(ProductChoice(liquid=True))
    diazepam = [
        s.daily_dose_by_drug()["diazepam"]
        for s in plan.steps
        if "lorazepam" not in s.daily_dose_by_drug()
    ]
    cuts = list(itertools.pairwise(diazepam))
    assert all(1 - b / a <= 0.10 + 1e-6 for a, b in cuts)
    mg_cuts = [a - b for a, b in cuts]
    assert mg_cuts[-1] < mg_cuts[0] / 5
    assert diazepam[-1] <= 0.05 * 20.0 + 1e-9
    final = [f for f in plan.findings if f.code == "PLAN-FINAL-STEP"]
    assert final and final[0].severity == "info"
