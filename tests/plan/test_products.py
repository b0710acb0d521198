"""Product feasibility: only doses the real tablets, ODTs or liquid can give, made with the fewest units."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benzokit import load_drug
from benzokit.drugs.models import ProductForm
from benzokit.errors import InputError
from benzokit.plan import fields
from benzokit.plan.products import product_set

CLONAZEPAM = load_drug("clonazepam")
US = product_set(CLONAZEPAM)
US_LIQUID = product_set(CLONAZEPAM, liquid=True)


def test_us_units_follow_the_label() -> None:
    """Tablets 0.5 (scored), 1, 2 mg; ODTs 0.125-2 mg, never split (Klonopin and ODT labels)."""
    pieces = {(u.form, u.strength_mg, u.fraction) for u in US.units}
    assert (ProductForm.TABLET, 0.5, 0.5) in pieces
    assert (ProductForm.TABLET, 1.0, 0.5) not in pieces  # the 1 mg tablet is not scored
    assert all(u.fraction == 1.0 for u in US.units if u.form is ProductForm.ODT)
    assert US.smallest_dose_mg == 0.125


@given(st.integers(min_value=1, max_value=32))
def test_every_multiple_of_the_smallest_odt_up_to_4_mg_is_feasible_and_adds_up(
    eighths: int,
) -> None:
    dose = eighths * 0.125
    assert US.is_feasible(dose)
    assert sum(p.dose_mg for p in US.make(dose)) == pytest.approx(dose)


@given(st.floats(min_value=0.01, max_value=4.0))
def test_at_or_above_never_returns_less(dose: float) -> None:
    above = US.at_or_above(dose)
    assert above is not None and above >= dose - 1e-9 and US.is_feasible(above)


def test_a_dose_between_units_is_not_feasible_without_liquid() -> None:
    assert not US.is_feasible(0.1)
    with pytest.raises(InputError, match="can make"):
        US.make(0.1)
    assert US_LIQUID.is_feasible(0.1)
    (liquid,) = US_LIQUID.make(0.1)
    assert liquid.form is ProductForm.LIQUID and liquid.volume_ml == pytest.approx(
        0.04
    )  # 2.5 mg/mL drops


def test_fewest_units_then_whole_tablets() -> None:
    assert [(p.form, p.strength_mg, p.quantity) for p in US.make(2.0)] == [
        (ProductForm.TABLET, 2.0, 1.0)
    ]
    made = US.make(0.25)
    assert len(made) == 1 and made[0].dose_mg == 0.25


def test_restricting_to_strengths_that_do_not_exist_is_refused() -> None:
    with pytest.raises(InputError) as info:
        product_set(CLONAZEPAM, strengths_mg=(0.75,))
    assert info.value.field == fields.PRODUCTS_STRENGTHS and "0.125" in info.value.allowed
