"""A regimen: consecutive phases, each a repeating pattern of doses, expanded late into events."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from benzokit.errors import InputError
from benzokit.regimen.events import DoseEvent, Route
from benzokit.units import HOURS_PER_DAY, DoseAmount, format_clock

_SAME_TIME_TOLERANCE_H = 1e-9


@dataclass(frozen=True, slots=True)
class Slot:
    """One dose within a phase's repeating period, ``offset_h`` after the period starts."""

    offset_h: float
    dose: DoseAmount


@dataclass(frozen=True, slots=True)
class Phase:
    """Doses at ``slots`` repeated every ``period_h`` (``None``: given once) for ``duration_h``.

    ``duration_h = None`` means "until the end of the simulation" and is allowed only last. A phase built
    in code may give no doses (``slots = ()``) for a set duration: a gap, e.g. the days of a plan on which
    another drug is taken.
    """

    slots: tuple[Slot, ...]
    period_h: float | None = HOURS_PER_DAY
    duration_h: float | None = None
    route: Route = Route.ORAL
    text: str = ""

    def __post_init__(self) -> None:
        field = "regimen phase"
        written = self.text or "(built in code)"
        if not self.slots and (self.duration_h is None or self.period_h is None):
            raise InputError(field, written, "a phase gives at least one dose")
        if self.period_h is not None and self.period_h <= 0:
            raise InputError(field, written, "a dosing interval greater than 0 h")
        if self.duration_h is not None and self.duration_h <= 0:
            raise InputError(field, written, "a phase duration greater than 0")
        offsets = sorted(s.offset_h for s in self.slots)
        if not offsets:
            return
        if offsets[0] < 0:
            raise InputError(field, written, "dose times at or after the start of the phase")
        if any(b - a < _SAME_TIME_TOLERANCE_H for a, b in itertools.pairwise(offsets)):
            raise InputError(
                field, written, "each dose time given once (two doses are at the same time)"
            )
        if self.period_h is not None and offsets[-1] - offsets[0] >= self.period_h:
            raise InputError(field, written, "all dose times within one dosing interval")

    def daily_dose_mg(self, weight_kg: float | None = None) -> float:
        """Average dose per 24 h of this phase (for a one-off phase, the total given)."""
        per_period = sum(s.dose.to_mg(weight_kg) for s in self.slots)
        if self.period_h is None:
            return per_period
        return per_period * HOURS_PER_DAY / self.period_h

    def events(self, start_h: float, end_h: float, weight_kg: float | None) -> list[DoseEvent]:
        """Compact dose events of this phase placed in the window [start_h, end_h)."""
        events: list[DoseEvent] = []
        for slot in self.slots:
            first_h = start_h + slot.offset_h
            if first_h >= end_h:
                continue
            amount_mg = slot.dose.to_mg(weight_kg)
            if self.period_h is None:
                events.append(DoseEvent(first_h, amount_mg, self.route))
                continue
            additional = math.ceil((end_h - first_h) / self.period_h - 1e-9) - 1
            events.append(
                DoseEvent(first_h, amount_mg, self.route, self.period_h, max(additional, 0))
            )
        return events

    def describe(self) -> str:
        if not self.slots:
            return f"no doses for {(self.duration_h or 0.0) / 24:g} days"
        doses = " and ".join(f"{s.dose} at {format_clock(s.offset_h)}" for s in self.slots)
        every = "once" if self.period_h is None else f"every {self.period_h:g} h"
        span = "until the end" if self.duration_h is None else f"for {self.duration_h / 24:g} days"
        return f"{doses}, {every}, {span}"


@dataclass(frozen=True, slots=True)
class Regimen:
    """Consecutive phases starting at t = 0 (midnight of day 0).

    ``steady_state = True`` starts the patient at steady state on the first phase's pattern, as
    NONMEM's SS=1 does: as if that phase had been taken for ever before t = 0.
    """

    phases: tuple[Phase, ...]
    steady_state: bool = False
    text: str = ""

    def __post_init__(self) -> None:
        if not self.phases:
            raise InputError("regimen", self.text or "(empty)", "at least one dosing phase")
        for phase in self.phases[:-1]:
            if phase.duration_h is None:
                raise InputError(
                    "regimen",
                    phase.text or phase.describe(),
                    "every phase but the last needs a duration (e.g. 'x 14 days')",
                )
        if self.steady_state and (self.phases[0].period_h is None or not self.phases[0].slots):
            raise InputError("steady state", self.phases[0].text, "a repeating first phase")

    @property
    def defined_duration_h(self) -> float | None:
        """Total length of the phases, or ``None`` if the last one runs until the end."""
        if self.phases[-1].duration_h is None:
            return None
        return sum(p.duration_h or 0.0 for p in self.phases)

    def phase_windows(self, horizon_h: float) -> list[tuple[Phase, float, float]]:
        """Each phase with its [start_h, end_h) window, cut at ``horizon_h``."""
        windows: list[tuple[Phase, float, float]] = []
        start_h = 0.0
        for phase in self.phases:
            end_h = horizon_h if phase.duration_h is None else start_h + phase.duration_h
            if start_h >= horizon_h:
                break
            windows.append((phase, start_h, min(end_h, horizon_h)))
            start_h = end_h
        return windows

    def to_events(self, horizon_h: float, weight_kg: float | None = None) -> tuple[DoseEvent, ...]:
        """Compact dose events up to (not including) ``horizon_h``."""
        if horizon_h <= 0:
            raise InputError("simulation length", horizon_h, "a length greater than 0 h")
        events: list[DoseEvent] = []
        for phase, start_h, end_h in self.phase_windows(horizon_h):
            events.extend(phase.events(start_h, end_h, weight_kg))
        return tuple(events)

    def describe(self) -> str:
        text = "; then ".join(p.describe() for p in self.phases)
        return ("at steady state: " if self.steady_state else "") + text
