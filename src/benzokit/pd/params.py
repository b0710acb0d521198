"""The PD parameter file (``drugs/data/pd.toml``): occupancy anchors, effect, tolerance models."""

from __future__ import annotations

from functools import cache
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from benzokit.drugs.loader import _data_dir, read_toml, validation_to_data_error
from benzokit.drugs.models import Figure, Source
from benzokit.errors import UnknownNameError


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OccupancySet(_Frozen):
    """A human anchor: ``anchor_daily_dose_mg`` of ``anchor_drug`` occupies ``anchor_occupancy``."""

    description: str
    anchor_drug: str
    anchor_daily_dose_mg: Figure
    anchor_occupancy: Figure


class EffectParameters(_Frozen):
    emax: Figure
    occupancy_at_half_effect: Figure


class ModeratorParameters(_Frozen):
    description: str
    source: str
    half_life_days: Figure
    max_fraction_lost: Figure


class TurnoverFeedbackParameters(_Frozen):
    description: str
    source: str
    half_life_days: Figure
    response_turnover_half_life_h: Figure
    feedback_exponent: Figure


class ToleranceParameters(_Frozen):
    moderator: ModeratorParameters
    turnover_feedback: TurnoverFeedbackParameters


class AnalysisParameters(_Frozen):
    withdrawal_threshold: Figure


class PDParameters(_Frozen):
    schema_version: Literal[1]
    data_version: str
    default_occupancy_set: str
    sources: dict[str, Source]
    occupancy_sets: dict[str, OccupancySet]
    effect: EffectParameters
    analysis: AnalysisParameters
    tolerance: ToleranceParameters

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        if self.default_occupancy_set not in self.occupancy_sets:
            raise ValueError(f"default_occupancy_set {self.default_occupancy_set!r} is not defined")
        return self

    def occupancy_set(self, name: str | None) -> OccupancySet:
        key = name or self.default_occupancy_set
        if key not in self.occupancy_sets:
            raise UnknownNameError("occupancy set", key, self.occupancy_sets)
        return self.occupancy_sets[key]


@cache
def load_pd_parameters() -> PDParameters:
    path = _data_dir() / "pd.toml"
    try:
        return PDParameters.model_validate(read_toml(path))
    except ValidationError as exc:
        raise validation_to_data_error(path, exc) from exc
