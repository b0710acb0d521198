"""One exception tree for benzokit.

Misuse (bad input, broken data files) raises; clinical concerns are *findings*
(values), never exceptions. Every message is written for the clinician or
pharmacist who reads it: it names the field, the value that was given and what
is allowed.
"""

from __future__ import annotations

from collections.abc import Iterable


class BenzokitError(Exception):
    """Root of every error benzokit raises on purpose."""


class InputError(BenzokitError, ValueError):
    """A value given by a user (CLI option, API field, regimen text) is not acceptable."""

    def __init__(self, field: str, value: object, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field}: {value!r} is not valid; {allowed}")


class UnknownNameError(InputError):
    """A name (drug, co-medication, parameter set) that the knowledge base does not know."""

    def __init__(self, field: str, value: str, known: Iterable[str]) -> None:
        self.known = tuple(sorted(known))
        super().__init__(field, value, "known values are: " + ", ".join(self.known))


class DataError(BenzokitError):
    """A knowledge-base data file is missing, malformed or inconsistent."""

    def __init__(self, path: str, field: str, problem: str) -> None:
        self.path = path
        self.field = field
        self.problem = problem
        super().__init__(f"{path}: field '{field}': {problem}")


class PlaceholderValueError(DataError):
    """A figure marked as a placeholder in the data was about to be used where it matters."""


class ModelError(BenzokitError):
    """A model was asked for something it cannot do (e.g. a structure it does not implement)."""


class ComputeError(BenzokitError):
    """A computation could not finish (e.g. a cluster lost its workers); what was written is kept."""
