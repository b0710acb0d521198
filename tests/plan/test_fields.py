"""The planner names the request's field paths (``benzokit.plan.fields``), never an adapter's option."""

from __future__ import annotations

from typing import Any

import pytest

from benzokit.errors import InputError
from benzokit.plan import fields
from benzokit.plan.api import ProductChoice, plan_taper, plan_titration
from benzokit.plan.strategies import StrategyName

G = StrategyName.GUIDELINE
TAPER_CASES: dict[str, tuple[str, StrategyName, dict[str, Any], str]] = {
    "from-text": ("banana", G, {}, fields.TAPER_FROM),
    "from-every-8-hours": ("1 mg q8h", G, {}, fields.TAPER_FROM),
    "from-not-makeable": ("0.3 mg/day", G, {}, fields.TAPER_FROM),
    "target-above-from": ("2 mg/day", G, {"target_daily_mg": 3.0}, fields.TAPER_TARGET),
    "interval": ("2 mg/day", G, {"interval_days": 0}, fields.TAPER_INTERVAL),
    "reduction": ("2 mg/day", G, {"reduction_fraction": 1.5}, fields.TAPER_REDUCTION),
    "hold": ("2 mg/day", G, {"hold_days_after_cut": -1}, fields.TAPER_HOLD),
    "occupancy-set": (
        "2 mg/day",
        StrategyName.HYPERBOLIC,
        {"occupancy_set": "nosuch"},
        fields.TAPER_OCCUPANCY_SET,
    ),
    "equivalence": (
        "2 mg/day",
        StrategyName.DIAZEPAM_SWITCH,
        {"equivalence_source": "nosuch"},
        fields.TAPER_EQUIVALENCE,
    ),
    "no-steps": ("2 mg/day", StrategyName.CUSTOM, {}, fields.TAPER_STEPS),
    "second-step-rises": (
        "2 mg/day",
        StrategyName.CUSTOM,
        {"custom_steps": "1 mg/day x 7 days, 1.5 mg/day x 7 days"},
        fields.taper_step(1),
    ),
    "strengths": (
        "2 mg/day",
        G,
        {"products": ProductChoice(strengths_mg=(0.75,))},
        fields.PRODUCTS_STRENGTHS,
    ),
    "market": ("2 mg/day", G, {"products": ProductChoice(market="UK")}, fields.PRODUCTS_MARKET),
}


@pytest.mark.parametrize("case", list(TAPER_CASES))
def test_taper_errors_name_the_request_field(case: str) -> None:
    from_text, strategy, options, field = TAPER_CASES[case]
    with pytest.raises(InputError) as caught:
        plan_taper("clonazepam", from_text, strategy, **options)
    assert caught.value.field == field
    assert "--" not in caught.value.allowed, "the allowed text speaks no option flags"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"indication": "insomnia"}, fields.TITRATION_INDICATION),
        ({"indication": "panic", "target_daily_mg": 6.0}, fields.TITRATION_TARGET),
    ],
)
def test_titration_errors_name_the_request_field(options: dict[str, Any], field: str) -> None:
    indication = options.pop("indication")
    with pytest.raises(InputError) as caught:
        plan_titration("clonazepam", indication, **options)
    assert caught.value.field == field


def test_a_step_path_counts_from_zero_and_reads_back() -> None:
    assert fields.taper_step(0) == "taper.steps[0]"
    assert fields.step_index("taper.steps[12]") == 12
    assert fields.step_index(fields.TAPER_STEPS) is None
    assert fields.step_index("taper.steps[x]") is None
