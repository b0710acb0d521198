"""The planner's entry points: errors name the request's field paths (``benzokit.plan.fields``), never
an adapter's option, and plans use the knowledge base they are given."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benzokit.errors import InputError
from benzokit.knowledge import Knowledge
from benzokit.plan import fields
from benzokit.plan.api import ProductChoice, plan_taper, plan_titration
from benzokit.plan.strategies import Risk, StrategyName

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


def _overlay(tmp_path: Path, replacements: dict[str, str]) -> Knowledge:
    text = Knowledge.shipped().path("strategies.toml").read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text
        text = text.replace(old, new)
    (tmp_path / "strategies.toml").write_text(text, encoding="utf-8")
    return Knowledge(tmp_path)


def test_the_planner_uses_the_knowledge_it_is_given(tmp_path: Path) -> None:
    """A clinic's adjusted strategy file changes the plans made with it, and only those."""
    knowledge = _overlay(
        tmp_path,
        {
            'interval_days = { value = 14, source = "asam2025" }\n[risk.high]': (
                'interval_days = { value = 21, source = "asam2025" }\n[risk.high]'
            ),
            "stages = { value = 4,": "stages = { value = 2,",
        },
    )
    shipped = plan_taper("clonazepam", "1 mg bid", G, risk=Risk.MODERATE)
    adjusted = plan_taper("clonazepam", "1 mg bid", G, risk=Risk.MODERATE, knowledge=knowledge)
    assert shipped.interval_days == 14
    assert adjusted.interval_days == 21
    assert all(s.days >= 21 for s in adjusted.steps[:-1])
    switch = plan_taper("clonazepam", "1 mg bid", StrategyName.DIAZEPAM_SWITCH, knowledge=knowledge)
    assert switch.switch is not None and switch.switch.cross_over_stages == 2
