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
from enum import StrEnum
from functools import cached_property, lru_cache

from benzokit.drugs.models import Drug, Product, ProductForm
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


class LiquidKind(StrEnum):
    """Where a liquid comes from: a marketed solution, a pharmacy's suspension, or a tablet in water."""

    SOLUTION = "oral solution"
    SUSPENSION = "compounded suspension"
    DILUTION = "tablet dispersed in water"


@dataclass(frozen=True, slots=True)
class Liquid:
    """A liquid measured by oral syringe: ``concentration_mg_ml`` in steps of ``resolution_ml``.

    ``max_dose_mg`` limits one administration (a dilution: the tablet dissolved, ``tablet_mg`` in
    ``volume_ml``); ``keeps`` says how long it keeps and ``source`` where that is from (empty: no
    source, ask the pharmacist); ``vehicle`` and ``storage`` describe a compounded suspension.
    """

    concentration_mg_ml: float
    resolution_ml: float
    kind: LiquidKind = LiquidKind.SOLUTION
    max_dose_mg: float | None = None
    tablet_mg: float | None = None
    volume_ml: float | None = None
    beyond_use_days: float | None = None
    vehicle: str = ""
    storage: str = ""
    source: str = ""

    @property
    def step_ug(self) -> int:
        return round(self.concentration_mg_ml * self.resolution_ml * UG_PER_MG)

    @property
    def max_dose_ug(self) -> int | None:
        return None if self.max_dose_mg is None else round(self.max_dose_mg * UG_PER_MG)

    def makes(self, ug: int) -> bool:
        """Whether one administration of ``ug`` µg can be measured from this liquid."""
        limit = self.max_dose_ug
        return ug > 0 and ug % self.step_ug == 0 and (limit is None or ug <= limit)


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
        if self.liquid is not None and self.liquid.max_dose_ug is None:
            return None
        extra = self.liquid.max_dose_ug if self.liquid is not None else 0
        return max(self._solid_table) + (extra or 0)

    def is_feasible(self, dose_mg: float) -> bool:
        return self._recipe(round(dose_mg * UG_PER_MG)) is not None

    def make(self, dose_mg: float) -> tuple[ProductUse, ...]:
        """The products for one administration of ``dose_mg``: solids alone if they can make it (fewest
        distinct products, then fewest units), else the liquid alone, else solids and the liquid."""
        recipe = self._recipe(round(dose_mg * UG_PER_MG))
        if recipe is None:
            raise InputError(
                "dose", f"{dose_mg:g} mg", f"a dose the chosen {self.drug} products can make"
            )
        solid_ug, liquid_ug = recipe
        uses = _group(self._solid_table[solid_ug])
        if liquid_ug and self.liquid is not None:
            volume_ml = round(liquid_ug / UG_PER_MG / self.liquid.concentration_mg_ml, 6)
            uses += (
                ProductUse(
                    ProductForm.LIQUID,
                    concentration_mg_ml=self.liquid.concentration_mg_ml,
                    volume_ml=volume_ml,
                    preparation=str(self.liquid.kind),
                    made_from_tablet_mg=self.liquid.tablet_mg,
                ),
            )
        return uses

    def _recipe(self, ug: int) -> tuple[int, int] | None:
        """(solid µg, liquid µg) making one administration of ``ug`` µg, or None."""
        return _recipe(self, ug)

    def needs_liquid(self, dose_mg: float) -> bool:
        return round(dose_mg * UG_PER_MG) not in self._solid_table

    def __hash__(self) -> int:
        return hash((self.drug, self.units, self.liquid, self.max_units))


@lru_cache(maxsize=65536)
def _recipe(products: ProductSet, ug: int) -> tuple[int, int] | None:
    if ug in products._solid_table:
        return ug, 0
    liquid = products.liquid
    if liquid is None or ug <= 0:
        return None
    if liquid.makes(ug):
        return 0, ug
    combos = [
        (solid, ug - solid)
        for solid in products._solid_table
        if 0 < solid < ug and liquid.makes(ug - solid)
    ]
    if not combos:
        return None
    # the fewest solid units, then the least liquid
    return min(combos, key=lambda c: (_cost(products._solid_table[c[0]]), c[1]))


