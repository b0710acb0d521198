"""The field paths of a plan request: what the planner's :class:`~benzokit.errors.InputError` names.

One scheme, dotted like the request it describes: ``<part>.<field>``, a list item as ``<field>[i]`` with
``i`` counted from 0 (as ``plan.steps[i]`` in the exports). The parts:

- ``drug``: the drug's name;
- ``taper.*``: a taper's inputs (:func:`benzokit.plan.api.plan_taper`);
- ``titration.*``: a titration's inputs (:func:`benzokit.plan.api.plan_titration`);
- ``products.*``: the products to plan with (:class:`benzokit.plan.api.ProductChoice`).

Adapters own their words for these: the CLI maps them to its options (``cli/plan.py``), the service to
its form fields. The library never speaks in option flags.
"""

from __future__ import annotations

DRUG = "drug"

TAPER_FROM = "taper.from_dose"
TAPER_STRATEGY = "taper.strategy"
TAPER_TARGET = "taper.target_daily_mg"
TAPER_INTERVAL = "taper.interval_days"
TAPER_REDUCTION = "taper.reduction_fraction"
TAPER_HOLD = "taper.hold_days_after_cut"
TAPER_OCCUPANCY_SET = "taper.occupancy_set"
TAPER_EQUIVALENCE = "taper.equivalence_source"
TAPER_STEPS = "taper.steps"
TAPER_FINAL_DOSE = "taper.final_dose_fraction"

TITRATION_INDICATION = "titration.indication"
TITRATION_TARGET = "titration.target_daily_mg"
TITRATION_WEIGHT = "titration.weight_kg"
TITRATION_PATIENT = "titration.age_y/weight_kg"

PRODUCTS_MARKET = "products.market"
PRODUCTS_LIQUID = "products.liquid"
PRODUCTS_STRENGTHS = "products.strengths_mg"
PRODUCTS_SUSPENSION = "products.suspension_mg_ml"
PRODUCTS_DILUTION = "products.dilution"
PRODUCTS_SYRINGE_STEP = "products.syringe_step_ml"


def taper_step(index: int) -> str:
    """The path of custom step ``index`` (from 0): ``taper.steps[index]``."""
    return f"{TAPER_STEPS}[{index}]"


def step_index(field: str) -> int | None:
    """The index in a ``taper.steps[i]`` path, or None for any other field."""
    prefix = TAPER_STEPS + "["
    if field.startswith(prefix) and field.endswith("]") and field[len(prefix) : -1].isdigit():
        return int(field[len(prefix) : -1])
    return None
