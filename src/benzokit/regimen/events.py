"""Dose events in the NONMEM/mrgsolve tradition: time, amount, route, interval, additional doses."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from benzokit.errors import InputError


class Route(StrEnum):
    """Where a dose enters: the gut (first-order absorption, bioavailability) or a vein."""

    ORAL = "oral"
    IV_BOLUS = "iv_bolus"


@dataclass(frozen=True, slots=True)
class DoseEvent:
    """``amount_mg`` at ``time_h``, repeated ``additional`` more times every ``interval_h`` hours."""

    time_h: float
    amount_mg: float
    route: Route = Route.ORAL
    interval_h: float = 0.0
    additional: int = 0

    def __post_init__(self) -> None:
        if not np.isfinite(self.time_h) or self.time_h < 0:
            raise InputError("time_h", self.time_h, "a dose time of 0 h or later")
        if not np.isfinite(self.amount_mg) or self.amount_mg <= 0:
            raise InputError("amount_mg", self.amount_mg, "a dose amount greater than 0 mg")
        if self.additional < 0:
            raise InputError("additional", self.additional, "0 or more additional doses")
        if self.additional > 0 and self.interval_h <= 0:
            raise InputError(
                "interval_h", self.interval_h, "a positive interval for repeated doses"
            )

    def times_h(self) -> NDArray[np.float64]:
        """Every administration time of this event, in hours."""
        return self.time_h + self.interval_h * np.arange(self.additional + 1, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class EventTable:
    """Expanded, time-sorted single administrations: one row per dose."""

    time_h: NDArray[np.float64]
    amount_mg: NDArray[np.float64]
    route: tuple[Route, ...]

    def __len__(self) -> int:
        return int(self.time_h.size)

    def for_route(self, route: Route) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        mask = np.array([r is route for r in self.route], dtype=bool)
        return self.time_h[mask], self.amount_mg[mask]

    def daily_totals_mg(self, days: int) -> NDArray[np.float64]:
        """Total dose given on each of the first ``days`` days (day 0 starts at t = 0)."""
        day = np.floor(self.time_h / 24.0).astype(np.int64)
        keep = day < days
        totals = np.bincount(day[keep], weights=self.amount_mg[keep], minlength=days)
        return totals.astype(np.float64)


def expand_events(events: Iterable[DoseEvent]) -> EventTable:
    """Expand compact events (with interval and additional doses) into one row per administration."""
    times: list[NDArray[np.float64]] = []
    amounts: list[NDArray[np.float64]] = []
    routes: list[Route] = []
    for event in events:
        t = event.times_h()
        times.append(t)
        amounts.append(np.full(t.size, event.amount_mg))
        routes.extend([event.route] * t.size)
    if not times:
        return EventTable(np.empty(0), np.empty(0), ())
    time_h = np.concatenate(times)
    order = np.argsort(time_h, kind="stable")
    return EventTable(
        time_h[order], np.concatenate(amounts)[order], tuple(routes[i] for i in order)
    )
