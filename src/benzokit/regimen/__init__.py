"""Dosing regimens: dose events (NONMEM/mrgsolve style) and the prescription language."""

from benzokit.regimen.events import DoseEvent, EventTable, Route, expand_events
from benzokit.regimen.language import parse_regimen
from benzokit.regimen.regimen import Phase, Regimen, Slot

__all__ = [
    "DoseEvent",
    "EventTable",
    "Phase",
    "Regimen",
    "Route",
    "Slot",
    "expand_events",
    "parse_regimen",
]
