"""The service's one mapping from library fields to its own form fields and their labels.

The library's :class:`~benzokit.errors.InputError` names the library's field (the planner's request
paths such as ``taper.from_dose``, :mod:`benzokit.plan.fields`); a user of the service must read the field
of the form or API body they filled in, in words. :data:`LIBRARY_FIELDS` is that translation,
:data:`LABELS` names each form field on a page, and :func:`in_form_terms` applies it. Enrolment and
plan changes use it; nothing else in the service translates fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from benzokit.errors import InputError
from benzokit.monitor.scales import ScaleSet
from benzokit.plan import fields as plan_fields

#: a form field (the API body's and the page form's name) -> how a page names it
LABELS = {
    "taken_mg": "amount taken (mg)",
    "taken_time": "time taken",
    "sleep_hours": "hours of sleep",
    "sleep_quality": "how well you slept",
    "current_password": "current password",
    "new_password": "new password",
    "current_regimen": "current regimen",
    "display_name": "name",
    "birth_year": "year of birth",
    "weight_kg": "weight (kg)",
    "factor": "slowing factor",
    "liquid": "oral liquid",
    "interval_days": "days between cuts",
    "reduction_percent": "cut (% of the current dose)",
    "hold_days": "hold days after each cut",
}

#: a library field (the planner's request paths, :mod:`benzokit.plan.fields`, and the prescription
#: language's fields) -> the service's form field
LIBRARY_FIELDS = {
    plan_fields.TAPER_FROM: "current_regimen",
    "regimen": "current_regimen",
    "regimen dose": "current_regimen",
    "regimen frequency": "current_regimen",
    "regimen interval": "current_regimen",
    "regimen duration": "current_regimen",
    "regimen time of day": "current_regimen",
    plan_fields.TAPER_STRATEGY: "strategy",
    plan_fields.PRODUCTS_LIQUID: "liquid",
    plan_fields.TAPER_INTERVAL: "interval_days",
    plan_fields.TAPER_REDUCTION: "reduction_percent",
    plan_fields.TAPER_HOLD: "hold_days",
    plan_fields.TITRATION_INDICATION: "indication",
    plan_fields.TITRATION_WEIGHT: "weight_kg",
}


@dataclass(frozen=True, slots=True)
class FormField:
    name: str
    label: str


def label(name: str, scales: ScaleSet | None = None) -> str:
    """A form field as a page names it: ``gad7.item3`` is "GAD-7, question 3" (with ``scales``)."""
    scale, dot, item = name.partition(".")
    numbered = dot and item.startswith("item") and item[4:].isdigit()
    if numbered and scales is not None and scale in scales.ids():
        return f"{scales.get(scale).name}, question {item[4:]}"
    return LABELS.get(name, name.replace("_", " "))


def form_field(library_field: str) -> FormField:
    """The form field (and its label) a library field is; an unmapped field is its own name."""
    name = LIBRARY_FIELDS.get(library_field, library_field)
    return FormField(name, label(name))


def in_form_terms(error: InputError) -> InputError:
    """The library's error, naming the form's field instead of the library's."""
    return InputError(form_field(error.field).name, error.value, error.allowed)
