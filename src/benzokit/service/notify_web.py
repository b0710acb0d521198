"""The web edge of notifications: e-mail settings (API and page), the private calendar feed, the handout.

- ``GET/PUT/DELETE /api/v1/me/notifications``: the signed-in person's e-mail settings (opt-in).
- ``POST/DELETE /api/v1/patients/{id}/calendar-feed``: a new private feed URL / revoke it.
- ``GET /calendar/{token}.ics``: the feed itself; no session (a calendar app fetches it).
- ``GET /api/v1/patients/{id}/handout.pdf`` and ``/patients/{id}/handout.pdf``: the handout PDF.
- ``/account/notifications``: the settings page, where a patient also makes or revokes the feed URL.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from benzokit.errors import InputError
from benzokit.service.api import CHANGE, READ, ChangingVisitor, PatientId, VisitorDep, errors
from benzokit.service.notify import CalendarFeed
from benzokit.service.notify_forms import NotificationForm
from benzokit.service.rendering import render
from benzokit.service.schemas import parse
from benzokit.service.web import (
    Visitor,
    check_csrf,
    clinic_of,
)
from benzokit.store.accounts import Role
from benzokit.store.notifications import NotificationSettings

router = APIRouter(prefix="/api/v1")
page_router = APIRouter(include_in_schema=False)

#: the handout's answer: a PDF document
_PDF: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}}}}


def _settings_json(settings: NotificationSettings | None) -> dict[str, Any]:
    if settings is None:
        return {"enabled": False, "settings": None}
    encoded = jsonable_encoder(settings)
    encoded.pop("user_id", None)
    return {"enabled": True, "settings": encoded}


def _feed_url(request: Request, feed: CalendarFeed) -> str:
    return str(request.base_url).rstrip("/") + feed.path


def _pdf(content: bytes, patient_id: int) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="benzokit-plan-{patient_id}.pdf"',
            "Cache-Control": "no-store",
        },
    )


# ----------------------------------------------------------------------------- API


@router.get("/me/notifications", tags=["notifications"], responses=errors(401, 422))
def my_notifications(request: Request, visitor: VisitorDep) -> dict[str, Any]:
    """Your e-mail settings (``enabled`` false: you get no e-mail)."""
    return _settings_json(clinic_of(request).notifications.settings(visitor.account))


@router.put("/me/notifications", tags=["notifications"], responses=CHANGE)
def save_my_notifications(
    request: Request, body: NotificationForm, visitor: ChangingVisitor
) -> dict[str, Any]:
    """Opt in to e-mail, or change it. Patients: ``dose_reminder_times`` (``HH:MM`` list),
    ``checkin_reminder_time``; clinicians: ``urgent_alerts``, ``digest_time``; both: ``email``,
    ``timezone`` (IANA). E-mails hold no clinical detail."""
    saved = clinic_of(request).notifications.save_settings(visitor.account, body)
    return _settings_json(saved)


@router.delete("/me/notifications", tags=["notifications"], status_code=204, responses=CHANGE)
def stop_my_notifications(request: Request, visitor: ChangingVisitor) -> Response:
    """Stop every e-mail."""
    clinic_of(request).notifications.stop(visitor.account)
    return Response(status_code=204)


@router.post(
    "/patients/{patient_id}/calendar-feed",
    tags=["notifications"],
    status_code=201,
    responses=CHANGE,
)
def new_calendar_feed(
    request: Request, patient_id: PatientId, visitor: ChangingVisitor
) -> dict[str, Any]:
    """A new private calendar URL with the plan's dose changes (shown once; the old one stops)."""
    feed = clinic_of(request).notifications.new_feed(visitor.account, patient_id)
    return {"url": _feed_url(request, feed)}


@router.delete(
    "/patients/{patient_id}/calendar-feed",
    tags=["notifications"],
    status_code=204,
    responses=CHANGE,
)
def revoke_calendar_feed(
    request: Request, patient_id: PatientId, visitor: ChangingVisitor
) -> Response:
    """Stop the private calendar URL."""
    clinic_of(request).notifications.revoke_feed(visitor.account, patient_id)
    return Response(status_code=204)


