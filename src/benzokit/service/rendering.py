"""Rendering the server-side templates: the page shell every page and the error page share.

Sits between the web edge (:mod:`benzokit.service.web`, which knows the visitor) and the page routes and
error handlers (:mod:`benzokit.service.pages`, :mod:`benzokit.service.handlers`), so neither needs the
other. Fields are named in the page's words (:mod:`benzokit.service.fields`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from benzokit._disclaimer import DISCLAIMER
from benzokit.errors import BenzokitError, InputError
from benzokit.monitor.scales import ScaleSet, load_scales
from benzokit.plan.model import Plan, Step
from benzokit.service.fields import label
from benzokit.service.web import clinic_of, find_visitor, settings_of

DONE = {
    "dose": "Saved: your dose is recorded.",
    "checkin": "Thank you: your check-in is saved.",
    "pause": "The taper is paused: the patient stays on today's dose.",
    "resume": "The taper is running again.",
    "slow": "A new, slower plan version is in force from today.",
    "adjust": "A new plan version is in force from today.",
    "pace": "Your choice is saved: a new plan version from today, recorded in the audit log.",
    "ack": "Alert acknowledged.",
    "clinician": "Clinician account created.",
    "patient": "Patient enrolled with their first plan.",
    "password": "Your password is changed; your other sessions have ended.",
}


def error_text(error: BenzokitError, scales: ScaleSet | None = None) -> str:
    """An error for a page: the field in words and what is allowed, without the code's names."""
    if isinstance(error, InputError):
        return f"{label(error.field, scales)}: {error.allowed}."
    return str(error)


@pass_context
def _field_words_filter(context: Context, field: str) -> str:
    return label(field, context.get("scale_set"))


@pass_context
def _error_text_filter(context: Context, error: BenzokitError) -> str:
    return error_text(error, context.get("scale_set"))


def tel_link(text: str, phone: str | None) -> Markup:
    """``text`` (escaped) with the first ``phone`` in it a tappable ``tel:`` link."""
    escaped = escape(text)
    if not phone:
        return Markup(escaped)
    dial = "".join(c for c in phone if c.isdigit() or c == "+")
    link = Markup('<a class="tel" href="tel:{}">{}</a>').format(dial, phone)
    before, found, after = str(escaped).partition(str(escape(phone)))
    if not found:
        return Markup(escaped) + Markup(" ") + link
    return Markup(before) + link + Markup(after)


def step_dates(plan: Plan) -> list[tuple[Step, date, date]]:
    """Each step of a plan with its first and last calendar day (the plan's start date + days)."""
    start = plan.start_date
    if start is None:
        return []
    return [
        (s, start + timedelta(days=s.start_day), start + timedelta(days=s.end_day - 1))
        for s in plan.steps
    ]


def _templates() -> Jinja2Templates:
    folder = Path(str(resources.files("benzokit.service") / "templates"))
    templates = Jinja2Templates(directory=str(folder))
    templates.env.globals |= {"DISCLAIMER": DISCLAIMER}
    templates.env.filters["mg"] = lambda v: f"{round(float(v), 6):g}"
    templates.env.filters["field_words"] = _field_words_filter
    templates.env.filters["error_text"] = _error_text_filter
    templates.env.globals["tel_link"] = tel_link
    templates.env.globals["step_dates"] = step_dates
    return templates


TEMPLATES = _templates()


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """The template ``name`` with the visitor, the done-message of ``?done=`` and the clinic's scales."""
    visitor = context.pop("visitor", None) or find_visitor(request)
    done = DONE.get(request.query_params.get("done", ""))
    scale_set = load_scales(clinic_of(request).knowledge)
    return TEMPLATES.TemplateResponse(
        request,
        name,
        {
            "visitor": visitor,
            "done": done,
            "scale_set": scale_set,
            "clinic_phone": settings_of(request).clinic_phone,
            "clinic_hours": settings_of(request).clinic_hours,
            **context,
        },
        status_code=status,
    )


def error_page(
    request: Request, error: BenzokitError, status: int, headers: Mapping[str, str] | None
) -> Response:
    response = render(request, "error.html", status, error=error, status_code=status)
    if headers:
        response.headers.update(headers)
    return response
