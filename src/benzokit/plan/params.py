"""The strategy parameter file (``plan/data/strategies.toml``): paces and limits with their sources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import model_validator

from benzokit.drugs.models import Figure, Source
from benzokit.knowledge import Knowledge, read_document
from benzokit.types import FrozenModel


class GuidelineLimits(FrozenModel):
    """Notes on the guideline limit; the limit itself is ``[taper_pace]`` in ``safety/data/rules.toml``."""

    low_dose_final_step_note: str

    @model_validator(mode="before")
    @classmethod
    def _no_copy_of_the_pace(cls, data: Any) -> Any:
        if isinstance(data, dict) and {"max_reduction_fraction", "window_days"} & set(data):
            raise ValueError(
                "the guideline pace is not set here: adjust [taper_pace] in rules.toml (one entry "
                "that the planner and the safety checks read)"
            )
        return data


class RiskPace(FrozenModel):
    reduction_fraction: Figure
    interval_days: Figure


class DoseBands(FrozenModel):
    low_max_daily_mg: Figure
    moderate_max_daily_mg: Figure


class SwitchParameters(FrozenModel):
    stages: Figure
    stage_days: Figure


class FinalDose(FrozenModel):
    """The final dose a taper stops from, as a fraction of its starting dose (a labelled policy)."""

    fraction_of_start: Figure


class ProductRounding(FrozenModel):
    """How far a cut may shrink for a simpler day of products (a labelled policy)."""

    simpler_day_min_share_of_cut: Figure

    @model_validator(mode="after")
    def _a_share(self) -> ProductRounding:
        value = self.simpler_day_min_share_of_cut.value
        if value is not None and not 0 < value <= 1:
            raise ValueError("'simpler_day_min_share_of_cut' must be above 0 and at most 1")
        return self


class StrategyParameters(FrozenModel):
    schema_version: int
    data_version: str
    sources: dict[str, Source]
    guideline: GuidelineLimits
    risk: dict[str, RiskPace]
    dose_bands: dict[str, DoseBands]
    diazepam_switch: SwitchParameters
    final_dose: FinalDose
    product_rounding: ProductRounding

    def citation(self, figure: Figure) -> str:
        return self.sources[figure.source].citation


def load_strategy_parameters(knowledge: Knowledge | None = None) -> StrategyParameters:
    """The taper strategies' parameters (``strategies.toml``) of ``knowledge`` (default: shipped)."""
    return (knowledge or Knowledge.shipped()).load("strategies.toml", load_strategy_file)


def load_strategy_file(path: Path) -> StrategyParameters:
    """Load and validate a strategy-parameter file; a problem is a :class:`DataError` naming its field."""
    return read_document(path, StrategyParameters)
