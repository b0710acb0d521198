"""The strategy parameter file (``plan/data/strategies.toml``): paces and limits with their sources."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from benzokit.drugs.loader import read_toml, validation_to_data_error
from benzokit.drugs.models import Figure, Source


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GuidelineLimits(_Frozen):
    max_reduction_fraction: Figure
    window_days: Figure
    low_dose_final_step_note: str


class RiskPace(_Frozen):
    reduction_fraction: Figure
    interval_days: Figure


class DoseBands(_Frozen):
    low_max_daily_mg: Figure
    moderate_max_daily_mg: Figure


class SwitchParameters(_Frozen):
    stages: Figure
    stage_days: Figure


class StrategyParameters(_Frozen):
    schema_version: int
    data_version: str
    sources: dict[str, Source]
    guideline: GuidelineLimits
    risk: dict[str, RiskPace]
    dose_bands: dict[str, DoseBands]
    diazepam_switch: SwitchParameters

    def citation(self, figure: Figure) -> str:
        return self.sources[figure.source].citation


@cache
def load_strategy_parameters() -> StrategyParameters:
    path = Path(str(resources.files("benzokit.plan").joinpath("data/strategies.toml")))
    try:
        return StrategyParameters.model_validate(read_toml(path))
    except ValidationError as exc:
        raise validation_to_data_error(path, exc) from exc
