"""The server-rendered pages: patients (phone-first), clinicians, administrators.

Each handler parses the form into the same schema the API uses, calls the same use case
(``clinic.<area>.<use case>``, :mod:`benzokit.service.clinic`) and renders a template
(:mod:`benzokit.service.rendering`). Changes redirect afterwards (post/redirect/get), so a reload never
repeats them.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from benzokit.errors import InputError
from benzokit.interop.handout_text import load_handout_text
from benzokit.monitor.alerts import load_alert_rules
from benzokit.monitor.records import CheckIn
from benzokit.monitor.scale_models import Scale
from benzokit.monitor.scales import ScaleSet, load_scales
from benzokit.plan.pacing import PacingPolicy, load_pacing
from benzokit.plan.strategies import Risk, StrategyName
from benzokit.service import schemas
from benzokit.service.access import require_role
from benzokit.service.audit import MAX_ENTRIES
from benzokit.service.charts import trends_svg, trends_text
from benzokit.service.recording import help_lines
from benzokit.service.records_view import Trends
from benzokit.service.rendering import render
from benzokit.service.schemas import parse
from benzokit.service.web import (
    SESSION_COOKIE,
    Visitor,
    audit_refusal,
    check_csrf,
    client_of,
    clinic_of,
    find_visitor,
    require_visitor,
    set_session_cookie,
    settings_of,
)
from benzokit.store.accounts import Role
from benzokit.store.records import AuditFilter

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "benzokit_login_csrf"
VisitorDep = Annotated[Visitor, Depends(require_visitor)]


async def form_of(request: Request, visitor: Visitor) -> dict[str, Any]:
    """The posted form without the CSRF field, after checking it."""
    form = await request.form()
    data = {k: v for k, v in form.items() if isinstance(v, str)}
    check_csrf(visitor, data.pop("csrf_token", None))
    return {k: v for k, v in data.items() if v != ""}


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# ----------------------------------------------------------------------------- sign-in


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    visitor = find_visitor(request)
    if visitor is None:
        return redirect("/login")
    return redirect(
        {Role.PATIENT: "/me", Role.CLINICIAN: "/clinic", Role.ADMIN: "/admin"}[visitor.account.role]
    )


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, error: str | None = None) -> Response:
    return _login_form(request, error=error)


def _login_form(request: Request, status: int = 200, **context: Any) -> Response:
    """The sign-in page with a fresh sign-in CSRF token (its cookie set on the response)."""
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", status, login_csrf=token, **context)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login")
    return response


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    login_csrf: Annotated[str, Form(max_length=64)],
    resume: Annotated[str, Form(max_length=MAX_RESUME_CHARS)] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, login_csrf):
        return redirect("/login?error=expired")
    try:
        opened = clinic_of(request).signin.sign_in(username, password, client_of(request))
    except InputError:
        return render(
            request,
            "login.html",
            401,
            login_csrf=login_csrf,
            error="wrong",
            username=username,
            resume=resume,
        )
    kept = _kept_form(resume)
    if kept and opened.account.role is Role.PATIENT:  # back to the check-in the session lost
        visitor = Visitor(opened.account, opened.csrf_token, opened.token)
        response: Response = _checkin_page(request, visitor, kept, resumed=True)
    else:
        response = redirect("/")
    set_session_cookie(response, opened.token, settings_of(request))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


MAX_RESUME_CHARS = 32_000


def _kept_form(resume: str) -> dict[str, str]:
    """The check-in form kept through a sign-in: field names to text (anything else: nothing)."""
    try:
        kept = json.loads(resume) if resume else {}
    except ValueError:
        return {}
    if not isinstance(kept, dict):
        return {}
    return {k: v for k, v in kept.items() if isinstance(k, str) and isinstance(v, str)}


@router.post("/logout")
async def logout(request: Request, visitor: VisitorDep) -> Response:
    await form_of(request, visitor)
    clinic_of(request).signin.sign_out(visitor.account, visitor.token)
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, visitor: VisitorDep) -> Response:
    return render(request, "account.html", visitor=visitor, error=None)


@router.post("/account/password", response_class=HTMLResponse)
async def account_password(request: Request, visitor: VisitorDep) -> Response:
    data = await form_of(request, visitor)
    try:
        form = parse(schemas.PasswordChange, data)
        clinic_of(request).signin.change_password(
            visitor.account,
            visitor.token,
            form.current_password,
            form.new_password,
            client_of(request),
        )
    except InputError as error:
        return render(request, "account.html", 422, visitor=visitor, error=error)
    return redirect("/account?done=password")


@router.get("/help", response_class=HTMLResponse)
def help_page(request: Request) -> Response:
    """Where to get help now: open to everyone, signed in or not (a patient's own locale)."""
    knowledge = clinic_of(request).knowledge
    locale = load_handout_text(knowledge).locale(_locale_of(request))
    return render(request, "help.html", lines=help_lines(locale, "emergency"), guidance=())


def _locale_of(request: Request) -> str:
    """The signed-in patient's locale (crisis lines differ by country); en-US for everyone else."""
    visitor = find_visitor(request)
    if visitor is None or visitor.account.role is not Role.PATIENT:
        return "en-US"
    return clinic_of(request).reading.locale_of(visitor.account)


# ----------------------------------------------------------------------------- patient pages


@router.get("/me", response_class=HTMLResponse)
def patient_today(request: Request, visitor: VisitorDep, day: date | None = None) -> Response:
    """Today's doses; with ``?day=`` an earlier day of the catch-up window, to record it."""
    reading = clinic_of(request).reading
    first, last = reading.catch_up_window()
    if day is not None and not first <= day <= last:
        require_role(visitor.account, Role.PATIENT)  # a clinician's ?day= is refused as a role
        raise InputError(
            "day", day.isoformat(), f"a day from {first} to {last} (your clinic's catch-up window)"
        )
    today = reading.own_today(visitor.account, day)
    tokens = {f"{s.time}-{s.drug}": secrets.token_urlsafe(16) for s in today.slots}
    return render(request, "patient_today.html", visitor=visitor, today=today, tokens=tokens)


@router.post("/me/doses")
async def patient_confirm(request: Request, visitor: VisitorDep) -> Response:
    clinic = clinic_of(request)
    data = await form_of(request, visitor)
    form = parse(schemas.DoseConfirmation, data)
    patient_id = clinic.reading.my_patient_id(visitor.account)
    clinic.recording.confirm_dose(visitor.account, patient_id, form)
    if form.day != clinic.today():
        return redirect(f"/me?day={form.day.isoformat()}&done=dose")
    return redirect("/me?done=dose")


def _scale_context(request: Request) -> list[Scale]:
    return list(load_scales(clinic_of(request).knowledge).patient_scales())


@router.get("/me/checkin", response_class=HTMLResponse)
def checkin_page(request: Request, visitor: VisitorDep) -> Response:
    clinic_of(request).reading.my_patient_id(visitor.account)
    return _checkin_page(request, visitor, {})


def _checkin_page(
    request: Request, visitor: Visitor, values: dict[str, Any], *, resumed: bool = False
) -> Response:
    """The check-in form, filled with ``values`` (kept answers); the client token kept with them,
    so that a form sent twice is saved once."""
    return render(
        request,
        "checkin.html",
        visitor=visitor,
        scales=_scale_context(request),
        values=values,
        token=values.get("client_token") or secrets.token_urlsafe(16),
        error=None,
        resumed=resumed,
    )


def checkin_form(data: dict[str, Any], scale_set: ScaleSet) -> schemas.CheckInForm:
    """Form fields ``<scale>.<item>`` become the nested answers of :class:`schemas.CheckInForm`."""
    scales: dict[str, dict[str, str]] = {}
    plain: dict[str, Any] = {}
    for key, value in data.items():
        scale, dot, item = key.partition(".")
        if dot:
            scales.setdefault(scale, {})[item] = value
        else:
            plain[key] = value
    optional = {s.id for s in scale_set.patient_scales() if s.optional}
    included = {k for k in optional if plain.pop(f"include_{k}", "") == "on"}
    chosen = {k: v for k, v in scales.items() if k not in optional or k in included}
    return parse(schemas.CheckInForm, {**plain, "scales": chosen})


@router.post("/me/checkin", response_class=HTMLResponse)
async def checkin_submit(request: Request) -> Response:
    clinic = clinic_of(request)
    visitor = find_visitor(request)
    if visitor is None:  # the session ended while the form was filled in: keep what was entered
        return await _sign_in_to_keep(request)
    data = await form_of(request, visitor)
    try:
        form = checkin_form(data, load_scales(clinic.knowledge))
        patient_id = clinic.reading.my_patient_id(visitor.account)
        result = clinic.recording.submit_checkin(visitor.account, patient_id, form)
    except InputError as error:  # keep what the patient entered: nothing typed is lost
        return render(
            request,
            "checkin.html",
            422,
            visitor=visitor,
            scales=_scale_context(request),
            values=data,
            token=data.get("client_token") or secrets.token_urlsafe(16),
            error=error,
        )
    if result.guidance:
        locale = load_handout_text(clinic.knowledge).locale(_locale_of(request))
        lines = help_lines(locale, result.help_first)
        shown = {s.text for s in lines}
        return render(
            request,
            "help.html",
            visitor=visitor,
            lines=lines,
            guidance=[g for g in result.guidance if g not in shown],
            after_checkin=True,
        )
    return redirect("/me?done=checkin")


async def _sign_in_to_keep(request: Request) -> Response:
    """The sign-in page carrying the submitted check-in (nothing is saved without a session);
    after signing in, the patient is back on the form with every answer, to check and save."""
    audit_refusal(request, 401)
    form = await request.form()
    kept = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    resume = json.dumps(kept)
    if len(resume) > MAX_RESUME_CHARS:
        resume = ""
    return _login_form(request, 401, error="session ended", resume=resume)


@router.get("/me/history", response_class=HTMLResponse)
def patient_history(request: Request, visitor: VisitorDep) -> Response:
    reading = clinic_of(request).reading
    patient_id = reading.my_patient_id(visitor.account)
    read = reading.history(visitor.account, patient_id)
    return _history(request, visitor, "patient_history.html", read, for_patient=True)


def _history(
    request: Request,
    visitor: Visitor,
    template: str,
    read: tuple[Trends, list[CheckIn]],
    *,
    for_patient: bool = False,
    **more: Any,
) -> Response:
    """The chart and one page of the check-ins (newest first); a patient's own view is phone-sized
    and leaves out the model. ``read``: the trends and check-ins (oldest first), read at once."""
    series, oldest_first = read
    if for_patient:
        series = replace(series, occupancy=None, withdrawal_index=None)
    names = {
        s.id: s.name + ("" if s.validated else " (unvalidated)") for s in _scale_context(request)
    }
    checkins = list(reversed(oldest_first))
    shown = paged(checkins, request.query_params.get("checkins_page"), PAGE_SIZE)
    return render(
        request,
        template,
        visitor=visitor,
        chart=_chart(series, names, compact=for_patient),
        for_patient=for_patient,
        chart_text=trends_text(series, names),
        checkins=checkins,
        checkins_shown=shown,
        names=names,
        series=series,
        **more,
    )


PAGE_SIZE = 25  # rows of a long history shown at once (newest first)
CHARTS_KEPT = 64  # rendered charts kept in the process (least recently used go)

#: rendered SVG charts by everything drawn on them (every series by value, the scale names, the size):
#: drawing is a pure function of these, so a record that has not changed is not drawn again
_CHARTS: OrderedDict[Hashable, str] = OrderedDict()
_CHARTS_LOCK = threading.Lock()


def _chart(series: Trends, names: dict[str, str], *, compact: bool) -> str:
    """:func:`trends_svg`, drawn once for the same series, names and size."""
    drawn = (getattr(series, f.name) for f in fields(series))  # every field, whatever is added
    key = (
        tuple(tuple(sorted(v.items())) if isinstance(v, dict) else v for v in drawn),
        tuple(sorted(names.items())),
        compact,
    )
    with _CHARTS_LOCK:
        found = _CHARTS.get(key)
        if found is not None:
            _CHARTS.move_to_end(key)
            return found
    svg = trends_svg(series, names, compact=compact)
    with _CHARTS_LOCK:
        _CHARTS[key] = svg
        while len(_CHARTS) > CHARTS_KEPT:
            _CHARTS.popitem(last=False)
    return svg


@dataclass(frozen=True, slots=True)
class Paged:
    """One page of a list, newest first: its rows, its number (from 1) and how many pages there are."""

    rows: list[Any]
    number: int
    pages: int


def page_number(asked: str | None) -> int:
    """The page number in ``asked`` (text from the query); anything not a page number: 1."""
    return max(1, int(asked)) if asked and asked.isdigit() else 1


def paged(items: list[Any], asked: str | None, size: int) -> Paged:
    """Page ``asked`` (text from the query; anything not a page number: the first) of ``items``."""
    pages = max(1, -(-len(items) // size))
    number = min(page_number(asked), pages)
    return Paged(items[(number - 1) * size : number * size], number, pages)


# ----------------------------------------------------------------------------- clinician pages


@router.get("/clinic", response_class=HTMLResponse)
def clinic_home(request: Request, visitor: VisitorDep) -> Response:
    rows = clinic_of(request).reading.patient_list(visitor.account)
    return render(request, "clinic.html", visitor=visitor, rows=rows)


@router.get("/clinic/patients/{patient_id}", response_class=HTMLResponse)
def clinic_patient(request: Request, patient_id: int, visitor: VisitorDep) -> Response:
    clinic = clinic_of(request)
    asked = page_number(request.query_params.get("doses_page"))
    page = clinic.reading.clinician_page(
        visitor.account, patient_id, doses_page=asked, page_size=PAGE_SIZE
    )
    course = page.course
    return _history(
        request,
        visitor,
        "clinic_patient.html",
        (page.trends, page.checkins),
        course=course,
        today=page.today,
        alerts=page.alerts,
        adherence=page.adherence,
        doses=Paged(page.latest_doses, page.doses_page, page.doses_pages),
        strategies=[s.value for s in StrategyName if s != StrategyName.CUSTOM],
        risks=[r.value for r in Risk],
        slow_factor=load_alert_rules(clinic.knowledge).actions.slow_factor.value,
        findings=course.current.plan.findings if course else (),
        proposal=page.proposal,
        raised_by=page.raised_by,
        policies=_policies(request),
    )


def _policies(request: Request) -> list[PacingPolicy]:
    """The pacing policies a plan may carry (``fixed`` first), for the forms' choices."""
    found = load_pacing(clinic_of(request).knowledge).policies
    return sorted(found.values(), key=lambda p: (p.adaptive, p.name))


_ACTIONS: dict[str, type[BaseModel]] = {
    "pause": schemas.PauseForm,
    "resume": schemas.ResumeForm,
    "slow": schemas.SlowForm,
    "adjust": schemas.AdjustForm,
    "pace": schemas.PaceForm,
}


@router.post("/clinic/patients/{patient_id}/{action}")
async def clinic_action(
    request: Request, patient_id: int, action: str, visitor: VisitorDep
) -> Response:
    if action not in _ACTIONS:
        raise InputError("action", action, "one of " + ", ".join(_ACTIONS))
    data = await form_of(request, visitor)
    if action == "adjust":
        data["liquid"] = data.get("liquid") == "on"
    form = parse(_ACTIONS[action], data)
    getattr(clinic_of(request).steering, action)(visitor.account, patient_id, form)
    return redirect(f"/clinic/patients/{patient_id}?done={action}")


_PREVIEWED: dict[str, type[schemas.SlowForm] | type[schemas.AdjustForm]] = {
    "slow": schemas.SlowForm,
    "adjust": schemas.AdjustForm,
}


@router.post("/clinic/patients/{patient_id}/{action}/preview", response_class=HTMLResponse)
async def clinic_preview(
    request: Request, patient_id: int, action: str, visitor: VisitorDep
) -> Response:
    """A new plan shown before it is made: today's change, old and new plan by date, the findings;
    confirming posts the same choices to the action itself. Nothing is saved here."""
    if action not in _PREVIEWED:
        raise InputError("action", action, "one of " + ", ".join(_PREVIEWED))
    data = await form_of(request, visitor)
    fields = dict(data)
    if action == "adjust":
        data["liquid"] = data.get("liquid") == "on"
    form = parse(_PREVIEWED[action], data)
    steering = clinic_of(request).steering
    change = (
        steering.slow(visitor.account, patient_id, form, commit=False)
        if isinstance(form, schemas.SlowForm)
        else steering.adjust(visitor.account, patient_id, form, commit=False)
    )
    today = clinic_of(request).reading.today_view(visitor.account, patient_id)
    return render(
        request,
        "plan_preview.html",
        visitor=visitor,
        action=action,
        fields=fields,
        change=change,
        today=today,
        new_plan=change.course.current.plan,
    )


@router.post("/clinic/alerts/{alert_id}/acknowledge")
async def clinic_ack(request: Request, alert_id: int, visitor: VisitorDep) -> Response:
    data = await form_of(request, visitor)
    note = parse(schemas.AckForm, {"note": data.get("note", "")}).note
    clinic_of(request).steering.acknowledge(visitor.account, alert_id, note)
    return _back_after_ack(data)


@router.post("/clinic/patients/{patient_id}/alerts/acknowledge")
async def clinic_ack_key(request: Request, patient_id: int, visitor: VisitorDep) -> Response:
    """Acknowledge one of the patient's alerts by its key (a derived alert has no id yet)."""
    data = await form_of(request, visitor)
    key = parse(schemas.AlertKey, {"key": data.get("key", "")}).key
    note = parse(schemas.AckForm, {"note": data.get("note", "")}).note
    clinic_of(request).steering.acknowledge_key(visitor.account, patient_id, key, note)
    return _back_after_ack(data)


def _back_after_ack(data: dict[str, Any]) -> Response:
    back = data.get("back", "/clinic")
    return redirect((back if back.startswith("/clinic") else "/clinic") + "?done=ack")


# ----------------------------------------------------------------------------- administrator pages


@router.get("/admin", response_class=HTMLResponse)
def admin_home(request: Request, visitor: VisitorDep) -> Response:
    clinic = clinic_of(request)
    return render(
        request,
        "admin.html",
        visitor=visitor,
        clinicians=clinic.enrolment.clinicians(visitor.account),
        strategies=[s.value for s in StrategyName if s != StrategyName.CUSTOM],
        risks=[r.value for r in Risk],
        today=clinic.today().isoformat(),
        policies=_policies(request),
    )


@router.post("/admin/clinicians")
async def admin_new_clinician(request: Request, visitor: VisitorDep) -> Response:
    data = await form_of(request, visitor)
    form = parse(schemas.NewClinician, data)
    clinic_of(request).enrolment.create_clinician(visitor.account, form)
    return redirect("/admin?done=clinician")


@router.post("/admin/patients")
async def admin_new_patient(request: Request, visitor: VisitorDep) -> Response:
    data = await form_of(request, visitor)
    for key in ("comedications", "conditions"):
        data[key] = [s.strip() for s in data.get(key, "").split(",") if s.strip()]
    data["liquid"] = data.get("liquid") == "on"
    clinic_of(request).enrolment.create_patient(visitor.account, parse(schemas.NewPatient, data))
    return redirect("/admin?done=patient")


AUDIT_ACTIONS = ("read", "write", "denied")


def _audit_filter(
    patient_id: int | None = None,
    user: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=8)] = None,
    since: date | None = None,
    until: date | None = None,
) -> AuditFilter:
    """The audit page's filter; an unknown action or a reversed range is an error naming it."""
    if action and action not in AUDIT_ACTIONS:
        raise InputError("action", action, "one of " + ", ".join(AUDIT_ACTIONS))
    if since and until and until < since:
        raise InputError("until", until.isoformat(), f"a day on or after {since}")
    return AuditFilter(user or None, patient_id, action or None, since, until)


AuditFilterDep = Annotated[AuditFilter, Depends(_audit_filter)]


@router.get("/admin/audit", response_class=HTMLResponse)
def admin_audit(
    request: Request,
    visitor: VisitorDep,
    where: AuditFilterDep,
) -> Response:
    limit = 200
    entries = clinic_of(request).audit_log.entries(visitor.account, limit=limit, where=where)
    return render(
        request,
        "audit.html",
        visitor=visitor,
        entries=entries,
        where=where,
        actions=AUDIT_ACTIONS,
        query=request.url.query,
        limit=limit,
        max_entries=MAX_ENTRIES,
    )


@router.get("/admin/audit.csv")
def admin_audit_csv(
    request: Request,
    visitor: VisitorDep,
    where: AuditFilterDep,
) -> Response:
    """The filtered audit log as CSV (the newest entries, up to the API's maximum)."""
    entries = clinic_of(request).audit_log.entries(visitor.account, limit=MAX_ENTRIES, where=where)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "at_utc",
            "user",
            "role",
            "action",
            "what",
            "patient_id",
            "patient_account",
            "detail",
            "knowledge",
        ]
    )
    for e in entries:
        writer.writerow(
            [
                e.at.isoformat(),
                e.username or "",
                e.role,
                e.action,
                e.what,
                e.patient_id or "",
                e.patient_username or "",
                e.detail,
                e.knowledge_version,
            ]
        )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="benzokit-audit.csv"'},
    )
