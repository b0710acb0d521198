"""Typed, validated models of a drug's knowledge-base entry.

Every clinical figure is a :class:`Figure`: a value (and/or a low–high range)
with the key of the source it comes from. The unit of a figure is part of the
field name (``clearance_l_h``). Figures flagged ``verified = false`` come from
secondary material; figures flagged ``placeholder = true`` are not real data
and raise :class:`~benzokit.errors.PlaceholderValueError` when used.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, Self

from pydantic import BaseModel, Field, model_validator

from benzokit.errors import PlaceholderValueError
from benzokit.types import FrozenModel, Sourced


class SourceKind(StrEnum):
    LABEL = "label"
    PEER_REVIEWED = "peer-reviewed"
    GUIDELINE = "guideline"
    REFERENCE = "reference"
    DERIVED = "derived"
    ASSUMPTION = "assumption"


class Source(FrozenModel):
    """A citable origin of figures: a label, a paper, a guideline, or a documented derivation."""

    citation: str = Field(min_length=3)
    kind: SourceKind
    doi: str | None = None
    url: str | None = None
    note: str = ""


class Figure(Sourced):
    """A sourced number: ``value`` and/or a ``low``–``high`` range, never without a source."""

    value: float | None = None
    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.value is None and (self.low is None or self.high is None):
            raise ValueError("a figure needs a 'value' or both 'low' and 'high'")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"'low' ({self.low}) is above 'high' ({self.high})")
        return self

    def require(self, what: str = "figure") -> float:
        """The value, refusing placeholders and range-only figures loudly."""
        if self.placeholder:
            raise PlaceholderValueError(
                "knowledge base",
                what,
                "is a placeholder, not a sourced figure; it cannot be used here",
            )
        if self.value is None:
            raise PlaceholderValueError(
                "knowledge base", what, "has only a range, no single value to compute with"
            )
        return self.value

    @property
    def range_text(self) -> str:
        if self.low is not None and self.high is not None:
            return f"{self.low:g}–{self.high:g}"
        return f"{self.value:g}"


class PKStructure(StrEnum):
    ONE_COMPARTMENT = "one_compartment"
    TWO_COMPARTMENT = "two_compartment"


class PKParameters(FrozenModel):
    """Typical-adult PK parameters (systemic, not apparent: ``clearance_l_h`` is CL, not CL/F)."""

    structure: PKStructure
    reference_weight_kg: Figure
    bioavailability: Figure
    absorption_rate_per_h: Figure
    clearance_l_h: Figure
    central_volume_l: Figure
    intercompartmental_clearance_l_h: Figure | None = None
    peripheral_volume_l: Figure | None = None
    fraction_unbound: Figure
    half_life_h: Figure
    tmax_h: Figure | None = None
    clearance_weight_exponent: Figure | None = None
    volume_per_kg: bool = False
    how_chosen: str = Field(min_length=10)

    @model_validator(mode="after")
    def _structure_complete(self) -> Self:
        two = (self.intercompartmental_clearance_l_h, self.peripheral_volume_l)
        if self.structure is PKStructure.TWO_COMPARTMENT and None in two:
            raise ValueError(
                "a two_compartment model needs 'intercompartmental_clearance_l_h' and 'peripheral_volume_l'"
            )
        if self.structure is PKStructure.ONE_COMPARTMENT and two != (None, None):
            raise ValueError("a one_compartment model must not give peripheral parameters")
        return self


class Metabolite(FrozenModel):
    name: str
    active: bool
    half_life_h: Figure
    note: str = ""


class ProductForm(StrEnum):
    TABLET = "tablet"
    ODT = "odt"
    CAPSULE = "capsule"
    LIQUID = "liquid"


_SPLITS = (1.0, 0.5, 0.25)


class Product(FrozenModel):
    """A marketed form: strengths (solid forms) or a concentration (liquids)."""

    form: ProductForm
    market: str
    strengths_mg: tuple[float, ...] = ()
    concentration_mg_ml: float | None = None
    smallest_split: float = 1.0
    scored_strengths_mg: tuple[float, ...] = ()
    source: str
    note: str = ""
    preparation: Literal["commercial", "compounded"] = "commercial"
    vehicle: str = ""
    beyond_use_days: Figure | None = None
    storage: str = ""

    @model_validator(mode="after")
    def _form_consistent(self) -> Self:
        if self.smallest_split not in _SPLITS:
            raise ValueError(f"'smallest_split' must be one of {_SPLITS} (whole, halves, quarters)")
        if self.form is ProductForm.LIQUID:
            if self.concentration_mg_ml is None or self.concentration_mg_ml <= 0:
                raise ValueError("a liquid needs a positive 'concentration_mg_ml'")
        elif not self.strengths_mg or min(self.strengths_mg) <= 0:
            raise ValueError(f"a {self.form} needs positive 'strengths_mg'")
        if self.form in (ProductForm.ODT, ProductForm.CAPSULE) and self.smallest_split != 1.0:
            raise ValueError(f"a {self.form} is not split: 'smallest_split' must be 1.0")
        if not set(self.scored_strengths_mg) <= set(self.strengths_mg):
            raise ValueError("'scored_strengths_mg' must be among 'strengths_mg'")
        if self.preparation == "compounded" and self.form is not ProductForm.LIQUID:
            raise ValueError("only a liquid is 'compounded' (a pharmacy's suspension)")
        if self.preparation != "compounded" and (self.beyond_use_days or self.vehicle):
            raise ValueError("'beyond_use_days' and 'vehicle' describe a compounded liquid")
        return self


class Population(StrEnum):
    ADULT = "adult"
    PAEDIATRIC = "paediatric"
    ELDERLY = "elderly"


class DoseLimit(FrozenModel):
    """Labelled dosing for one indication and population.

    ``max_age_y`` / ``max_weight_kg`` are the population's labelled upper bounds (years, kg; e.g.
    clonazepam paediatric seizure dosing: "up to 10 years of age or 30 kg"): a patient at or below
    either bound belongs to this population. Used by the safety checker to pick the population.
    """

    indication: str
    population: Population
    source: str
    max_age_y: Figure | None = None
    max_weight_kg: Figure | None = None
    start_daily_mg: Figure | None = None
    start_daily_mg_per_kg: Figure | None = None
    max_start_daily_mg_per_kg: Figure | None = None
    maintenance_daily_mg_per_kg: Figure | None = None
    max_daily_mg: Figure | None = None
    usual_target_daily_mg: Figure | None = None
    step_daily_mg: Figure | None = None
    step_interval_days: Figure | None = None
    doses_per_day: Figure | None = None
    population_note: str = ""


class EquivalenceValue(FrozenModel):
    source: str
    dose_mg: float = Field(gt=0)
    note: str = ""


class Equivalence(FrozenModel):
    """Doses (one per source) held equivalent to ``reference_diazepam_mg`` of diazepam."""

    reference_diazepam_mg: float = Field(gt=0)
    values: tuple[EquivalenceValue, ...] = Field(min_length=1)

    @property
    def range_mg(self) -> tuple[float, float]:
        doses = [v.dose_mg for v in self.values]
        return min(doses), max(doses)


class InteractionEffect(StrEnum):
    EXPOSURE = "exposure"
    UNQUANTIFIED = "unquantified"
    NONE = "none"


class PKInteraction(FrozenModel):
    """A co-medication's effect on this drug's exposure; unquantified effects carry no number."""

    agents: tuple[str, ...] = ()
    agent_classes: tuple[str, ...] = ()
    effect: InteractionEffect
    exposure_ratio: Figure | None = None
    source: str
    note: str = ""

    @model_validator(mode="after")
    def _quantified_iff_ratio(self) -> Self:
        if not self.agents and not self.agent_classes:
            raise ValueError("an interaction names 'agents' or 'agent_classes'")
        if (self.effect is InteractionEffect.EXPOSURE) != (self.exposure_ratio is not None):
            raise ValueError("'exposure_ratio' is given exactly when effect = 'exposure'")
        return self


class YukawaCovariates(FrozenModel):
    """Yukawa et al. 2002 CL/F covariate model (weight and antiepileptic co-medication)."""

    source: str
    population_note: str
    weight_exponent: Figure
    one_antiepileptic_factor: Figure
    two_or_more_coefficient: Figure
    two_or_more_weight_exponent: Figure
    antiepileptics: tuple[str, ...]
    iiv_clearance_cv: Figure


class LabelTaper(FrozenModel):
    """The label's own discontinuation schedule: ``step_daily_mg`` less every ``interval_days``."""

    indication: str
    step_daily_mg: Figure
    interval_days: Figure
    source: str


