"""Virtual-population settings: variability, covariate distributions, adherence.

Defaults come from ``drugs/data/population.toml`` (labelled assumptions) and, for IIV on clearance, from
the drug file when a population PK study gives it; a trial spec may override any of them.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from benzokit.drugs.models import Drug
from benzokit.knowledge import Knowledge, read_toml

PK_PARAMETERS = (
    "clearance", "central_volume", "peripheral_volume", "intercompartmental_clearance", "absorption_rate",
)  # fmt: skip


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Adherence(_Strict):
    """Per-dose probabilities of a missed dose and of a doubled dose."""

    missed_fraction: float = Field(0.0, ge=0.0, le=1.0)
    doubled_fraction: float = Field(0.0, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _at_most_one(self) -> Self:
        if self.missed_fraction + self.doubled_fraction > 1.0:
            raise ValueError("missed_fraction + doubled_fraction must be at most 1")
        return self


class Covariates(_Strict):
    """Weight ~ Normal(mean, sd) clipped to [min, max]; age ~ Uniform(min, max); sex ~ Bernoulli."""

    weight_mean_kg: float = Field(gt=0)
    weight_sd_kg: float = Field(ge=0)
    weight_min_kg: float = Field(ge=0.5)
    weight_max_kg: float = Field(le=350)
    age_min_y: float = Field(ge=0)
    age_max_y: float = Field(le=120)
    female_fraction: float = Field(ge=0, le=1)
    comedication_prevalence: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.weight_min_kg > self.weight_max_kg:
            raise ValueError("weight_min_kg must not exceed weight_max_kg")
        if self.age_min_y > self.age_max_y:
            raise ValueError("age_min_y must not exceed age_max_y")
        for name, fraction in self.comedication_prevalence.items():
            if not 0 <= fraction <= 1:
                raise ValueError(f"comedication_prevalence.{name} must be a fraction from 0 to 1")
        return self


class PopulationSettings(_Strict):
    """Everything that makes virtual subjects differ."""

    iiv_cv: dict[str, float]
    clearance_central_volume_correlation: float = Field(ge=-0.99, le=0.99)
    bioavailability_iov_cv: float = Field(ge=0, le=2)
    covariates: Covariates
    adherence: Adherence

    @model_validator(mode="after")
    def _known_parameters(self) -> Self:
        unknown = sorted(set(self.iiv_cv) - set(PK_PARAMETERS))
        if unknown:
            raise ValueError(
                f"iiv_cv names unknown parameter(s) {unknown}; allowed: {list(PK_PARAMETERS)}"
            )
        for name, cv in self.iiv_cv.items():
            if not 0 <= cv <= 2:
                raise ValueError(f"iiv_cv.{name} must be a coefficient of variation from 0 to 2")
        return self


def _population_defaults(knowledge: Knowledge | None = None) -> dict[str, Any]:
    return (knowledge or Knowledge.shipped()).load("population.toml", read_toml)


def _value(table: dict[str, Any], key: str) -> float:
    return float(table[key]["value"])


def default_settings(drug: Drug, knowledge: Knowledge | None = None) -> dict[str, object]:
    """The default settings for ``drug`` as a plain dict (a trial spec's [population] overrides keys),
    from ``population.toml`` of ``knowledge`` (default: shipped)."""
    raw = _population_defaults(knowledge)
    iiv = {name: _value(raw["iiv_cv"], name) for name in PK_PARAMETERS}
    if drug.yukawa2002 is not None:
        iiv["clearance"] = drug.yukawa2002.iiv_clearance_cv.require("yukawa2002.iiv_clearance_cv")
    covariates = {key: _value(raw["covariates"], key) for key in raw["covariates"]}
    adherence = {key: _value(raw["adherence"], key) for key in raw["adherence"]}
    return {
        "iiv_cv": iiv,
        "clearance_central_volume_correlation": _value(
            raw["correlation"], "clearance_central_volume"
        ),
        "bioavailability_iov_cv": _value(raw["occasion"], "bioavailability_cv"),
        "covariates": covariates,
        "adherence": adherence,
    }


def build_settings(
    drug: Drug,
    overrides: dict[str, object] | None = None,
    knowledge: Knowledge | None = None,
) -> PopulationSettings:
    """Defaults for ``drug`` (from ``knowledge``) updated by ``overrides`` (nested dicts merge),
    validated."""
    merged = default_settings(drug, knowledge)
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}  # type: ignore[dict-item]
        else:
            merged[key] = value
    return PopulationSettings.model_validate(merged)
