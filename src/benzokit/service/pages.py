"""The server-rendered pages: patients (phone-first), clinicians, administrators.

Each handler parses the form into the same schema the API uses, calls the same use case and renders a
template. Changes redirect afterwards (post/redirect/get), so a reload never repeats them.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ValidationError

from benzokit._disclaimer import DISCLAIMER
from benzokit.errors import BenzokitError, InputError
from benzokit.interop.handout_text import load_handout_text
from benzokit.monitor.scales import load_scales
from benzokit.plan.strategies import Risk, StrategyName
from benzokit.service import schemas
from benzokit.service.charts import trends_svg, trends_text
from benzokit.service.records_view import trends
from benzokit.service.web import (
    SESSION_COOKIE,
    Visitor,
    change_password,
    check_csrf,
    clinic_of,
    find_visitor,
    require_visitor,
    set_session_cookie,
    settings_of,
    sign_in,
    sign_out,
)
from benzokit.store.accounts import Role
from benzokit.store.records import latest_dose_logs

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "benzokit_login_csrf"
VisitorDep = Annotated[Visitor, Depends(require_visitor)]

DONE = {
    "dose": "Saved: your dose is recorded.",
    "checkin": "Thank you: your check-in is saved.",
    "pause": "The taper is paused: the patient stays on today's dose.",
    "resume": "The taper is running again.",
    "slow": "A new, slower plan version is in force from today.",
    "adjust": "A new plan version is in force from today.",
    "ack": "Alert acknowledged.",
    "clinician": "Clinician account created.",
    "patient": "Patient enrolled with their first plan.",
    "password": "Your password is changed; your other sessions have ended.",
}


def _templates() -> Jinja2Templates:
    from importlib import resources
    from pathlib import Path

    folder = Path(str(resources.files("benzokit.service") / "templates"))
    templates = Jinja2Templates(directory=str(folder))
    templates.env.globals |= {"DISCLAIMER": DISCLAIMER}
    templates.env.filters["mg"] = lambda v: f"{round(float(v), 6):g}"
    return templates


FIELD_WORDS = {
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


def field_words(field: str) -> str:
    """A field as the page names it: ``gad7.item3`` is "GAD-7, question 3"."""
    scale, dot, item = field.partition(".")
    if dot and item.startswith("item") and item[4:].isdigit() and scale in load_scales().ids():
        return f"{load_scales().get(scale).name}, question {item[4:]}"
    return FIELD_WORDS.get(field, field.replace("_", " "))


def error_text(error: BenzokitError) -> str:
    """An error for a page: the field in words and what is allowed, without the code's names."""
    if isinstance(error, InputError):
        return f"{field_words(error.field)}: {error.allowed}."
    return str(error)


TEMPLATES = _templates()
TEMPLATES.env.filters["field_words"] = field_words
TEMPLATES.env.filters["error_text"] = error_text


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    visitor = context.pop("visitor", None) or find_visitor(request)
    done = DONE.get(request.query_params.get("done", ""))
    return TEMPLATES.TemplateResponse(
        request, name, {"visitor": visitor, "done": done, **context}, status_code=status
    )


def error_page(
    request: Request, error: BenzokitError, status: int, headers: Mapping[str, str] | None
) -> Response:
    response = render(request, "error.html", status, error=error, status_code=status)
    if headers:
        response.headers.update(headers)
    return response