@router.get(
    "/patients/{patient_id}/handout.pdf",
    tags=["notifications"],
    responses=_PDF | READ,
)
def handout(request: Request, patient_id: PatientId, visitor: VisitorDep) -> Response:
    """The patient handout (PDF) of the current plan."""
    return _pdf(clinic_of(request).notifications.handout(visitor.account, patient_id), patient_id)


# ----------------------------------------------------------------------------- feed and pages


@page_router.get("/calendar/{token}.ics")
def calendar_feed(request: Request, token: str) -> Response:
    """The private feed: the token is the key (no session, no cookie)."""
    content = clinic_of(request).notifications.calendar(token[:128])
    return Response(
        content,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


@page_router.get("/patients/{patient_id}/handout.pdf")
def handout_page(request: Request, patient_id: PatientId, visitor: VisitorDep) -> Response:
    return _pdf(clinic_of(request).notifications.handout(visitor.account, patient_id), patient_id)


def _page(
    request: Request,
    visitor: Visitor,
    status: int = 200,
    *,
    error: InputError | None = None,
    feed_url: str | None = None,
    submitted: dict[str, str] | None = None,
) -> Response:
    """The settings page; after a refused form, the fields show what was submitted."""
    clinic = clinic_of(request)
    settings = clinic.notifications.settings(visitor.account)
    patient_id = (
        clinic.reading.my_patient_id(visitor.account)
        if visitor.account.role is Role.PATIENT
        else None
    )
    feed_since = (
        clinic.notifications.feed_since(visitor.account, patient_id) if patient_id else None
    )
    return render(
        request,
        "notifications.html",
        status,
        visitor=visitor,
        settings=settings,
        error=error,
        patient_id=patient_id,
        feed_since=feed_since,
        feed_url=feed_url,
        shown=submitted if submitted is not None else _shown(settings, clinic.unit.zone.key),
    )


def _shown(settings: NotificationSettings | None, clinic_zone: str) -> dict[str, str]:
    """The form's field values from the saved settings (the clinic's time zone when none)."""
    if settings is None:
        return {"timezone": clinic_zone}
    return {
        "email": settings.email,
        "timezone": settings.timezone,
        "dose_reminder_times": ", ".join(settings.dose_reminder_times),
        "checkin_reminder_time": settings.checkin_reminder_time or "",
        "urgent_alerts": "on" if settings.urgent_alerts else "",
        "digest_time": settings.digest_time or "",
    }


@page_router.get("/account/notifications", response_class=HTMLResponse)
def notifications_page(request: Request, visitor: VisitorDep) -> Response:
    return _page(request, visitor)


async def _form(request: Request, visitor: Visitor) -> dict[str, Any]:
    form = await request.form()
    data = {k: v for k, v in form.items() if isinstance(v, str)}
    check_csrf(visitor, data.pop("csrf_token", None))
    return data


@page_router.post("/account/notifications", response_class=HTMLResponse)
async def save_notifications_page(request: Request, visitor: VisitorDep) -> Response:
    data = await _form(request, visitor)
    notify = clinic_of(request).notifications
    if data.pop("action", "") == "stop":
        notify.stop(visitor.account)
        return RedirectResponse("/account/notifications?done=stopped", status_code=303)
    values: dict[str, Any] = {k: v for k, v in data.items() if v.strip() != ""}
    if visitor.account.role is Role.CLINICIAN:
        values["urgent_alerts"] = data.get("urgent_alerts") == "on"
    try:
        notify.save_settings(visitor.account, parse(NotificationForm, values))
    except InputError as error:
        return _page(request, visitor, 422, error=error, submitted=data)
    return RedirectResponse("/account/notifications?done=saved", status_code=303)


@page_router.post("/account/calendar-feed", response_class=HTMLResponse)
async def calendar_feed_page(request: Request, visitor: VisitorDep) -> Response:
    data = await _form(request, visitor)
    clinic = clinic_of(request)
    patient_id = clinic.reading.my_patient_id(visitor.account)
    if data.get("action") == "revoke":
        clinic.notifications.revoke_feed(visitor.account, patient_id)
        return RedirectResponse("/account/notifications?done=revoked", status_code=303)
    feed = clinic.notifications.new_feed(visitor.account, patient_id)
    return _page(request, visitor, feed_url=_feed_url(request, feed))
