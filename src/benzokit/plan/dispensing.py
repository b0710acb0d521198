"""What to dispense for a plan and how to prepare its liquids, for the handout and the prescriber.

Totals: whole tablets (or ODTs, capsules) per product, each split piece counted as part of a tablet and
the sum rounded up; liquids in mL. Preparation: a compounded suspension as its source made it (vehicle,
how long it keeps, how to store it) when the plan's concentration is the one studied; a tablet dispersed
in water as the patient makes it, with no keeping time (no source: "ask your pharmacist").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from benzokit.drugs.loader import load_drug
from benzokit.drugs.models import Product, ProductForm
from benzokit.knowledge import Knowledge
from benzokit.plan.model import Plan, ProductUse

SUSPENSION = "compounded suspension"
DILUTION = "tablet dispersed in water"
ASK_PHARMACIST = "ask your pharmacist"


@dataclass(frozen=True, slots=True)
class DispenseLine:
    """One product over the whole plan: ``quantity`` tablets (whole) or mL of liquid."""

    drug: str
    product: str
    quantity: float
    unit: str

    def describe(self) -> str:
        return f"{self.quantity:g} {self.unit} of {self.drug} {self.product}"


@dataclass(frozen=True, slots=True)
class Preparation:
    """How to make a liquid and how long it keeps (``source`` empty: no source, ask the pharmacist)."""

    title: str
    how_to_make: str
    keeps: str
    source: str


def dispensing_totals(plan: Plan) -> tuple[DispenseLine, ...]:
    """The plan's products and how much of each, whole tablets rounded up, liquids in mL."""
    amounts: dict[tuple[str, str, str], float] = {}
    for step in plan.steps:
        for dose in step.doses:
            for use in dose.products:
                name, unit, per_day = _counted(use)
                key = (dose.drug, name, unit)
                amounts[key] = amounts.get(key, 0.0) + per_day * step.days
    return tuple(
        DispenseLine(drug, name, _rounded(total, unit), unit)
        for (drug, name, unit), total in amounts.items()
    )


def _counted(use: ProductUse) -> tuple[str, str, float]:
    if use.form is ProductForm.LIQUID:
        what = use.preparation or "liquid"
        name = f"{use.concentration_mg_ml:g} mg/mL {what}"
        if use.preparation == DILUTION and use.made_from_tablet_mg:
            # one tablet is dispersed for each dose
            return f"{use.made_from_tablet_mg:g} mg tablet (for the water mixture)", "tablets", 1.0
        return name, "mL", use.volume_ml or 0.0
    form = "ODT" if use.form is ProductForm.ODT else str(use.form)
    return f"{use.strength_mg:g} mg {form}", f"{form}s", use.quantity or 0.0


def _rounded(total: float, unit: str) -> float:
    return round(total, 2) if unit == "mL" else float(math.ceil(total - 1e-9))


def preparations(plan: Plan, knowledge: Knowledge | None = None) -> tuple[Preparation, ...]:
    """How to make each liquid the plan uses that is not a marketed solution."""
    found: dict[tuple[str, float, str], ProductUse] = {}
    for step in plan.steps:
        for dose in step.doses:
            for use in dose.products:
                if use.preparation in (SUSPENSION, DILUTION):
                    found.setdefault(
                        (dose.drug, use.concentration_mg_ml or 0.0, use.preparation or ""), use
                    )
    return tuple(
        _suspension(drug, use, knowledge, plan.total_days)
        if kind == SUSPENSION
        else _dilution(drug, use)
        for (drug, _, kind), use in found.items()
    )


def _suspension(
    drug_name: str, use: ProductUse, knowledge: Knowledge | None, plan_days: int
) -> Preparation:
    drug = load_drug(drug_name, knowledge)
    concentration = use.concentration_mg_ml or 0.0
    studied: list[Product] = [
        p
        for p in drug.products
        if p.preparation == "compounded" and p.concentration_mg_ml == concentration
    ]
    title = f"{drug_name} {concentration:g} mg/mL oral suspension (made by the pharmacy)"
    if not studied or studied[0].beyond_use_days is None:
        return Preparation(
            title,
            "The pharmacy makes the suspension from tablets. Shake well before each dose and "
            "measure it with the oral syringe.",
            f"No published stability data at this concentration: {ASK_PHARMACIST} how long it "
            "keeps and how to store it.",
            "",
        )
    product = studied[0]
    days = product.beyond_use_days.value if product.beyond_use_days else None
    batches = (
        f" The plan lasts {plan_days} days: the pharmacy makes it in batches."
        if days is not None and plan_days > days
        else ""
    )
    return Preparation(
        title,
        f"The pharmacy makes it from {drug_name} tablets in {product.vehicle}. Shake well before "
        "each dose and measure it with the oral syringe.",
        f"Keeps up to {days:g} days (use-by date on the label), stored {product.storage}.{batches}",
        drug.sources[product.source].citation,
    )


def _dilution(drug_name: str, use: ProductUse) -> Preparation:
    tablet = use.made_from_tablet_mg or 0.0
    concentration = use.concentration_mg_ml or 0.0
    volume = tablet / concentration if concentration else 0.0
    return Preparation(
        f"{drug_name}: a {tablet:g} mg tablet in {volume:g} mL of water",
        f"For each dose: put one {tablet:g} mg tablet in exactly {volume:g} mL of water, let it "
        "fall apart and stir or shake until evenly cloudy, then at once draw up the volume of your "
        "dose with the oral syringe and take it. The mixture holds "
        f"{concentration:g} mg in each mL.",
        f"Make it fresh for each dose; {ASK_PHARMACIST} what to do with the rest and whether it "
        "may be kept (no published stability data).",
        "",
    )