def _unit_order(unit: Unit) -> tuple[float, int, float]:
    return (-unit.strength_mg * unit.fraction, unit.form is ProductForm.ODT, unit.fraction)


def _cost(combo: tuple[Unit, ...]) -> tuple[int, int, int, int]:
    """What a pharmacist prefers: fewest distinct products (a strength of a form, split or not), then
    fewest units, then fewest split pieces, then fewest ODTs."""
    distinct = len({(u.form, u.strength_mg) for u in combo})
    return (
        distinct,
        len(combo),
        sum(u.split for u in combo),
        sum(u.form is ProductForm.ODT for u in combo),
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
    resolution_ml: float | None = None,
    max_units: int = DEFAULT_MAX_UNITS,
    suspension_mg_ml: float | None = None,
    dilution: tuple[float, float] | None = None,
) -> ProductSet:
    """The products of ``drug`` to plan with. ``strengths_mg`` restricts solid strengths (must exist).

    At most one liquid, measured by oral syringe in steps of ``resolution_ml`` (default 0.01 mL):
    ``liquid`` (the market's lowest-strength marketed solution, else its sourced compounded
    suspension), ``suspension_mg_ml`` (a compounded suspension at the prescriber's concentration) or
    ``dilution`` (a tablet of ``(strength mg, volume mL)`` dispersed in water, one dose measured from it).
    """
    chosen = [
        p
        for p in drug.products
        if p.form is not ProductForm.LIQUID and (market is None or _in_market(p.market, market))
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
    step_ml = _syringe_step(resolution_ml)
    chosen_liquid = _chosen_liquid(
        drug,
        market,
        liquid=liquid,
        suspension_mg_ml=suspension_mg_ml,
        dilution=dilution,
        step_ml=step_ml,
    )
    if not units and chosen_liquid is None:
        markets = sorted({p.market for p in drug.products if p.form is not ProductForm.LIQUID})
        raise InputError(
            fields.PRODUCTS_MARKET,
            market,
            f"a market with {drug.name} tablets or capsules ({', '.join(markets)}), "
            "or the liquid (the oral solution)",
        )
    unique = tuple(dict.fromkeys(units))
    return ProductSet(drug.name, unique, chosen_liquid, max_units)


def _in_market(product_market: str, market: str) -> bool:
    """'EU/UK' is sold in the EU and in the UK."""
    return market in (product_market, *product_market.split("/"))


def _syringe_step(resolution_ml: float | None) -> float:
    if resolution_ml is None:
        return DEFAULT_SYRINGE_RESOLUTION_ML
    if not (math.isfinite(resolution_ml) and resolution_ml > 0):
        raise InputError(
            fields.PRODUCTS_SYRINGE_STEP,
            f"{resolution_ml:g} mL",
            "the smallest graduation of the oral syringe in mL, above 0 (e.g. 0.01 or 0.1)",
        )
    return resolution_ml


def _chosen_liquid(
    drug: Drug,
    market: str | None,
    *,
    liquid: bool,
    suspension_mg_ml: float | None,
    dilution: tuple[float, float] | None,
    step_ml: float,
) -> Liquid | None:
    asked = [liquid, suspension_mg_ml is not None, dilution is not None]
    if sum(asked) > 1:
        raise InputError(
            fields.PRODUCTS_LIQUID,
            "more than one liquid",
            "one liquid: the marketed liquid, a compounded suspension or a tablet dispersed in water",
        )
    if suspension_mg_ml is not None:
        return _suspension(drug, suspension_mg_ml, step_ml)
    if dilution is not None:
        return _dilution(drug, market, dilution, step_ml)
    if not liquid:
        return None
    liquids = [p for p in drug.products if p.form is ProductForm.LIQUID]
    local = [p for p in liquids if market is None or _in_market(p.market, market)]
    ranked = sorted(
        local or liquids,
        key=lambda p: (p.preparation != "commercial", p.concentration_mg_ml or math.inf),
    )
    if not ranked:
        raise InputError(
            fields.PRODUCTS_LIQUID,
            "yes",
            f"a drug with a liquid product ({drug.name} has none here)",
        )
    return _liquid_of(ranked[0], step_ml, drug)


def _liquid_of(product: Product, step_ml: float, drug: Drug) -> Liquid:
    concentration = product.concentration_mg_ml or 0.0
    if product.preparation == "compounded":
        days = product.beyond_use_days.value if product.beyond_use_days else None
        source = drug.sources[product.source].citation if product.source in drug.sources else ""
        return Liquid(
            concentration,
            step_ml,
            LiquidKind.SUSPENSION,
            beyond_use_days=days,
            vehicle=product.vehicle,
            storage=product.storage,
            source=source if days else "",
        )
    return Liquid(concentration, step_ml, LiquidKind.SOLUTION)


def _suspension(drug: Drug, concentration_mg_ml: float, step_ml: float) -> Liquid:
    """A compounded suspension at the prescriber's concentration; its keeping data only where a
    source studied that concentration."""
    if not (math.isfinite(concentration_mg_ml) and concentration_mg_ml > 0):
        raise InputError(
            fields.PRODUCTS_SUSPENSION,
            f"{concentration_mg_ml:g} mg/mL",
            "a concentration above 0 mg/mL, e.g. 0.1mg/ml",
        )
    studied = [p for p in drug.products if p.preparation == "compounded"]
    if not studied:
        raise InputError(
            fields.PRODUCTS_SUSPENSION,
            f"{concentration_mg_ml:g} mg/mL",
            f"a drug with a sourced compounded suspension ({drug.name} has none in the knowledge "
            "base); use --dilution (a tablet in water) or the marketed liquid",
        )
    same = [p for p in studied if p.concentration_mg_ml == concentration_mg_ml]
    if same:
        return _liquid_of(same[0], step_ml, drug)
    return Liquid(concentration_mg_ml, step_ml, LiquidKind.SUSPENSION, vehicle=studied[0].vehicle)


def _dilution(
    drug: Drug, market: str | None, dilution: tuple[float, float], step_ml: float
) -> Liquid:
    """One tablet of ``dilution[0]`` mg dispersed in ``dilution[1]`` mL of water; a dose is measured
    from it (at most the whole tablet)."""
    tablet_mg, volume_ml = dilution
    strengths = sorted(
        {
            s
            for p in drug.products
            if p.form in (ProductForm.TABLET, ProductForm.ODT)
            and (market is None or _in_market(p.market, market))
            for s in p.strengths_mg
        }
    )
    if tablet_mg not in strengths:
        listed = ", ".join(f"{s:g}" for s in strengths) or "none"
        raise InputError(
            fields.PRODUCTS_DILUTION,
            f"{tablet_mg:g} mg tablet",
            f"a {drug.name} tablet strength of this market ({listed} mg)",
        )
    if not (math.isfinite(volume_ml) and volume_ml > 0):
        raise InputError(
            fields.PRODUCTS_DILUTION,
            f"{volume_ml:g} mL",
            "a volume of water above 0 mL, e.g. 10 mL",
        )
    if step_ml > volume_ml:
        raise InputError(
            fields.PRODUCTS_SYRINGE_STEP,
            f"{step_ml:g} mL",
            f"a syringe step at most the {volume_ml:g} mL the tablet is dispersed in",
        )
    return Liquid(
        tablet_mg / volume_ml,
        step_ml,
        LiquidKind.DILUTION,
        max_dose_mg=tablet_mg,
        tablet_mg=tablet_mg,
        volume_ml=volume_ml,
    )
