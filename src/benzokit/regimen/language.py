"""A small prescription language, as people write regimens.

Examples (case-insensitive)::

    0.5 mg bid
    2 mg once
    1 mg at 08:00 and 2 mg at 22:00 daily
    0.25 mg at 8am and 10pm
    0.5 mg tid x 21 days
    0.5 mg bid x 14 days, then 0.25 mg bid x 7 days
    0.01 mg/kg q8h for 3 days
    2 mg/day

Frequencies: qd/od/daily/once daily (08:00), bid/twice daily (08:00, 20:00), tid/three times daily
(08:00, 14:00, 20:00), qid/four times daily (08:00, 12:00, 16:00, 20:00), qhs/at bedtime/nightly
(22:00), qNh/every N hours (first dose 08:00). "X mg/day" is X mg once daily at 08:00.
Day 0 starts at midnight (t = 0 h); "once" gives a single dose at t = 0 unless a time is named.
"""

from __future__ import annotations

import re

from benzokit.errors import InputError
from benzokit.regimen.regimen import Phase, Regimen, Slot
from benzokit.units import (
    DOSE_UNITS_ALLOWED,
    DoseAmount,
    parse_clock_h,
    parse_dose,
    parse_duration_h,
)

EXAMPLE = (
    "e.g. '0.5 mg bid x 14 days, then 0.25 mg bid x 7 days' or '1 mg at 08:00 and 2 mg at 22:00'"
)

_DOSE = r"\d+(?:\.\d+)?\s*(?:mg/kg|mg|µg|μg|ug|mcg)"
_CLOCK = r"\d{1,2}(?::\d{2})?\s*(?:am|pm|h)?|\d{1,2}:\d{2}|morning|noon|evening|bedtime|night"
_NAMED_CLOCKS_H = {"morning": 8.0, "noon": 12.0, "evening": 18.0, "bedtime": 22.0, "night": 22.0}

_FIXED_TIMES_H: dict[str, tuple[float, ...]] = {
    "qd": (8.0,), "od": (8.0,), "daily": (8.0,), "once daily": (8.0,), "once a day": (8.0,),
    "every day": (8.0,), "qam": (8.0,), "in the morning": (8.0,),
    "bid": (8.0, 20.0), "twice daily": (8.0, 20.0), "twice a day": (8.0, 20.0),
    "tid": (8.0, 14.0, 20.0), "three times daily": (8.0, 14.0, 20.0),
    "three times a day": (8.0, 14.0, 20.0),
    "qid": (8.0, 12.0, 16.0, 20.0), "four times daily": (8.0, 12.0, 16.0, 20.0),
    "four times a day": (8.0, 12.0, 16.0, 20.0),
    "qhs": (22.0,), "at bedtime": (22.0,), "nightly": (22.0,), "at night": (22.0,),
}  # fmt: skip
FREQUENCIES_ALLOWED = ", ".join(sorted(_FIXED_TIMES_H)) + ", qNh, every N hours, once, at HH:MM"
_FIRST_INTERVAL_DOSE_H = 8.0
_MAX_INTERVAL_H = 24.0 * 28

_THEN = re.compile(r"\s*[,;]?\s*\bthen\b\s*", re.IGNORECASE)
_DURATION = re.compile(
    r"\s*,?\s*(?:\bx\b|\bfor\b|×)\s*(?P<dur>-?\d+(?:\.\d+)?\s*[a-z]*)\s*$", re.IGNORECASE
)
_PER_DAY = re.compile(rf"^(?P<dose>{_DOSE})\s*(?:/|per|a)\s*day$")
_WITH_FREQ = re.compile(rf"^(?P<dose>{_DOSE})\s+(?P<freq>.+)$")
_ONCE = re.compile(rf"^(?P<dose>{_DOSE})\s+(?:once|single dose|stat)(?:\s+at\s+(?P<at>{_CLOCK}))?$")
_AT_GROUP = re.compile(
    rf"(?P<dose>{_DOSE})?\s*(?:at|@)?\s*(?P<at>{_CLOCK})\s*(?:,|\band\b)?\s*", re.IGNORECASE
)
_Q_HOURS = re.compile(r"^(?:q\s*(?P<a>\d+(?:\.\d+)?)\s*h|every\s+(?P<b>\d+(?:\.\d+)?)\s*hours?)$")
_UNKNOWN_UNIT = re.compile(r"^\d+(?:\.\d+)?\s*[a-zµμ/]+(?:\s|$)")
_DAILY_SUFFIX = re.compile(r"\s+(?:daily|every day|each day)$")


