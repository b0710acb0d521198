"""Product feasibility: only doses the real tablets, ODTs or liquid can give, made with the fewest units."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benzokit import load_drug
from benzokit.drugs.models import ProductForm
from benzokit.errors import InputError
from benzokit.plan import fields
from benzokit.plan.daily import simplest_daily
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


def test_a_dose_between_units_is_not_feasible_without_liquid() -> None:
    assert not US.is_feasible(0.1)
    with pytest.raises(InputError, match="can make"):
        US.make(0.1)
    assert US_LIQUID.is_feasible(0.1)
    (liquid,) = US_LIQUID.make(0.1)
    # no marketed liquid in the US: the compounded 0.1 mg/mL suspension (Allen & Erickson 1996)
    assert liquid.form is ProductForm.LIQUID and liquid.volume_ml == pytest.approx(1.0)
    assert liquid.preparation == "compounded suspension"


def test_the_eu_liquid_is_the_marketed_drops_and_the_uk_one_the_lower_strength_solution() -> None:
    eu = product_set(CLONAZEPAM, market="EU", liquid=True).liquid
    uk = product_set(CLONAZEPAM, market="UK", liquid=True).liquid
    assert eu is not None and eu.concentration_mg_ml == 2.5
    assert uk is not None and uk.concentration_mg_ml == 0.1 and uk.kind == "oral solution"


def test_a_dose_prefers_one_product_over_three() -> None:
    """The pharmacist's order: fewest distinct products first, then fewest units (0.5 mg tablet +
    0.25 ODT + 0.125 ODT for 0.875 mg is what a pharmacist avoids)."""
    for eighths in range(1, 33):
        made = US.make(eighths * 0.125)
        distinct = {(p.form, p.strength_mg) for p in made}
        assert len(distinct) <= 3
    # 0.75 mg: one and a half 0.5 mg tablets (one product), not 0.5 mg tablet + 0.25 mg ODT
    assert len({(p.form, p.strength_mg) for p in US.make(0.75)}) == 1
    assert len({(p.form, p.strength_mg) for p in US.make(0.875)}) <= 2


def test_a_tablet_in_water_measures_any_syringe_step_up_to_the_whole_tablet() -> None:
    water = product_set(CLONAZEPAM, dilution=(0.5, 10.0), resolution_ml=0.1)
    assert water.liquid is not None and water.liquid.concentration_mg_ml == pytest.approx(0.05)
    assert water.is_feasible(0.005) and water.is_feasible(0.495)
    assert water.is_feasible(1.005)  # 1 mg tablet + 0.1 mL of the mixture
    (part,) = water.make(0.3)
    assert part.volume_ml == pytest.approx(6.0) and part.preparation == "tablet dispersed in water"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"suspension_mg_ml": 0.0}, fields.PRODUCTS_SUSPENSION),
        ({"dilution": (0.3, 10.0)}, fields.PRODUCTS_DILUTION),
        ({"dilution": (0.5, 0.0)}, fields.PRODUCTS_DILUTION),
        ({"dilution": (0.5, 10.0), "resolution_ml": 20.0}, fields.PRODUCTS_SYRINGE_STEP),
        ({"suspension_mg_ml": 0.1, "resolution_ml": 0.0}, fields.PRODUCTS_SYRINGE_STEP),
        ({"suspension_mg_ml": 0.1, "liquid": True}, fields.PRODUCTS_LIQUID),
    ],
)
def test_bad_liquids_name_their_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as info:
        product_set(CLONAZEPAM, **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field and info.value.allowed


def test_a_drug_without_a_sourced_suspension_is_an_unknown_product() -> None:
    with pytest.raises(InputError) as info:
        product_set(load_drug("lorazepam"), suspension_mg_ml=0.1)
    assert info.value.field == fields.PRODUCTS_SUSPENSION and "none" in info.value.allowed


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


def test_a_cut_may_be_smaller_for_a_simpler_day_of_products() -> None:
    """1.375 mg/day over two doses needs the 0.5 mg tablet and a 0.125 mg ODT; 1.5 mg/day is three
    halves of the 0.5 mg tablet a dose: one product. Within the range the simpler day wins; alone, the
    given dose stays."""
    assert simplest_daily(US, 1.375, 1.5, 2) == 1.5
    products_of = {(p.form, p.strength_mg) for dose in (0.75, 0.75) for p in US.make(dose)}
    assert products_of == {(ProductForm.TABLET, 0.5)}
    assert simplest_daily(US, 1.375, 1.4, 2) == 1.375
    assert simplest_daily(US_LIQUID, 1.375, 1.5, 2) == 1.375  # a liquid makes any dose from one


def test_only_a_liquid_can_be_compounded_and_only_a_compounded_one_has_a_keeping_time() -> None:
    from pydantic import ValidationError

    from benzokit.drugs.models import Product

    with pytest.raises(ValidationError, match="only a liquid"):
        Product(
            form="tablet", market="US", strengths_mg=(1.0,), source="x", preparation="compounded"
        )
    with pytest.raises(ValidationError, match="compounded liquid"):
        Product(form="liquid", market="US", concentration_mg_ml=1.0, source="x", vehicle="syrup")
