"""Parsing and conversion of doses, body weights, durations and clock times.

Everything that crosses the boundary as text passes through here, and leaves as
plain floats whose unit is in the name: ``dose_mg``, ``weight_kg``, ``duration_h``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import overload

from benzokit.errors import InputError
from benzokit.types import FloatArray

_NUMBER = r"(?P<num>\d+(?:\.\d+)?|\.\d+)"
_MICRO = ("µg", "μg", "ug", "mcg", "microgram", "micrograms")
_MILLI = ("mg", "milligram", "milligrams")

MG_PER_UG = 1e-3
KG_PER_LB = 0.45359237
HOURS_PER_DAY = 24  # an int, so that day counts times it stay whole hours

DOSE_UNITS_ALLOWED = "a positive number with a unit: mg, µg (ug, mcg), or mg/kg with a body weight"


@dataclass(frozen=True, slots=True)
class DoseAmount:
    """A dose as written: an absolute amount in mg, or a weight-based amount in mg per kg."""

    value: float
    per_kg: bool = False

    def to_mg(self, weight_kg: float | None, *, field: str = "dose") -> float:
        """The dose in mg; a weight-based dose needs ``weight_kg``."""
        if not self.per_kg:
            return self.value
        if weight_kg is None:
            raise InputError(
                field, f"{self.value} mg/kg", "a mg/kg dose needs a body weight (--weight)"
            )
        return self.value * weight_kg

    def __str__(self) -> str:
        return f"{self.value:g} mg/kg" if self.per_kg else f"{self.value:g} mg"


def _split_number(text: str, field: str, allowed: str) -> tuple[float, str]:
    match = re.fullmatch(rf"\s*{_NUMBER}\s*(?P<unit>.*?)\s*", text)
    if match is None:
        raise InputError(field, text, allowed)
    return float(match["num"]), match["unit"].lower()


def parse_dose(text: str, *, field: str = "dose") -> DoseAmount:
    """Parse "2mg", "0.5 mg", "500 µg", "0.01 mg/kg" into a :class:`DoseAmount`.

    >>> parse_dose("500 mcg")
    DoseAmount(value=0.5, per_kg=False)
    """
    value, unit = _split_number(text, field, DOSE_UNITS_ALLOWED)
    if value <= 0:
        raise InputError(field, text, "a dose must be greater than zero")
    unit = unit.replace(" ", "")
    if unit in _MILLI:
        return DoseAmount(value)
    if unit in _MICRO:
        return DoseAmount(value * MG_PER_UG)
    if unit in ("mg/kg", "mgperkg"):
        return DoseAmount(value, per_kg=True)
    raise InputError(field, text, DOSE_UNITS_ALLOWED)


def parse_weight_kg(text: str, *, field: str = "weight") -> float:
    """Parse a body weight such as "70kg", "70 kg" or "154 lb" into kilograms (a bare number is kg)."""
    allowed = "a body weight between 0.5 and 350 kg, written like 70kg or 154lb"
    value, unit = _split_number(text, field, allowed)
    if unit in ("", "kg", "kgs"):
        weight_kg = value
    elif unit in ("lb", "lbs", "pound", "pounds"):
        weight_kg = value * KG_PER_LB
    else:
        raise InputError(field, text, allowed)
    if not 0.5 <= weight_kg <= 350:
        raise InputError(field, text, allowed)
    return weight_kg


_DURATION_UNITS_H = {
    "h": 1.0, "hr": 1.0, "hrs": 1.0, "hour": 1.0, "hours": 1.0,
    "d": 24.0, "day": 24.0, "days": 24.0,
    "w": 168.0, "wk": 168.0, "wks": 168.0, "week": 168.0, "weeks": 168.0,
}  # fmt: skip


def parse_duration_h(text: str, *, field: str = "duration") -> float:
    """Parse "14 days", "2 weeks", "36h" into hours (a bare number is days)."""
    allowed = "a positive duration such as 14 days, 2 weeks or 36 h"
    value, unit = _split_number(text, field, allowed)
    factor = HOURS_PER_DAY if unit == "" else _DURATION_UNITS_H.get(unit)
    if factor is None or value <= 0:
        raise InputError(field, text, allowed)
    return value * factor


def parse_clock_h(text: str, *, field: str = "time of day") -> float:
    """Parse a clock time "08:00", "8:30", "22h" or "8am"/"10 pm" into hours after midnight."""
    allowed = "a clock time from 00:00 to 23:59, such as 08:00 or 10pm"
    raw = text.strip().lower().replace(" ", "")
    match = re.fullmatch(r"(?P<h>\d{1,2})(?::(?P<m>\d{2}))?(?P<suffix>am|pm|h)?", raw)
    if match is None:
        raise InputError(field, text, allowed)
    hour, minute = int(match["h"]), int(match["m"] or 0)
    suffix = match["suffix"]
    if suffix in ("am", "pm"):
        if not 1 <= hour <= 12:
            raise InputError(field, text, allowed)
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if match["m"] is None and suffix is None:
        raise InputError(field, text, allowed)
    if hour > 23 or minute > 59:
        raise InputError(field, text, allowed)
    return hour + minute / 60.0


MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True, slots=True, order=True)
class ClockTime:
    """A time of day: whole ``minutes`` after midnight (0 … 1439). Ordered; ``str()`` is ``HH:MM``.

    The library computes with :attr:`hours`; ``HH:MM`` is the adapters' view (JSON, documents, pages).
    """

    minutes: int

    def __post_init__(self) -> None:
        if not 0 <= self.minutes < MINUTES_PER_DAY:
            raise InputError("time of day", self.minutes, "minutes after midnight, 0 to 1439")

    @classmethod
    def at(cls, hour: int, minute: int = 0) -> ClockTime:
        return cls(hour * 60 + minute)

    @classmethod
    def from_hours(cls, hour_of_day: float) -> ClockTime:
        """The clock time ``hour_of_day`` hours after midnight, to the nearest minute (24:00 is 00:00)."""
        return cls(round(hour_of_day * 60) % MINUTES_PER_DAY)

    @classmethod
    def parse(cls, text: str, *, field: str = "time of day") -> ClockTime:
        """A clock time as written ("08:00", "8:30", "22h", "10pm"); see :func:`parse_clock_h`."""
        return cls.from_hours(parse_clock_h(text, field=field))

    @property
    def hours(self) -> float:
        """Hours after midnight."""
        return self.minutes / 60.0

    def __str__(self) -> str:
        return f"{self.minutes // 60:02d}:{self.minutes % 60:02d}"


def format_clock(hour_of_day: float) -> str:
    """Format hours after midnight as "HH:MM"."""
    total_min = round(hour_of_day * 60) % (24 * 60)
    return f"{total_min // 60:02d}:{total_min % 60:02d}"


@overload
def ng_ml_to_nmol_l(conc_ng_ml: float, molar_mass_g_mol: float) -> float: ...
@overload
def ng_ml_to_nmol_l(conc_ng_ml: FloatArray, molar_mass_g_mol: float) -> FloatArray: ...
def ng_ml_to_nmol_l(conc_ng_ml: float | FloatArray, molar_mass_g_mol: float) -> float | FloatArray:
    """Convert a mass concentration (ng/mL = µg/L) to a molar one (nmol/L)."""
    return conc_ng_ml * 1000.0 / molar_mass_g_mol
