"""What every benzokit figure shares: the time axis, the disclaimer and how the file is written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np
from matplotlib.figure import Figure

from benzokit._disclaimer import DISCLAIMER
from benzokit.types import FloatArray
from benzokit.units import HOURS_PER_DAY

DAYS_AXIS_FROM_H = 72.0


@dataclass(frozen=True, slots=True)
class TimeAxis:
    """The time axis of a figure: days when the run is longer than 3 days, hours otherwise."""

    hours_per_unit: float
    label: str

    @classmethod
    def for_times(cls, time_h: FloatArray) -> TimeAxis:
        if time_h[-1] > DAYS_AXIS_FROM_H:
            return cls(HOURS_PER_DAY, "time (days)")
        return cls(1.0, "time (h)")

    def x(self, time_h: FloatArray | float) -> FloatArray:
        return np.asarray(time_h, dtype=np.float64) / self.hours_per_unit

    def when(self, time_h: float) -> str:
        """A time as read on this axis, e.g. 'day 94.7' or '12.5 h'."""
        if self.hours_per_unit == HOURS_PER_DAY:
            return f"day {time_h / HOURS_PER_DAY:.1f}"
        return f"{time_h:.1f} h"


def add_disclaimer(fig: Figure) -> None:
    """The decision-support statement along the bottom of ``fig``."""
    fig.text(0.01, 0.01, DISCLAIMER, fontsize=6, wrap=True, color="#555555")


def save(fig: Figure, path: Path, *, bottom: float = 0.06) -> Path:
    """Lay out above the disclaimer's strip (``bottom``, a fraction of the height), write ``path``
    and close the figure."""
    import matplotlib.pyplot as plt

    try:
        fig.tight_layout(rect=(0, bottom, 1, 1))
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
    finally:
        plt.close(fig)
    return path