class ReferenceRange(FrozenModel):
    """A plasma concentration range reported by a laboratory or label (for display, not targets)."""

    label: str
    low_ng_ml: float = Field(ge=0)
    high_ng_ml: float = Field(gt=0)
    source: str
    verified: bool = True


class Drug(FrozenModel):
    """One drug of the knowledge base, as loaded from ``drugs/data/<name>.toml``."""

    schema_version: Literal[1]
    data_version: str
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    display_name: str
    drug_class: Literal["benzodiazepine", "z-drug"]
    sources: dict[str, Source]
    molar_mass_g_mol: Figure
    pk: PKParameters
    metabolites: tuple[Metabolite, ...] = ()
    products: tuple[Product, ...] = Field(min_length=1)
    dose_limits: tuple[DoseLimit, ...] = ()
    equivalence: Equivalence
    pk_interactions: tuple[PKInteraction, ...] = ()
    yukawa2002: YukawaCovariates | None = None
    reference_ranges: tuple[ReferenceRange, ...] = ()
    label_taper: LabelTaper | None = None

    @model_validator(mode="after")
    def _sources_resolve(self) -> Self:
        missing = sorted({key for key in _source_keys(self) if key not in self.sources})
        if missing:
            raise ValueError(
                f"source key(s) {', '.join(missing)} are used but not defined under [sources]"
            )
        return self

    def source_of(self, figure: Figure) -> Source:
        return self.sources[figure.source]

    def strengths_mg(self, form: ProductForm | None = None) -> tuple[float, ...]:
        found = {s for p in self.products if form in (None, p.form) for s in p.strengths_mg}
        return tuple(sorted(found))


def _source_keys(model: BaseModel) -> list[str]:
    """Every ``source`` key referenced anywhere inside a model."""
    keys: list[str] = []
    for name in type(model).model_fields:
        keys.extend(_keys_in(getattr(model, name)))
        if name == "source" and isinstance(getattr(model, name), str):
            keys.append(getattr(model, name))
    return keys


def _keys_in(value: object) -> list[str]:
    if isinstance(value, Source):
        return []
    if isinstance(value, BaseModel):
        return _source_keys(value)
    if isinstance(value, tuple | list):
        return [k for item in value for k in _keys_in(item)]
    if isinstance(value, dict):
        return [k for item in value.values() for k in _keys_in(item)]
    return []
