"""benzokit — decision support for clonazepam and other benzodiazepine therapy.

benzokit simulates, plans and checks; it never replaces a prescriber and never
proposes stopping a benzodiazepine abruptly. See :data:`DISCLAIMER`.
"""

from __future__ import annotations

from benzokit._disclaimer import DISCLAIMER
from benzokit._version import __version__
from benzokit.drugs import Drug, list_drugs, load_drug
from benzokit.errors import (
    BenzokitError,
    ComputeError,
    DataError,
    InputError,
    ModelError,
    PlaceholderValueError,
    UnknownNameError,
)
from benzokit.patient import Patient
from benzokit.regimen import DoseEvent, Regimen, Route, parse_regimen
from benzokit.sim import SimulationResult, TimeGrid, simulate

__all__ = [
    "DISCLAIMER",
    "BenzokitError",
    "ComputeError",
    "DataError",
    "DoseEvent",
    "Drug",
    "InputError",
    "ModelError",
    "Patient",
    "PlaceholderValueError",
    "Regimen",
    "Route",
    "SimulationResult",
    "TimeGrid",
    "UnknownNameError",
    "__version__",
    "list_drugs",
    "load_drug",
    "parse_regimen",
    "simulate",
]
