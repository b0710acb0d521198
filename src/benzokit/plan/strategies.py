"""Taper strategies: each proposes the ideal next daily dose; the engine makes it from real products.

- ``label``: the label's fixed decrement (clonazepam panic: 0.125 mg bid less every 3 days);
- ``guideline``: a fraction of the *current* dose every interval (2025 joint guideline; pace by risk);
- ``hyperbolic``: equal decrements of GABA-A occupancy (Horowitz & Taylor 2019; Maudsley 2024), so the mg
  steps shrink as the dose falls;
- ``diazepam-switch`` and ``custom`` are assembled in ``taper.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class StrategyName(StrEnum):
    LABEL = "label"
    GUIDELINE = "guideline"
    HYPERBOLIC = "hyperbolic"
    DIAZEPAM_SWITCH = "diazepam-switch"
    CUSTOM = "custom"


class Risk(StrEnum):
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


class Pace(Protocol):
    """What a single-drug strategy tells the engine."""

    @property
    def name(self) -> str: ...

    @property
    def interval_days(self) -> int: ...

    def ideal_next(self, current_daily_mg: float) -> float:
        """The next daily dose (mg) the strategy would choose; the engine never cuts more than this."""
        ...


@dataclass(frozen=True, slots=True)
class FixedDecrement:
    step_daily_mg: float
    interval_days: int
    name: str = "label"

    def ideal_next(self, current_daily_mg: float) -> float:
        return max(0.0, current_daily_mg - self.step_daily_mg)


@dataclass(frozen=True, slots=True)
class FractionOfCurrent:
    reduction_fraction: float
    interval_days: int
    name: str = "guideline"

    def ideal_next(self, current_daily_mg: float) -> float:
        return current_daily_mg * (1.0 - self.reduction_fraction)


@dataclass(frozen=True, slots=True)
class EqualOccupancySteps:
    """occupancy(d) = d / (d + d50) at steady state; each step lowers it by ``occupancy_step``."""

    half_occupancy_daily_mg: float
    occupancy_step: float
    interval_days: int
    name: str = "hyperbolic"

    @classmethod
    def from_first_cut(
        cls, start_daily_mg: float, first_cut_fraction: float, d50_mg: float, interval_days: int
    ) -> EqualOccupancySteps:
        """Steps sized so that the first one is ``first_cut_fraction`` of the starting dose."""
        start = occupancy(start_daily_mg, d50_mg)
        after = occupancy(start_daily_mg * (1.0 - first_cut_fraction), d50_mg)
        return cls(d50_mg, start - after, interval_days)

    def ideal_next(self, current_daily_mg: float) -> float:
        target = occupancy(current_daily_mg, self.half_occupancy_daily_mg) - self.occupancy_step
        if target <= 0:
            return 0.0
        return self.half_occupancy_daily_mg * target / (1.0 - target)


def occupancy(daily_mg: float, d50_mg: float) -> float:
    """Steady-state receptor occupancy of a daily dose, hyperbolic in dose."""
    return daily_mg / (daily_mg + d50_mg)
