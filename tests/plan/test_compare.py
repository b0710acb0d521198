"""Strategy comparison: summary rows, PD predictions, and the population bands computed in memory."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from benzokit.compare import (
    coinciding,
    daily_doses,
    distinct_products,
    population_bands,
    predict,
    summary_row,
)
from benzokit.plan.api import plan_taper
from benzokit.plan.model import Plan
from benzokit.plan.strategies import StrategyName
from benzokit.regimen import expand_events
from benzokit.sim.trial import run_trial
from benzokit.sim.trial.spec import parse_trial_spec
from benzokit.sim.trial.summary import quantile_bands


def test_the_plan_as_a_regimen_gives_the_daily_doses_compare_draws() -> None:
    plan = plan_taper("clonazepam", "1 mg bid", StrategyName.LABEL)
    events = expand_events(plan.to_regimen().to_events(plan.total_days * 24.0))
    np.testing.assert_allclose(
        events.daily_totals_mg(plan.total_days), daily_doses(plan, plan.total_days)
    )


def test_summary_row_counts_findings_and_the_largest_cut() -> None:
    plan = plan_taper("clonazepam", "2 mg/day", StrategyName.LABEL)
    row = summary_row(plan)
    assert row["days"] == plan.total_days and row["steps"] == len(plan.steps)
    assert row["largest_cut_fraction"] == pytest.approx(
        0.5
    )  # 0.5 -> 0.25 mg/day, the label's 0.25 mg step
    assert row["warning"] >= 1


def test_the_summary_gives_the_last_dose_the_products_and_the_predicted_peaks() -> None:
    """Issue 10, item 6: per strategy the duration, largest relative cut (from today's dose), the
    last dose before the stop, the distinct products and the peak withdrawal index (typical and the
    population's 95th percentile)."""
    plans = [
        plan_taper("clonazepam", "1 mg/day", s)
        for s in (StrategyName.LABEL, StrategyName.GUIDELINE)
    ]
    predictions = predict(plans, subjects=32, labels=["fast", "slow"])
    fast, slow = (summary_row(p, q) for p, q in zip(plans, predictions, strict=True))
    assert fast["strategy"] == "fast" and predictions[1].strategy == "slow"
    label_doses = [1.0] + [s.daily_dose_mg() for s in plans[0].steps]  # from today's 1 mg/day
    assert label_doses[1] == pytest.approx(0.75)  # the first cut counts
    assert fast["largest_cut_fraction"] == pytest.approx(
        max(1 - b / a for a, b in itertools.pairwise(label_doses))
    )
    assert fast["last_daily_mg"] == pytest.approx(plans[0].steps[-1].daily_dose_mg())
    assert fast["distinct_products"] == len(distinct_products(plans[0])) >= 1
    assert fast["peak_withdrawal_index"] > slow["peak_withdrawal_index"] > 0
    assert fast["peak_withdrawal_index_p95"] >= fast["peak_withdrawal_index"] * 0.5
    switch = plan_taper("clonazepam", "1 mg/day", StrategyName.DIAZEPAM_SWITCH)
    assert summary_row(switch)["peak_withdrawal_index"] is None


def test_the_same_plan_twice_is_one_group() -> None:
    plan = plan_taper("clonazepam", "1 mg/day", StrategyName.GUIDELINE)
    other = plan_taper("clonazepam", "1 mg/day", StrategyName.LABEL)
    predictions = predict([plan, plan, other], subjects=16, labels=["a", "b", "c"])
    assert coinciding(predictions) == [[0, 1], [2]]


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


def _prescription(plan: Plan) -> str:
    """The plan as the regimen text of a trial spec (written here, so the reference stands alone)."""
    return ", then ".join(
        " and ".join(f"{a.dose_mg:.6g} mg at {a.time}" for a in step.doses) + f" x {step.days} days"
        for step in plan.steps
    )


def _bands_of_a_trial_on_disk(
    plans: list[Plan], days: int, subjects: int, seed: int, folder: Path
) -> dict[str, np.ndarray]:
    """The former way: a generated trial spec, run into a folder, the bands read back from Parquet."""
    spec = parse_trial_spec(
        {
            "trial": {
                "name": "plan-comparison",
                "drug": plans[0].drug,
                "subjects": subjects,
                "seed": seed,
                "days": days,
            },
            "strategies": [{"name": p.strategy, "regimen": _prescription(p)} for p in plans],
            "outputs": {"plots": False, "band_subjects": subjects},
        },
        source="test",
    )
    run_trial(spec, folder)
    bands = quantile_bands(folder, tuple(p.strategy for p in plans))
    return {name: series["daily_max_withdrawal_index"] for name, series in bands.items()}


def test_the_bands_in_memory_equal_those_of_the_trial_on_disk(tmp_path: Path) -> None:
    plans = [
        plan_taper("clonazepam", "1 mg bid", s)
        for s in (StrategyName.LABEL, StrategyName.HYPERBOLIC)
    ]
    days, subjects, seed = max(p.total_days for p in plans) + 7, 40, 7
    in_memory = population_bands(plans, days, subjects=subjects, seed=seed)
    on_disk = _bands_of_a_trial_on_disk(plans, days, subjects, seed, tmp_path / "trial")
    assert list(in_memory) == list(on_disk) == ["label", "hyperbolic"]
    for name, band in on_disk.items():
        assert band.shape == (5, days) and np.ptp(band[:, days // 2]) > 0  # a band, not a line
        np.testing.assert_array_equal(in_memory[name], band)


def test_a_switch_alone_gets_its_doses_and_no_pd_prediction() -> None:
    plan = plan_taper("clonazepam", "2 mg/day", StrategyName.DIAZEPAM_SWITCH)
    (switch,) = predict([plan])
    assert (switch.occupancy, switch.withdrawal_index, switch.withdrawal_band) == (None, None, None)
    assert switch.daily_dose_mg.size == plan.total_days + 28 and switch.daily_dose_mg[0] > 0
    assert population_bands([], 10) == {}
