"""The REST API (``/api/v1``): everything the pages do, as JSON, with OpenAPI docs at ``/api/docs``.

Sign in with ``POST /api/v1/session``; the session cookie it sets authenticates later calls, and every
call that changes something sends the ``X-CSRF-Token`` header it returned.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from benzokit._disclaimer import DISCLAIMER
from benzokit.monitor.course import Course
from benzokit.monitor.scales import load_scales
from benzokit.service import schemas
from benzokit.service.access import MAX_ID
from benzokit.service.audit import MAX_ENTRIES
from benzokit.service.responses import (
    AlertOut,
    AlertsOut,
    CheckInsOut,
    DoseOut,
    DosesOut,
    ErrorOut,
    PatientOut,
    PatientsOut,
)
from benzokit.service.views import CheckInResult, PlanChange, Today
from benzokit.service.web import (
    CSRF_HEADER,
    SESSION_COOKIE,
    Visitor,
    check_csrf,
    client_of,
    clinic_of,
    require_visitor,
    set_session_cookie,
    settings_of,
)

router = APIRouter(prefix="/api/v1")
VisitorDep = Annotated[Visitor, Depends(require_visitor)]

PatientId = Annotated[int, Path(ge=1, le=MAX_ID, description="a patient record's id")]
AlertId = Annotated[int, Path(ge=1, le=MAX_ID, description="a stored alert's id")]

_ERRORS = {
    400: "the request could not be carried out (the message says why)",
    401: "not signed in, or the session expired",
    403: "this account may not do this, or the X-CSRF-Token header is missing or wrong",
    404: "no such record among those this account may see",
    413: "the request body is larger than the service accepts",
    422: "an input was refused: the error names the field, the value given and what is allowed",
    429: "too many failed sign-ins: try again after Retry-After seconds",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error answers a route can give, each with the error body's schema."""
    return {status: {"model": ErrorOut, "description": _ERRORS[status]} for status in statuses}


#: a read of one patient's record (an id out of range or a bad query value is 422)
READ = errors(401, 404, 422)
#: a change: also the CSRF header (403), the body's size (413) and a refusal of the use case (400)
CHANGE = errors(400, 401, 403, 404, 413, 422)


async def csrf_checked(
    visitor: VisitorDep, x_csrf_token: Annotated[str | None, Header(alias=CSRF_HEADER)] = None
) -> Visitor:
    """The visitor, if the header carries their session's CSRF token (no I/O: async, so it runs in
    the event loop rather than taking a worker thread of its own)."""
    check_csrf(visitor, x_csrf_token)
    return visitor


ChangingVisitor = Annotated[Visitor, Depends(csrf_checked)]


def _json(value: Any) -> Any:
    return jsonable_encoder(value)


def _object(value: Any) -> dict[str, Any]:
    encoded: dict[str, Any] = jsonable_encoder(value)
    return encoded


def course_json(course: Course | None) -> dict[str, Any] | None:
    if course is None:
        return None
    return {
        "paused": course.paused,
        "versions": [
            {
                "number": v.number,
                "change": str(v.change),
                "reason": v.reason,
                "created_at": v.created_at.isoformat(),
                "created_by": v.created_by,
                "policy": v.policy,
                "plan": v.plan.to_dict(),
            }
            for v in course.versions
        ],
        "pauses": [_json(asdict(p)) for p in course.pauses],
    }


def change_json(change: PlanChange) -> dict[str, Any]:
    return {
        "message": change.message,
        "findings": [f.to_dict() for f in change.findings],
        "course": course_json(change.course),
        "disclaimer": DISCLAIMER,
    }


@router.post("/session", tags=["session"], responses=errors(400, 413, 422, 429))
def open_session(request: Request, body: schemas.Login) -> JSONResponse:
    """Sign in: sets the session cookie and returns the CSRF token for later changes."""
    opened = clinic_of(request).signin.sign_in(body.username, body.password, client_of(request))
    response = JSONResponse({"account": _json(opened.account), "csrf_token": opened.csrf_token})
    set_session_cookie(response, opened.token, settings_of(request))
    return response


@router.delete("/session", tags=["session"], status_code=204, responses=errors(401, 403, 422))
def close_session(request: Request, visitor: ChangingVisitor) -> Response:
    """Sign out."""
    clinic_of(request).signin.sign_out(visitor.account, visitor.token)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", tags=["session"], responses=errors(401, 404, 422))
def me(request: Request, visitor: VisitorDep) -> dict[str, Any]:
    """The signed-in account (and, for a patient, their record's id)."""
    data: dict[str, Any] = {"account": _json(visitor.account)}
    if visitor.account.role == "patient":
        data["patient_id"] = clinic_of(request).reading.my_patient_id(visitor.account)
    return data


