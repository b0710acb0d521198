"""Plans built by hand for the export tests (the planner is not used here)."""

from __future__ import annotations

from datetime import date

from benzokit.drugs.models import ProductForm
from benzokit.plan import Administration, Plan, ProductUse, Step, StepKind
from benzokit.units import ClockTime

TAB = ProductForm.TABLET
ODT = ProductForm.ODT


def tablet(strength: float, quantity: float = 1.0) -> ProductUse:
    return ProductUse(TAB, strength_mg=strength, quantity=quantity)


def odt(strength: float, quantity: float = 1.0) -> ProductUse:
    return ProductUse(ODT, strength_mg=strength, quantity=quantity)


def liquid(volume_ml: float, concentration: float = 2.5) -> ProductUse:
    return ProductUse(ProductForm.LIQUID, concentration_mg_ml=concentration, volume_ml=volume_ml)


def dose(time: str, *products: ProductUse, drug: str = "clonazepam") -> Administration:
    return Administration(drug, ClockTime.parse(time), sum(p.dose_mg for p in products), products)


def clonazepam_taper() -> Plan:
    """12 weeks from Mon 5 Jan 2026: tablets, ODTs, a half tablet, a hold and a liquid step."""
    mixed = dose("20:00", odt(0.25), odt(0.125))  # 0.375 mg
    half_plus = dose("08:00", tablet(0.5, 0.5), odt(0.125))  # 0.375 mg
    steps = (
        Step(0, 14, (dose("08:00", tablet(0.5)), dose("20:00", tablet(0.5)))),
        Step(14, 28, (dose("08:00", tablet(0.5)), mixed)),
        Step(28, 42, (half_plus, mixed)),
        Step(42, 56, (half_plus, mixed), kind=StepKind.HOLD, note="Pause: withdrawal reported"),
        Step(56, 70, (dose("08:00", odt(0.25)), mixed)),
        Step(70, 84, (dose("08:00", liquid(0.1)), dose("20:00", liquid(0.1)))),
    )
    return Plan("clonazepam", "hyperbolic", steps, start_date=date(2026, 1, 5), start_daily_mg=2.0)


def undated_plan() -> Plan:
    """20 days, no start date: 0.5 mg at bedtime, then 0.25 mg (ODT)."""
    steps = (
        Step(0, 10, (dose("22:00", tablet(0.5)),)),
        Step(10, 20, (dose("22:00", odt(0.25)),)),
    )
    return Plan("clonazepam", "linear", steps)


def diazepam_switch() -> Plan:
    """Clonazepam to diazepam over 4 weeks from Mon 2 Mar 2026; step 2 uses both drugs."""
    diazepam_am = dose("08:00", tablet(5.0), drug="diazepam")
    diazepam_pm = dose("20:00", tablet(5.0), drug="diazepam")
    steps = (
        Step(0, 7, (dose("08:00", tablet(0.5)), dose("20:00", tablet(0.5)))),
        Step(7, 14, (dose("08:00", tablet(0.5)), dose("20:00", odt(0.25)), diazepam_pm)),
        Step(14, 28, (diazepam_am, diazepam_pm)),
    )
    return Plan("clonazepam", "diazepam_switch", steps, start_date=date(2026, 3, 2))


ALL_PLANS = {"taper": clonazepam_taper, "undated": undated_plan, "switch": diazepam_switch}
