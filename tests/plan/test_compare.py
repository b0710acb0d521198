"""Strategy comparison: the plan as simulator text, summary rows and PD predictions."""

from __future__ import annotations

import numpy as np
import pytest

from benzokit.plan.api import plan_taper
from benzokit.plan.compare import daily_doses, plan_regimen_text, predict, summary_row
from benzokit.plan.strategies import StrategyName
from benzokit.regimen import expand_events, parse_regimen


def test_the_plan_as_regimen_text_gives_the_same_daily_doses() -> None:
    plan = plan_taper("clonazepam", "1 mg bid", StrategyName.LABEL)
    table = expand_events(parse_regimen(plan_regimen_text(plan)).to_events(plan.total_days * 24.0))
    np.testing.assert_allclose(
        table.daily_totals_mg(plan.total_days), daily_doses(plan, plan.total_days)
    )


def test_summary_row_counts_findings_and_the_largest_cut() -> None:
    plan = plan_taper("clonazepam", "2 mg/day", StrategyName.LABEL)
    row = summary_row(plan)
    assert row["days"] == plan.total_days and row["steps"] == len(plan.steps)
    assert row["largest_cut_fraction"] == pytest.approx(
        0.5
    )  # 0.5 -> 0.25 mg/day, the label's 0.25 mg step
    assert row["warning"] >= 1


def test_a_switch_counts_diazepam_at_the_plan_equivalence() -> None:
    plan = plan_taper("clonazepam", "2 mg/day", StrategyName.DIAZEPAM_SWITCH)
    doses = daily_doses(plan, plan.total_days)
    assert doses[0] == pytest.approx(2.0, rel=0.15)  # the cross-over keeps the total near the start
    assert doses[-1] > 0 and np.all(np.diff(doses) <= 1e-9)


def test_predictions_rank_the_fast_label_taper_above_the_guideline() -> None:
    plans = [
        plan_taper("clonazepam", "2 mg/day", s)
        for s in (StrategyName.LABEL, StrategyName.GUIDELINE)
    ]
    label, guideline = predict(plans, subjects=64)
    assert label.withdrawal_index is not None and guideline.withdrawal_index is not None
    assert label.withdrawal_index.max() > guideline.withdrawal_index.max()
    assert label.withdrawal_band is not None and label.withdrawal_band.shape[0] == 5