@router.post("/me/password", tags=["session"], status_code=204, responses=CHANGE | errors(429))
def new_password(
    request: Request, body: schemas.PasswordChange, visitor: ChangingVisitor
) -> Response:
    """Change your password (your other sessions end)."""
    clinic_of(request).signin.change_password(
        visitor.account, visitor.token, body.current_password, body.new_password, client_of(request)
    )
    return Response(status_code=204)


@router.get("/scales", tags=["check-ins"], responses=errors(401))
def scales(request: Request, visitor: VisitorDep) -> dict[str, Any]:
    """The instruments a patient completes in a check-in, with items, options, bands and licence."""
    found = load_scales(clinic_of(request).knowledge).patient_scales()
    return {"scales": [s.model_dump(mode="json") for s in found]}


@router.get("/patients", tags=["patients"], responses=errors(401, 403, 422))
def patients(request: Request, visitor: VisitorDep) -> PatientsOut:
    """A clinician's patients with their flags (open alerts, adherence, last check-in)."""
    return PatientsOut(patients=clinic_of(request).reading.patient_list(visitor.account))


@router.get("/patients/{patient_id}", tags=["patients"], responses=READ)
def patient(request: Request, patient_id: PatientId, visitor: VisitorDep) -> PatientOut:
    return PatientOut(patient=clinic_of(request).reading.summary(visitor.account, patient_id))


@router.get("/patients/{patient_id}/today", tags=["doses"], responses=READ)
def today(
    request: Request, patient_id: PatientId, visitor: VisitorDep, day: date | None = None
) -> Today:
    """The planned doses of ``day`` (default today) and what was recorded for each."""
    return clinic_of(request).reading.today_view(visitor.account, patient_id, day)


@router.post("/patients/{patient_id}/doses", tags=["doses"], status_code=201, responses=CHANGE)
def confirm_dose(
    request: Request,
    patient_id: PatientId,
    body: schemas.DoseConfirmation,
    visitor: ChangingVisitor,
) -> DoseOut:
    """Confirm a planned dose: taken, missed, taken late or a different amount."""
    return DoseOut(
        dose=clinic_of(request).recording.confirm_dose(visitor.account, patient_id, body)
    )


@router.get("/patients/{patient_id}/doses", tags=["doses"], responses=READ)
def doses(request: Request, patient_id: PatientId, visitor: VisitorDep) -> DosesOut:
    """Every dose confirmation, oldest first (corrections included: the latest counts)."""
    return DosesOut(doses=clinic_of(request).reading.dose_history(visitor.account, patient_id))


@router.post(
    "/patients/{patient_id}/checkins", tags=["check-ins"], status_code=201, responses=CHANGE
)
def submit_checkin(
    request: Request, patient_id: PatientId, body: schemas.CheckInForm, visitor: ChangingVisitor
) -> CheckInResult:
    """A check-in; urgent answers raise an alert and return crisis guidance at once."""
    return clinic_of(request).recording.submit_checkin(visitor.account, patient_id, body)


@router.get("/patients/{patient_id}/checkins", tags=["check-ins"], responses=READ)
def checkins(request: Request, patient_id: PatientId, visitor: VisitorDep) -> CheckInsOut:
    """Every check-in with its scored scales, oldest first."""
    return CheckInsOut(
        checkins=clinic_of(request).reading.checkin_history(visitor.account, patient_id)
    )


@router.get("/patients/{patient_id}/alerts", tags=["alerts"], responses=READ)
def alerts(
    request: Request, patient_id: PatientId, visitor: VisitorDep, open_only: bool = False
) -> AlertsOut:
    """The patient's alerts, most urgent and newest first, each with its source."""
    found = clinic_of(request).reading.alerts(visitor.account, patient_id, open_only=open_only)
    return AlertsOut(alerts=found)


@router.post("/alerts/{alert_id}/acknowledge", tags=["alerts"], responses=CHANGE)
def acknowledge(
    request: Request,
    alert_id: AlertId,
    visitor: ChangingVisitor,
    body: schemas.AckForm | None = None,
) -> AlertOut:
    """Mark an alert as seen by the patient's clinician (its text is kept), with an optional note
    of what was done (kept with the alert, as the page's acknowledgement note)."""
    note = body.note if body is not None else ""
    return AlertOut(alert=clinic_of(request).steering.acknowledge(visitor.account, alert_id, note))


@router.post("/patients/{patient_id}/alerts/acknowledge", tags=["alerts"], responses=CHANGE)
def acknowledge_key(
    request: Request, patient_id: PatientId, body: schemas.AlertKey, visitor: ChangingVisitor
) -> AlertOut:
    """Mark one of the patient's alerts as seen by its key: also a day-based alert derived on read
    (no id yet), which is then saved, acknowledged; with an optional note of what was done."""
    steering = clinic_of(request).steering
    return AlertOut(
        alert=steering.acknowledge_key(visitor.account, patient_id, body.key, body.note)
    )


