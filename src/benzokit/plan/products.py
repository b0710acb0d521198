"""What the real products can give: feasible doses and how to make them.

Units are counted in integer micrograms so that sums are exact. Solid units: each tablet strength whole
and, for scored strengths, its halves (or quarters where the label allows); each ODT strength whole (ODTs
are not split). A liquid gives any multiple of its concentration times the measuring resolution
(e.g. 2.5 mg/mL × 0.01 mL = 0.025 mg). Decomposition uses the fewest units, then whole over split,
tablets over ODTs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

from benzokit.drugs.models import Drug, ProductForm
from benzokit.errors import InputError
from benzokit.plan import fields
from benzokit.plan.model import ProductUse

UG_PER_MG = 1000
DEFAULT_MAX_UNITS = 6
DEFAULT_SYRINGE_RESOLUTION_ML = 0.01


@dataclass(frozen=True, slots=True)
class Unit:
    """One countable piece: ``fraction`` of a ``strength_mg`` tablet or a whole ODT."""

    form: ProductForm
    strength_mg: float
    fraction: float

    @property
    def dose_ug(self) -> int:
        return round(self.strength_mg * self.fraction * UG_PER_MG)

    @property
    def split(self) -> bool:
        return self.fraction < 1.0


@dataclass(frozen=True, slots=True)
class Liquid:
    concentration_mg_ml: float
    resolution_ml: float

    @property
    def step_ug(self) -> int:
        return round(self.concentration_mg_ml * self.resolution_ml * UG_PER_MG)


@dataclass(frozen=True)
class ProductSet:
    """The products a plan may use for one drug (a market, chosen forms, an optional liquid)."""

    drug: str
    units: tuple[Unit, ...]
    liquid: Liquid | None = None
    max_units: int = DEFAULT_MAX_UNITS

    @cached_property
    def _solid_table(self) -> dict[int, tuple[Unit, ...]]:
        """Every solid dose reachable with at most ``max_units`` units -> its preferred decomposition."""
        best: dict[int, tuple[Unit, ...]] = {0: ()}
        frontier: dict[int, tuple[Unit, ...]] = {0: ()}
        for _ in range(self.max_units):
            grown: dict[int, tuple[Unit, ...]] = {}
            for total, combo in frontier.items():
                for unit in self.units:
                    candidate = tuple(sorted((*combo, unit), key=_unit_order))
                    key = total + unit.dose_ug
                    if key not in best or _cost(candidate) < _cost(best[key]):
                        best[key] = candidate
                        grown[key] = candidate
            frontier = grown
        return best

    @property
    def smallest_dose_mg(self) -> float:
        """The smallest non-zero dose one administration can be."""
        candidates = [u.dose_ug for u in self.units]
        if self.liquid is not None:
            candidates.append(self.liquid.step_ug)
        return min(candidates) / UG_PER_MG

    @property
    def largest_dose_ug(self) -> int | None:
        """The largest single administration the products make (µg); None when a liquid has no limit."""
        return None if self.liquid is not None else max(self._solid_table)

    def is_feasible(self, dose_mg: float) -> bool:
        ug = round(dose_mg * UG_PER_MG)
        if ug in self._solid_table:
            return True
        return self.liquid is not None and ug % self.liquid.step_ug == 0

    def at_or_above(self, dose_mg: float) -> float | None:
        """The smallest feasible single dose ≥ ``dose_mg`` (None if above every solid combination)."""
        ug = math.ceil(dose_mg * UG_PER_MG - 1e-6)
        solids = [k for k in self._solid_table if k >= ug]
        best = min(solids) if solids else None
        if self.liquid is not None:
            step = self.liquid.step_ug
            liquid_ug = -(-ug // step) * step
            best = liquid_ug if best is None else min(best, liquid_ug)
        return None if best is None else best / UG_PER_MG

    def make(self, dose_mg: float) -> tuple[ProductUse, ...]:
        """The products for one administration of ``dose_mg`` (solids if they can, else liquid)."""
        ug = round(dose_mg * UG_PER_MG)
        if ug in self._solid_table:
            return _group(self._solid_table[ug])
        if self.liquid is not None and ug % self.liquid.step_ug == 0:
            volume_ml = round(ug / UG_PER_MG / self.liquid.concentration_mg_ml, 6)
            return (
                ProductUse(
                    ProductForm.LIQUID,
                    concentration_mg_ml=self.liquid.concentration_mg_ml,
                    volume_ml=volume_ml,
                ),
            )
        raise InputError(
            "dose", f"{dose_mg:g} mg", f"a dose the chosen {self.drug} products can make"
        )

    def needs_liquid(self, dose_mg: float) -> bool:
        return round(dose_mg * UG_PER_MG) not in self._solid_table


def _unit_order(unit: Unit) -> tuple[float, int, float]:
    return (-unit.strength_mg * unit.fraction, unit.form is ProductForm.ODT, unit.fraction)


def _cost(combo: tuple[Unit, ...]) -> tuple[int, int, int, int]:
    """Fewest units, then fewest split pieces, then fewest ODTs, then fewest distinct products."""
    distinct = len({(u.form, u.strength_mg, u.fraction) for u in combo})
    return (
        len(combo),
        sum(u.split for u in combo),
        sum(u.form is ProductForm.ODT for u in combo),
        distinct,
    )


def _group(combo: tuple[Unit, ...]) -> tuple[ProductUse, ...]:
    """Whole units of one strength collapse into a count; each split piece is its own entry (0.5, 0.25)."""
    uses: list[ProductUse] = []
    wholes: dict[tuple[ProductForm, float], int] = {}
    for unit in combo:
        if unit.split:
            uses.append(ProductUse(unit.form, strength_mg=unit.strength_mg, quantity=unit.fraction))
        else:
            wholes[(unit.form, unit.strength_mg)] = wholes.get((unit.form, unit.strength_mg), 0) + 1
    whole_uses = [
        ProductUse(form, strength_mg=strength, quantity=float(count))
        for (form, strength), count in wholes.items()
    ]
    return tuple(whole_uses + uses)


def product_set(
    drug: Drug,
    *,
    market: str | None = "US",
    forms: tuple[ProductForm, ...] = (ProductForm.TABLET, ProductForm.ODT, ProductForm.CAPSULE),
    liquid: bool = False,
    strengths_mg: tuple[float, ...] | None = None,
    resolution_ml: float = DEFAULT_SYRINGE_RESOLUTION_ML,
    max_units: int = DEFAULT_MAX_UNITS,
) -> ProductSet:
    """The products of ``drug`` to plan with. ``strengths_mg`` restricts solid strengths (must exist)."""
    chosen = [
        p
        for p in drug.products
        if market is None or p.market == market or p.form is ProductForm.LIQUID
    ]
    available = sorted({s for p in chosen if p.form in forms for s in p.strengths_mg})
    if strengths_mg is not None:
        missing = sorted(set(strengths_mg) - set(available))
        if missing:
            listed = ", ".join(f"{s:g}" for s in available)
            raise InputError(
                fields.PRODUCTS_STRENGTHS,
                ", ".join(f"{s:g} mg" for s in missing),
                f"strengths of {drug.name} that exist here: {listed} mg",
            )
    units: list[Unit] = []
    for product in chosen:
        if product.form not in forms:
            continue
        for strength in product.strengths_mg:
            if strengths_mg is not None and strength not in strengths_mg:
                continue
            units.append(Unit(product.form, strength, 1.0))
            if strength in product.scored_strengths_mg:
                fraction = 0.5
                while fraction >= product.smallest_split:
                    units.append(Unit(product.form, strength, fraction))
                    fraction /= 2
    liquid_product = next((p for p in drug.products if p.form is ProductForm.LIQUID), None)
    if liquid and liquid_product is None:
        raise InputError(
            fields.PRODUCTS_LIQUID,
            "yes",
            f"a drug with a liquid product ({drug.name} has none here)",
        )
    if not units and not liquid:
        markets = sorted({p.market for p in drug.products if p.form is not ProductForm.LIQUID})
        raise InputError(
            fields.PRODUCTS_MARKET,
            market,
            f"a market with {drug.name} tablets or capsules ({', '.join(markets)}), "
            "or the liquid (the oral solution)",
        )
    liquid_spec = None
    if liquid and liquid_product is not None and liquid_product.concentration_mg_ml:
        liquid_spec = Liquid(liquid_product.concentration_mg_ml, resolution_ml)
    unique = tuple(dict.fromkeys(units))
    return ProductSet(drug.name, unique, liquid_spec, max_units)
