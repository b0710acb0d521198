"""A regimen as an hourly dose schedule, the input of the population kernel."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from benzokit.errors import InputError
from benzokit.regimen.events import Route, expand_events
from benzokit.regimen.regimen import Regimen

_ON_THE_HOUR_TOLERANCE_H = 1e-6


def hourly_schedule(regimen: Regimen, hours: int, *, field: str = "regimen") -> NDArray[np.float64]:
    """mg given at the start of each hour 0 .. hours-1. Every dose must fall on a whole hour."""
    if regimen.steady_state:
        raise InputError(
            field, regimen.text, "a regimen starting drug-naive (no steady-state start)"
        )
    events = expand_events(regimen.to_events(float(hours)))
    if any(route is not Route.ORAL for route in events.route):
        raise InputError(field, regimen.text, "oral doses only in population trials")
    hour = np.rint(events.time_h)
    off_grid = np.abs(events.time_h - hour) > _ON_THE_HOUR_TOLERANCE_H
    if off_grid.any():
        raise InputError(
            field, regimen.text,
            f"dose times on whole hours (a dose falls at {events.time_h[off_grid][0]:.2f} h)",
        )  # fmt: skip
    schedule = np.zeros(hours)
    np.add.at(schedule, hour.astype(np.int64), events.amount_mg)
    return schedule