def parse_regimen(text: str, *, steady_state: bool = False) -> Regimen:
    """Parse prescription text into a :class:`Regimen`; errors name the phase and what is allowed."""
    if not text or not text.strip():
        raise InputError("regimen", text, f"a regimen such as {EXAMPLE}")
    parts = _THEN.split(text.strip())
    phases = tuple(_parse_phase(part, index + 1, len(parts)) for index, part in enumerate(parts))
    return Regimen(phases, steady_state=steady_state, text=text.strip())


def _parse_phase(text: str, number: int, count: int) -> Phase:
    field = "regimen" if count == 1 else f"regimen phase {number}"
    body = text.strip().lower()
    duration_h: float | None = None
    duration_match = _DURATION.search(body)
    if duration_match:
        duration_h = parse_duration_h(duration_match["dur"], field=f"{field} duration")
        body = body[: duration_match.start()].strip()
    if not body:
        raise InputError(field, text, f"a dose and how often, {EXAMPLE}")
    period_h, slots = _parse_dosing(body, field, text)
    return Phase(slots, period_h=period_h, duration_h=duration_h, text=text.strip())


def _parse_dosing(body: str, field: str, original: str) -> tuple[float | None, tuple[Slot, ...]]:
    if match := _PER_DAY.match(body):
        return 24.0, (Slot(8.0, _dose(match["dose"], field)),)
    if match := _ONCE.match(body):
        at_h = _clock(match["at"], field) if match["at"] else 0.0
        return None, (Slot(at_h, _dose(match["dose"], field)),)
    if " at " in f" {body} " or "@" in body:
        return 24.0, _parse_at_pattern(_DAILY_SUFFIX.sub("", body), field, original)
    if match := _WITH_FREQ.match(body):
        dose = _dose(match["dose"], field)
        freq = re.sub(r"\s+", " ", match["freq"].strip())
        if freq in _FIXED_TIMES_H:
            return 24.0, tuple(Slot(t, dose) for t in _FIXED_TIMES_H[freq])
        if q := _Q_HOURS.match(freq):
            return _interval_h(q["a"] or q["b"], field), (Slot(_FIRST_INTERVAL_DOSE_H, dose),)
        raise InputError(f"{field} frequency", match["freq"], f"one of: {FREQUENCIES_ALLOWED}")
    if _UNKNOWN_UNIT.match(body):
        raise InputError(f"{field} dose", original, DOSE_UNITS_ALLOWED)
    raise InputError(field, original, f"a dose with a unit and how often, {EXAMPLE}")


def _parse_at_pattern(body: str, field: str, original: str) -> tuple[Slot, ...]:
    """'1 mg at 08:00 and 2 mg at 22:00' or '0.25 mg at 8am and 10pm' (a dose carries forward)."""
    slots: list[Slot] = []
    position = 0
    current: DoseAmount | None = None
    while position < len(body):
        match = _AT_GROUP.match(body, position)
        if match is None or match.end() == position:
            raise InputError(field, original, f"doses with clock times, {EXAMPLE}")
        if match["dose"]:
            current = _dose(match["dose"], field)
        if current is None:
            raise InputError(field, original, "a dose before the first time, e.g. '1 mg at 08:00'")
        slots.append(Slot(_clock(match["at"], field), current))
        position = match.end()
    return tuple(sorted(slots, key=lambda s: s.offset_h))


def _dose(text: str, field: str) -> DoseAmount:
    return parse_dose(text, field=f"{field} dose")


def _clock(text: str, field: str) -> float:
    key = text.strip()
    if key in _NAMED_CLOCKS_H:
        return _NAMED_CLOCKS_H[key]
    return parse_clock_h(key, field=f"{field} time of day")


def _interval_h(text: str, field: str) -> float:
    interval_h = float(text)
    if not 0 < interval_h <= _MAX_INTERVAL_H:
        raise InputError(
            f"{field} interval", f"q{text}h", f"an interval between 1 and {_MAX_INTERVAL_H:g} h"
        )
    return interval_h
