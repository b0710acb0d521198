"""Taper strategies: each proposes the ideal next daily dose; the engine makes it from real products.

- ``label``: the label's fixed decrement (clonazepam panic: 0.125 mg bid less every 3 days);
- ``guideline``: a fraction of the *current* dose every interval (2025 joint guideline; pace by risk);
- ``hyperbolic``: equal decrements of GABA-A occupancy (Horowitz & Taylor 2019; Maudsley 2024), each cut
  also capped at the pace's fraction of the *current* dose (whichever cut is smaller), so the mg steps
  shrink as the dose falls;
- ``diazepam-switch`` and ``custom`` are assembled in ``taper.py``.
"""

from __future__ import annotations

import math
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
    """Hyperbolic: occupancy(d) = d / (d + d50) at steady state; each step lowers it by
    ``occupancy_step`` *and* cuts at most ``reduction_fraction`` of the current dose.

    The next dose is the larger of the two candidates (the smaller cut), so where equal occupancy steps
    would be large relative cuts (low doses under a near-linear anchor, high doses under a saturating
    one) the pace's fraction of the current dose governs and the mg cuts shrink with the dose.
    """

    half_occupancy_daily_mg: float
    occupancy_step: float
    reduction_fraction: float
    interval_days: int
    name: str = "hyperbolic"

    @classmethod
    def over_range(
        cls,
        start_daily_mg: float,
        final_daily_mg: float,
        reduction_fraction: float,
        d50_mg: float,
        interval_days: int,
    ) -> EqualOccupancySteps:
        """Steps dividing the occupancy from ``start_daily_mg`` down to ``final_daily_mg`` (mg/day)
        into as many equal parts as the pace (``reduction_fraction`` of the current dose per cut)
        needs to cover the same range."""
        cuts = max(
            1,
            math.ceil(math.log(final_daily_mg / start_daily_mg) / math.log1p(-reduction_fraction)),
        )
        span = occupancy(start_daily_mg, d50_mg) - occupancy(final_daily_mg, d50_mg)
        return cls(d50_mg, span / cuts, reduction_fraction, interval_days)

    def occupancy_next(self, current_daily_mg: float) -> float:
        """The dose (mg/day) one equal occupancy step below ``current_daily_mg``."""
        target = occupancy(current_daily_mg, self.half_occupancy_daily_mg) - self.occupancy_step
        if target <= 0:
            return 0.0
        return self.half_occupancy_daily_mg * target / (1.0 - target)

    def ideal_next(self, current_daily_mg: float) -> float:
        capped = current_daily_mg * (1.0 - self.reduction_fraction)
        return max(self.occupancy_next(current_daily_mg), capped)

    def occupancy_binds(self, current_daily_mg: float) -> bool:
        """Whether the equal occupancy step (not the pace cap) sets the cut from ``current_daily_mg``."""
        return self.occupancy_next(current_daily_mg) > current_daily_mg * (
            1.0 - self.reduction_fraction
        )


def occupancy(daily_mg: float, d50_mg: float) -> float:
    """Steady-state receptor occupancy of a daily dose, hyperbolic in dose."""
    return daily_mg / (daily_mg + d50_mg)
