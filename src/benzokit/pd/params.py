"""The PD parameter file (``drugs/data/pd.toml``): occupancy anchors, effect, tolerance models."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import model_validator

from benzokit.drugs.models import Figure, Source
from benzokit.errors import UnknownNameError
from benzokit.knowledge import Knowledge, read_document
from benzokit.types import FrozenModel


class OccupancySet(FrozenModel):
    """A human anchor: ``anchor_daily_dose_mg`` of ``anchor_drug`` occupies ``anchor_occupancy``."""

    description: str
    anchor_drug: str
    anchor_daily_dose_mg: Figure
    anchor_occupancy: Figure


class EffectParameters(FrozenModel):
    emax: Figure
    occupancy_at_half_effect: Figure


class ModeratorParameters(FrozenModel):
    description: str
    source: str
    half_life_days: Figure
    max_fraction_lost: Figure


class TurnoverFeedbackParameters(FrozenModel):
    description: str
    source: str
    half_life_days: Figure
    response_turnover_half_life_h: Figure
    feedback_exponent: Figure


class ToleranceParameters(FrozenModel):
    moderator: ModeratorParameters
    turnover_feedback: TurnoverFeedbackParameters


class AnalysisParameters(FrozenModel):
    withdrawal_threshold: Figure


class PDParameters(FrozenModel):
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


def load_pd_parameters(knowledge: Knowledge | None = None) -> PDParameters:
    """The PD parameters (``pd.toml``) of ``knowledge`` (default: shipped)."""
    return (knowledge or Knowledge.shipped()).load("pd.toml", load_pd_file)


def load_pd_file(path: Path) -> PDParameters:
    """Load and validate a PD parameter file; a problem is a :class:`DataError` naming its field."""
    return read_document(path, PDParameters)
