"""Documents made from a plan: the patient handout (PDF), calendar events (iCalendar), CSV and FHIR R4.

Every export checks the plan first (bad input is an :class:`~benzokit.errors.InputError` naming the
field), carries the decision-support statement, and writes its file atomically.
"""

from benzokit.interop._common import products_text
from benzokit.interop.csv_export import plan_csv, write_plan_csv
from benzokit.interop.fhir import medication_request, medication_requests, write_fhir
from benzokit.interop.handout_text import known_locales, load_handout_text
from benzokit.interop.ical import plan_calendar, write_calendar
from benzokit.interop.pdf import write_handout

__all__ = [
    "known_locales",
    "load_handout_text",
    "medication_request",
    "medication_requests",
    "plan_calendar",
    "plan_csv",
    "products_text",
    "write_calendar",
    "write_fhir",
    "write_handout",
    "write_plan_csv",
]