def parse(model: type[BaseModel], data: dict[str, Any]) -> Any:
    """The form as ``model``; the first problem is an :class:`InputError` naming the field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "form"
        given = "(hidden)" if "password" in field else first.get("input")
        raise InputError(field, given, first["msg"]) from None


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
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", login_csrf=token, error=error)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login")
    return response


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    login_csrf: Annotated[str, Form(max_length=64)],
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, login_csrf):
        return redirect("/login?error=expired")
    try:
        _, token, _ = sign_in(request, username, password)
    except InputError:
        return render(
            request, "login.html", 401, login_csrf=login_csrf, error="wrong", username=username
        )
    response = redirect("/")
    set_session_cookie(response, token, settings_of(request))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, visitor: VisitorDep) -> Response:
    await form_of(request, visitor)
    sign_out(request, visitor)
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
        change_password(request, visitor, form.current_password, form.new_password)
    except InputError as error:
        return render(request, "account.html", 422, visitor=visitor, error=error)
    return redirect("/account?done=password")


@router.get("/help", response_class=HTMLResponse)
def help_page(request: Request) -> Response:
    """Where to get help now: open to everyone, signed in or not (a patient's own locale)."""
    locale = load_handout_text().locale(_locale_of(request))
    return render(
        request, "help.html", crisis=locale.crisis, emergency=locale.emergency, guidance=()
    )


def _locale_of(request: Request) -> str:
    """The signed-in patient's locale (crisis lines differ by country); en-US for everyone else."""
    visitor = find_visitor(request)
    if visitor is None or visitor.account.role is not Role.PATIENT:
        return "en-US"
    return clinic_of(request).locale_of(visitor.account)


# ----------------------------------------------------------------------------- patient pages


@router.get("/me", response_class=HTMLResponse)
def patient_today(request: Request, visitor: VisitorDep) -> Response:
    clinic = clinic_of(request)
    patient_id = clinic.my_patient_id(visitor.account)
    today = clinic.today_view(visitor.account, patient_id)
    tokens = {f"{s.time}-{s.drug}": secrets.token_urlsafe(16) for s in today.slots}
    return render(request, "patient_today.html", visitor=visitor, today=today, tokens=tokens)


@router.post("/me/doses")
async def patient_confirm(request: Request, visitor: VisitorDep) -> Response:
    clinic = clinic_of(request)
    data = await form_of(request, visitor)
    form = parse(schemas.DoseConfirmation, data)
    clinic.confirm_dose(visitor.account, clinic.my_patient_id(visitor.account), form)
    return redirect("/me?done=dose")


def _scale_context() -> list[Any]:
    return list(load_scales().patient_scales())


@router.get("/me/checkin", response_class=HTMLResponse)
def checkin_page(request: Request, visitor: VisitorDep) -> Response:
    clinic_of(request).my_patient_id(visitor.account)
    return render(
        request,
        "checkin.html",
        visitor=visitor,
        scales=_scale_context(),
        values={},
        token=secrets.token_urlsafe(16),
        error=None,
    )


def checkin_form(data: dict[str, Any]) -> schemas.CheckInForm:
    """Form fields ``<scale>.<item>`` become the nested answers of :class:`schemas.CheckInForm`."""
    scales: dict[str, dict[str, str]] = {}
    plain: dict[str, Any] = {}
    for key, value in data.items():
        scale, dot, item = key.partition(".")
        if dot:
            scales.setdefault(scale, {})[item] = value
        else:
            plain[key] = value
    optional = {s.id for s in load_scales().patient_scales() if s.optional}
    included = {k for k in optional if plain.pop(f"include_{k}", "") == "on"}
    chosen = {k: v for k, v in scales.items() if k not in optional or k in included}
    form: schemas.CheckInForm = parse(schemas.CheckInForm, {**plain, "scales": chosen})
    return form


@router.post("/me/checkin", response_class=HTMLResponse)
async def checkin_submit(request: Request, visitor: VisitorDep) -> Response:
    clinic = clinic_of(request)
    data = await form_of(request, visitor)
    try:
        form = checkin_form(data)
        result = clinic.submit_checkin(visitor.account, clinic.my_patient_id(visitor.account), form)
    except InputError as error:  # keep what the patient entered: nothing typed is lost
        return render(
            request,
            "checkin.html",
            422,
            visitor=visitor,
            scales=_scale_context(),
            values=data,
            token=data.get("client_token") or secrets.token_urlsafe(16),
            error=error,
        )
    if result.guidance:
        locale = load_handout_text().locale(_locale_of(request))
        return render(
            request,
            "help.html",
            visitor=visitor,
            crisis=(),
            emergency=locale.emergency,
            guidance=result.guidance,
            after_checkin=True,
        )
    return redirect("/me?done=checkin")


@router.get("/me/history", response_class=HTMLResponse)
def patient_history(request: Request, visitor: VisitorDep) -> Response:
    clinic = clinic_of(request)
    patient_id = clinic.my_patient_id(visitor.account)
    return _history(request, visitor, patient_id, "patient_history.html", for_patient=True)


def _history(
    request: Request,
    visitor: Visitor,
    patient_id: int,
    template: str,
    *,
    for_patient: bool = False,
    **more: Any,
) -> Response:
    """The chart and check-ins; a patient's own view is phone-sized and leaves out the model."""
    clinic = clinic_of(request)
    series = trends(clinic, visitor.account, patient_id)
    if for_patient:
        series = replace(series, occupancy=None, withdrawal_index=None)
    names = {s.id: s.name for s in load_scales().patient_scales()}
    checkins = clinic.checkin_history(visitor.account, patient_id)
    return render(
        request,
        template,
        visitor=visitor,
        chart=trends_svg(series, names, compact=for_patient),
        for_patient=for_patient,
        chart_text=trends_text(series, names),
        checkins=list(reversed(checkins)),
        names=names,
        series=series,
        **more,
    )


# ----------------------------------------------------------------------------- clinician pages


@router.get("/clinic", response_class=HTMLResponse)
def clinic_home(request: Request, visitor: VisitorDep) -> Response:
    rows = clinic_of(request).patient_list(visitor.account)
    return render(request, "clinic.html", visitor=visitor, rows=rows)


@router.get("/clinic/patients/{patient_id}", response_class=HTMLResponse)
def clinic_patient(request: Request, patient_id: int, visitor: VisitorDep) -> Response:
    clinic = clinic_of(request)
    if visitor.account.role is not Role.CLINICIAN:
        from benzokit.service.access import require_role

        require_role(visitor.account, Role.CLINICIAN)
    course = clinic.course(visitor.account, patient_id)
    today = clinic.today_view(visitor.account, patient_id)
    alerts = clinic.alerts(visitor.account, patient_id)
    doses = clinic.dose_history(visitor.account, patient_id)
    from benzokit.monitor.alerts import load_alert_rules

    return _history(
        request,
        visitor,
        patient_id,
        "clinic_patient.html",
        course=course,
        today=today,
        alerts=alerts,
        adherence=clinic.adherence_of(visitor.account, patient_id),
        doses=list(reversed(latest_dose_logs(doses)))[:30],
        strategies=[s.value for s in StrategyName if s != StrategyName.CUSTOM],
        risks=[r.value for r in Risk],
        slow_factor=load_alert_rules().actions.slow_factor.value,
        findings=course.current.plan.findings if course else (),
    )


_ACTIONS: dict[str, type[BaseModel]] = {
    "pause": schemas.PauseForm,
    "resume": schemas.ResumeForm,
    "slow": schemas.SlowForm,
    "adjust": schemas.AdjustForm,
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
    getattr(clinic_of(request), action)(visitor.account, patient_id, form)
    return redirect(f"/clinic/patients/{patient_id}?done={action}")


@router.post("/clinic/alerts/{alert_id}/acknowledge")
async def clinic_ack(request: Request, alert_id: int, visitor: VisitorDep) -> Response:
    data = await form_of(request, visitor)
    clinic_of(request).acknowledge(visitor.account, alert_id)
    back = data.get("back", "/clinic")
    return redirect((back if back.startswith("/clinic") else "/clinic") + "?done=ack")


# ----------------------------------------------------------------------------- administrator pages


@router.get("/admin", response_class=HTMLResponse)
def admin_home(request: Request, visitor: VisitorDep) -> Response:
    from benzokit.service.access import require_role

    require_role(visitor.account, Role.ADMIN)
    from benzokit.service.enrol import clinicians

    return render(
        request,
        "admin.html",
        visitor=visitor,
        clinicians=clinicians(clinic_of(request)),
        strategies=[s.value for s in StrategyName if s != StrategyName.CUSTOM],
        risks=[r.value for r in Risk],
        today=clinic_of(request).today().isoformat(),
    )


@router.post("/admin/clinicians")
async def admin_new_clinician(request: Request, visitor: VisitorDep) -> Response:
    from benzokit.service.enrol import create_clinician

    data = await form_of(request, visitor)
    create_clinician(clinic_of(request), visitor.account, parse(schemas.NewClinician, data))
    return redirect("/admin?done=clinician")


@router.post("/admin/patients")
async def admin_new_patient(request: Request, visitor: VisitorDep) -> Response:
    from benzokit.service.enrol import create_patient

    data = await form_of(request, visitor)
    for key in ("comedications", "conditions"):
        data[key] = [s.strip() for s in data.get(key, "").split(",") if s.strip()]
    data["liquid"] = data.get("liquid") == "on"
    create_patient(clinic_of(request), visitor.account, parse(schemas.NewPatient, data))
    return redirect("/admin?done=patient")


@router.get("/admin/audit", response_class=HTMLResponse)
def admin_audit(request: Request, visitor: VisitorDep, patient_id: int | None = None) -> Response:
    from benzokit.service.audit import MAX_ENTRIES, audit_entries

    limit = 200
    entries = audit_entries(clinic_of(request), visitor.account, patient_id=patient_id, limit=limit)
    return render(
        request,
        "audit.html",
        visitor=visitor,
        entries=entries,
        patient_id=patient_id,
        limit=limit,
        max_entries=MAX_ENTRIES,
    )
