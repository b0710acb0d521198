"""Any text for the custom steps or the starting dose gives a plan or an InputError, never another error.

Issue 9: ``--steps "1.33 mg/day x 14 days"`` (a dose the tablets cannot make) used to escape as a bare
ValueError from the product splitter.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benzokit.errors import InputError
from benzokit.plan import fields
from benzokit.plan.api import ProductChoice, plan_taper
from benzokit.plan.strategies import StrategyName

_DOSE_WORDS = st.sampled_from(["mg/day", "mg / day", "mg", "mg/d", "", "ug/day"])
_NUMBERS = st.one_of(
    st.floats(min_value=0, max_value=10, allow_nan=False).map(lambda x: f"{x:.3g}"),
    st.sampled_from(["0", "1.33", "1.2.3", ".5", "007", "1e3", "-1", "99999999999"]),
)
_STEP = st.one_of(
    st.builds(
        lambda n, unit, days: f"{n} {unit} x {days} days",
        _NUMBERS,
        _DOSE_WORDS,
        st.integers(min_value=-2, max_value=60),
    ),
    st.builds(lambda days: f"hold x {days} days", st.integers(min_value=0, max_value=30)),
    st.text(max_size=20),
)
_STEPS_TEXT = st.lists(_STEP, min_size=0, max_size=4).map(", ".join)
_FROM_TEXT = st.one_of(
    st.builds(lambda n, unit: f"{n} {unit}", _NUMBERS, _DOSE_WORDS),
    st.builds(
        lambda n, freq: f"{n} mg {freq}",
        _NUMBERS,
        st.sampled_from(["bid", "tid", "qd", "q8h", "at 08:00", "at 25:00", "x 3 days"]),
    ),
    st.text(max_size=25),
)


def _plan_or_input_error(from_text: str, steps_text: str | None, strategy: StrategyName) -> None:
    try:
        plan = plan_taper(
            "clonazepam",
            from_text,
            strategy,
            custom_steps=steps_text,
            products=ProductChoice(liquid=False),
        )
    except InputError as error:
        assert error.field, "an InputError names its field"
        return
    assert plan.steps


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_STEPS_TEXT)
def test_custom_step_text_gives_a_plan_or_an_input_error(steps_text: str) -> None:
    _plan_or_input_error("1 mg bid", steps_text, StrategyName.CUSTOM)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_FROM_TEXT, st.sampled_from(list(StrategyName)))
def test_from_text_gives_a_plan_or_an_input_error(from_text: str, strategy: StrategyName) -> None:
    _plan_or_input_error(from_text, "0.5 mg/day x 14 days", strategy)


@pytest.mark.parametrize(
    "steps_text", ["1.33 mg/day x 14 days", "1 mg/day x 7 days, 0.3 mg/day x 7 days"]
)
def test_a_step_the_products_cannot_make_names_the_step(steps_text: str) -> None:
    with pytest.raises(InputError) as caught:
        plan_taper("clonazepam", "1 mg bid", StrategyName.CUSTOM, custom_steps=steps_text)
    assert caught.value.field == fields.taper_step(steps_text.count(","))
    assert "products can make" in caught.value.allowed
