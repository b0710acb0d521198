"""The options several commands share, declared once (one help text each), and how they are read.

Commands import the module and write ``age: options.Age = None``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from benzokit.units import parse_weight_kg

Age = Annotated[float | None, typer.Option(help="Age in years.")]
Weight = Annotated[
    str | None, typer.Option(help="Body weight, e.g. 70kg or 154lb (needed for mg/kg doses).")
]
With = Annotated[
    list[str] | None,
    typer.Option("--with", help="Co-medication(s), comma-separated or repeated, e.g. oxycodone."),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON (schema in the README).")]

# the patient's fields (benzokit.patient, benzokit.safety.context) in the commands' words
_PATIENT_OPTIONS = {"weight": "--weight", "age": "--age"}


def patient_option(field: str) -> str:
    """The option a patient field (``weight``, ``age``) is given with; any other field unchanged."""
    return _PATIENT_OPTIONS.get(field, field)


def read_weight_kg(weight: str | None) -> float | None:
    """``--weight`` in kg (``None`` when not given)."""
    return None if weight is None else parse_weight_kg(weight, field="--weight")


def split_values(values: list[str] | None) -> tuple[str, ...]:
    """A repeated, comma-separated option's values, stripped, empty ones dropped."""
    return tuple(part.strip() for item in values or [] for part in item.split(",") if part.strip())
