"""Output time grids."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from benzokit.errors import InputError

MAX_GRID_POINTS = 2_000_000
MAX_DAYS = 3650
"""The longest span benzokit simulates, a single subject or a trial (ten years)."""
_SHORT_RUN_H = 14 * 24.0


@dataclass(frozen=True, slots=True)
class TimeGrid:
    """Evenly spaced output times from 0 to ``end_h`` inclusive, every ``step_h`` hours."""

    end_h: float
    step_h: float

    def __post_init__(self) -> None:
        if not np.isfinite(self.end_h) or self.end_h <= 0:
            raise InputError("simulation length", self.end_h, "a length greater than 0 h")
        if not np.isfinite(self.step_h) or self.step_h <= 0:
            raise InputError("time step", self.step_h, "a step greater than 0 h")
        if self.end_h / self.step_h > MAX_GRID_POINTS:
            raise InputError(
                "time step", self.step_h, f"a step giving at most {MAX_GRID_POINTS:,} output points"
            )

    @classmethod
    def days(cls, days: float, step_h: float | None = None) -> TimeGrid:
        """A grid over ``days`` days; default step 0.05 h up to two weeks, 0.5 h beyond."""
        end_h = days * 24.0
        if step_h is None:
            step_h = 0.05 if end_h <= _SHORT_RUN_H else 0.5
        return cls(end_h, step_h)

    def times_h(self) -> NDArray[np.float64]:
        count = int(np.floor(self.end_h / self.step_h + 1e-9)) + 1
        times = np.arange(count, dtype=np.float64) * self.step_h
        if times[-1] < self.end_h - 1e-9:
            times = np.append(times, self.end_h)
        return times
