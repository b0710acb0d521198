"""The service's one mapping from library fields to its form fields and their labels."""

from __future__ import annotations

import pytest

from benzokit.errors import InputError
from benzokit.monitor.scales import load_scales
from benzokit.plan import fields as plan_fields
from benzokit.service import schemas
from benzokit.service.fields import LIBRARY_FIELDS, form_field, in_form_terms, label

FORM_FIELDS = set(schemas.NewPatient.model_fields) | set(schemas.AdjustForm.model_fields)


@pytest.mark.parametrize("library_field", sorted(LIBRARY_FIELDS))
def test_every_library_field_names_a_field_of_a_form(library_field: str) -> None:
    field = form_field(library_field)
    assert field.name in FORM_FIELDS, (library_field, field.name)
    assert field.label and not field.label.startswith("-")


def test_an_error_keeps_its_value_and_what_is_allowed() -> None:
    error = in_form_terms(
        InputError(plan_fields.TAPER_INTERVAL, 0, "a whole number of days, at least 1")
    )
    assert (error.field, error.value, error.allowed) == (
        "interval_days",
        0,
        "a whole number of days, at least 1",
    )
    assert form_field(plan_fields.TAPER_INTERVAL).label == "days between cuts"
    unmapped = in_form_terms(InputError("clinician", "x", "a clinician"))
    assert unmapped.field == "clinician"


def test_no_library_field_is_a_command_line_option() -> None:
    # the library speaks its own field paths (benzokit.plan.fields); options are the CLI's words
    assert not [f for f in LIBRARY_FIELDS if f.startswith("-")]


def test_scale_items_are_named_by_their_scale() -> None:
    assert label("gad7.item3", load_scales()) == "GAD-7, question 3"
    assert label("gad7.item3") == "gad7.item3"
    assert label("sleep_hours") == "hours of sleep"