@router.get("/patients/{patient_id}/plan", tags=["plan"], responses=READ)
def plan(request: Request, patient_id: PatientId, visitor: VisitorDep) -> dict[str, Any]:
    """Every plan version (old ones kept) and the pauses."""
    return {
        "course": course_json(clinic_of(request).reading.course(visitor.account, patient_id)),
        "disclaimer": DISCLAIMER,
    }


@router.post("/patients/{patient_id}/plan/pause", tags=["plan"], responses=CHANGE)
def pause(
    request: Request, patient_id: PatientId, body: schemas.PauseForm, visitor: ChangingVisitor
) -> dict[str, Any]:
    """Pause the taper: the patient stays on today's dose until resumed."""
    return change_json(clinic_of(request).steering.pause(visitor.account, patient_id, body))


@router.post("/patients/{patient_id}/plan/resume", tags=["plan"], responses=CHANGE)
def resume(
    request: Request, patient_id: PatientId, body: schemas.ResumeForm, visitor: ChangingVisitor
) -> dict[str, Any]:
    return change_json(clinic_of(request).steering.resume(visitor.account, patient_id, body))


@router.post("/patients/{patient_id}/plan/slow", tags=["plan"], responses=CHANGE)
def slow(
    request: Request, patient_id: PatientId, body: schemas.SlowForm, visitor: ChangingVisitor
) -> dict[str, Any]:
    """A new plan version from today with every remaining step longer."""
    return change_json(clinic_of(request).steering.slow(visitor.account, patient_id, body))


@router.post("/patients/{patient_id}/plan/adjust", tags=["plan"], responses=CHANGE)
def adjust(
    request: Request, patient_id: PatientId, body: schemas.AdjustForm, visitor: ChangingVisitor
) -> dict[str, Any]:
    """A new plan version from today's dose, made by the planner and checked for safety."""
    return change_json(clinic_of(request).steering.adjust(visitor.account, patient_id, body))


@router.get(
    "/patients/{patient_id}/plan/pacing", tags=["plan"], responses=errors(401, 403, 404, 422)
)
def pacing_proposal(request: Request, patient_id: PatientId, visitor: VisitorDep) -> dict[str, Any]:
    """The pacing policy's proposal for the next step (null: nothing to propose): the policy's
    decision and reasons, and each choice with the model's peak withdrawal index (clinicians)."""
    found = clinic_of(request).reading.pacing_proposal(visitor.account, patient_id)
    return {"proposal": None if found is None else _json(asdict(found)), "disclaimer": DISCLAIMER}


@router.post("/patients/{patient_id}/plan/pacing", tags=["plan"], responses=CHANGE)
def accept_pace(
    request: Request, patient_id: PatientId, body: schemas.PaceForm, visitor: ChangingVisitor
) -> dict[str, Any]:
    """Accept one choice of the pacing proposal made on plan version ``version``: a new version from
    today, audited with the policy's reasons. Sent twice, the second changes nothing."""
    return change_json(clinic_of(request).steering.pace(visitor.account, patient_id, body))


@router.get("/patients/{patient_id}/trends", tags=["patients"], responses=READ)
def patient_trends(request: Request, patient_id: PatientId, visitor: VisitorDep) -> dict[str, Any]:
    """Daily planned and taken doses, scale totals, predicted occupancy and withdrawal index."""
    return _object(clinic_of(request).reading.trends(visitor.account, patient_id))


@router.get("/patients/{patient_id}/fhir", tags=["patients"], responses=READ)
def fhir(request: Request, patient_id: PatientId, visitor: VisitorDep) -> dict[str, Any]:
    """The record as a FHIR R4 Bundle (MedicationRequest, MedicationStatement, QuestionnaireResponse,
    Observation)."""
    return clinic_of(request).reading.fhir_record(visitor.account, patient_id)


@router.post("/admin/clinicians", tags=["admin"], status_code=201, responses=CHANGE)
def new_clinician(
    request: Request, body: schemas.NewClinician, visitor: ChangingVisitor
) -> dict[str, Any]:
    account = clinic_of(request).enrolment.create_clinician(visitor.account, body)
    return {"account": _json(account)}


@router.post("/admin/patients", tags=["admin"], status_code=201, responses=CHANGE)
def new_patient(
    request: Request, body: schemas.NewPatient, visitor: ChangingVisitor
) -> dict[str, Any]:
    """Enrol a patient: account, record and the first plan version (clinician or admin)."""
    summary, findings = clinic_of(request).enrolment.create_patient(visitor.account, body)
    return {"patient": _json(summary), "findings": [f.to_dict() for f in findings]}


@router.get("/admin/audit", tags=["admin"], responses=errors(401, 403, 422))
def audit_log(
    request: Request,
    visitor: VisitorDep,
    patient_id: PatientId | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_ENTRIES)] = 200,
) -> dict[str, Any]:
    """The newest audit-log entries: who read or changed which record, and refused requests."""
    audit_log = clinic_of(request).audit_log
    entries = audit_log.entries(visitor.account, patient_id=patient_id, limit=limit)
    return {"entries": _json(entries)}
