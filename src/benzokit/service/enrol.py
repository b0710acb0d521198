"""Accounts and enrolment: clinicians (by an administrator), patients with their first plan.

Used by the API, the admin pages and ``benzokit admin``; each runs in one transaction, so a patient
whose plan cannot be made is not half-enrolled.
"""

from __future__ import annotations

from benzokit.drugs.loader import load_drug
from benzokit.errors import InputError
from benzokit.interop.handout_text import load_handout_text
from benzokit.monitor.course import ChangeKind, PlanVersion
from benzokit.monitor.records import PatientSummary
from benzokit.plan import fields
from benzokit.plan.api import ProductChoice, parse_from, plan_taper
from benzokit.safety.context import PatientContext
from benzokit.safety.findings import Finding
from benzokit.service import schemas
from benzokit.service.access import require_role
from benzokit.service.clinic import Clinic
from benzokit.service.dosing import highest_labelled_daily_mg
from benzokit.store import accounts, records
from benzokit.store.accounts import Account, Role

SYSTEM = Account(0, "system", Role.ADMIN, "benzokit admin command")


def create_admin(clinic: Clinic, username: str, password: str, display_name: str) -> Account:
    with clinic.db.transaction() as session:
        return accounts.create_user(
            session,
            username,
            password,
            role=Role.ADMIN,
            display_name=display_name,
            now=clinic.now(),
        )


def create_clinician(clinic: Clinic, actor: Account, form: schemas.NewClinician) -> Account:
    """A clinician account (administrators only)."""
    require_role(actor, Role.ADMIN)
    with clinic.db.transaction() as session:
        account = accounts.create_user(
            session,
            form.username,
            form.password,
            role=Role.CLINICIAN,
            display_name=form.display_name,
            now=clinic.now(),
        )
        clinic.audit(
            session, actor, "write", "account", None, detail=f"clinician {account.username}"
        )
        return account


def create_patient(
    clinic: Clinic, actor: Account, form: schemas.NewPatient
) -> tuple[PatientSummary, tuple[Finding, ...]]:
    """A patient account, record and first plan (a taper from ``current_regimen``), checked for safety."""
    require_role(actor, Role.ADMIN, Role.CLINICIAN)
    drug = load_drug(form.drug)
    age = None if form.birth_year is None else float(form.start_date.year - form.birth_year)
    context = PatientContext.create(
        age_y=age,
        weight_kg=form.weight_kg,
        comedications=form.comedications,
        conditions=form.conditions,
        indication=form.indication,
    )
    try:
        _require_plannable_dose(drug.name, form.current_regimen)
        plan = plan_taper(
            drug.name,
            form.current_regimen,
            form.strategy,
            risk=form.risk,
            start_date=form.start_date,
            products=ProductChoice(liquid=form.liquid),
            context=context,
        )
    except InputError as error:  # the planner names its own options; the form's field is this one
        if error.field == fields.TAPER_FROM:
            raise InputError("current_regimen", error.value, error.allowed) from error
        raise
    _require_crisis_lines(form.locale)
    with clinic.db.transaction() as session:
        clinician = accounts.find_account(session, form.clinician)
        if clinician is None or clinician.role is not Role.CLINICIAN:
            raise InputError("clinician", form.clinician, "the username of a clinician account")
        if actor.role is Role.CLINICIAN and clinician.id != actor.id:
            raise InputError("clinician", form.clinician, f"yourself ({actor.username})")
        user = accounts.create_user(
            session,
            form.username,
            form.password,
            role=Role.PATIENT,
            display_name=form.display_name,
            now=clinic.now(),
        )
        summary = records.add_patient(
            session,
            PatientSummary(
                id=0,
                display_name=form.display_name,
                drug=drug.name,
                indication=form.indication,
                birth_year=form.birth_year,
                weight_kg=form.weight_kg,
                comedications=tuple(a.name for a in context.comedications),
                conditions=context.conditions,
            ),
            user_id=user.id,
            clinician_id=clinician.id,
            locale=form.locale,
            now=clinic.now(),
        )
        version = PlanVersion(
            1, plan, clinic.now(), clinician.display_name, ChangeKind.INITIAL, "enrolment"
        )
        records.add_plan_version(session, summary.id, version, by_user_id=clinician.id)
        clinic.audit(session, actor, "write", "enrolment", summary.id, detail=form.username)
        return summary, plan.findings


def _require_plannable_dose(drug: str, regimen: str) -> None:
    """Refuse at once a daily dose above every labelled maximum (the planner would search long)."""
    daily_mg, _ = parse_from(regimen, None)
    ceiling = highest_labelled_daily_mg(drug)
    if daily_mg > ceiling:
        raise InputError(
            "current_regimen",
            regimen,
            f"at most {ceiling:g} mg/day, the highest labelled daily dose of {drug}",
        )


def _require_crisis_lines(locale: str) -> None:
    """A patient is enrolled only where the service can show real crisis and emergency lines."""
    text = load_handout_text()
    where = text.locale(locale)
    if any(s.placeholder for s in (*where.crisis, where.emergency)):
        ready = [
            code
            for code, loc in text.locales.items()
            if not any(s.placeholder for s in (*loc.crisis, loc.emergency))
        ]
        raise InputError(
            "locale",
            locale,
            f"a locale whose crisis lines are filled in ({', '.join(ready)}); the clinic adds its "
            "country's lines to interop/data/handout_text.toml first",
        )


def clinicians(clinic: Clinic) -> list[Account]:
    """Every clinician account (for the administrator's page)."""
    from sqlalchemy import select

    from benzokit.store.tables import User

    with clinic.db.transaction() as session:
        users = session.scalars(
            select(User).where(User.role == str(Role.CLINICIAN)).order_by(User.username)
        )
        return [Account(u.id, u.username, Role(u.role), u.display_name) for u in users]
