"""The 2025 joint guideline's pace, reproduced by the guideline-paced strategies.

Source: Joint Clinical Practice Guideline on Benzodiazepine Tapering (ASAM, AAFP, AAN, AAPA, AANP, AAPP,
ACMT, ACOG, AGS, APA), J Gen Intern Med 2025, doi 10.1007/s11606-025-09499-2, recommendation 6: initial
reductions of 5-10 %, usually not more than 25 % every 2 weeks; 5-10 % every 2-4 weeks is typical.

benzokit's moderate and high risk paces sit inside the typical range (10 % / 14 days and 5 % / 28 days);
its low-risk pace (20 % / 14 days, Maudsley 2024) is faster than "typical" but within the 25 % limit.
With a liquid the products do not round the cuts, so the plan shows the pace itself.
"""

from __future__ import annotations

import itertools

import pytest

from benzokit.plan.api import ProductChoice, plan_taper
from benzokit.plan.strategies import Risk, StrategyName

TYPICAL = (0.05, 0.10)  # ASAM 2025: 5-10 % ...
INTERVAL_DAYS = (14, 28)  # ... every 2-4 weeks
LIMIT, WINDOW_DAYS = 0.25, 14  # never more than 25 % every 2 weeks


def _cuts(risk: Risk, strategy: StrategyName) -> list[tuple[int, float, float]]:
    plan = plan_taper(
        "clonazepam", "2 mg/day", strategy, risk=risk, products=ProductChoice(liquid=True)
    )
    doses = [(0, 2.0)] + [(s.start_day, s.daily_dose_mg()) for s in plan.steps]
    return [(day, a, b) for (_, a), (day, b) in itertools.pairwise(doses)]


@pytest.mark.parametrize("strategy", [StrategyName.GUIDELINE, StrategyName.HYPERBOLIC])
@pytest.mark.parametrize("risk", [Risk.MODERATE, Risk.HIGH])
def test_moderate_and_high_risk_cuts_are_the_typical_5_to_10_percent_every_2_to_4_weeks(
    risk: Risk, strategy: StrategyName
) -> None:
    cuts = _cuts(risk, strategy)
    # whole micrograms round each cut by at most 1 µg per dose: a hair under 5 % is the same pace
    assert all(1 - b / a <= TYPICAL[1] + 1e-9 for _, a, b in cuts)
    if strategy is StrategyName.GUIDELINE:
        assert all(1 - b / a >= TYPICAL[0] - 0.01 for _, a, b in cuts[:-1])
    days = [day for day, _, _ in cuts]
    assert all(INTERVAL_DAYS[0] <= b - a <= INTERVAL_DAYS[1] for a, b in itertools.pairwise(days))


@pytest.mark.parametrize("strategy", [StrategyName.GUIDELINE, StrategyName.HYPERBOLIC])
@pytest.mark.parametrize("risk", list(Risk))
def test_no_14_day_window_loses_more_than_a_quarter_of_the_dose(
    risk: Risk, strategy: StrategyName
) -> None:
    plan = plan_taper(
        "clonazepam", "2 mg/day", strategy, risk=risk, products=ProductChoice(liquid=True)
    )
    spans = [(-1, 0, 2.0)] + [(s.start_day, s.end_day, s.daily_dose_mg()) for s in plan.steps]
    for earlier, later in itertools.combinations(spans, 2):
        if later[0] - (earlier[1] - 1) <= WINDOW_DAYS:
            assert 1 - later[2] / earlier[2] <= LIMIT + 1e-9
    assert not [f for f in plan.findings if f.code == "BZK-TAPER-RATE"]
