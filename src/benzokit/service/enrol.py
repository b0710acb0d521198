"""Accounts and enrolment: administrators, clinicians, patients with their first plan.

Each is a method of :class:`Enrolment` in the one shape of :mod:`benzokit.service.unit`: access check,
one transaction, an audit row. Used by the API, the admin pages and ``benzokit admin``; a patient whose
plan cannot be made is not half-enrolled. A planner error names the form's own field
(:mod:`benzokit.service.fields`).
"""

from __future__ import annotations

from benzokit.drugs.loader import load_drug
from benzokit.errors import InputError
from benzokit.interop.handout_text import load_handout_text
from benzokit.monitor.course import ChangeKind, PlanVersion
from benzokit.monitor.records import PatientSummary
from benzokit.plan.api import ProductChoice, parse_from, plan_taper
from benzokit.plan.model import Plan
from benzokit.plan.pacing import FIXED, load_pacing
from benzokit.safety.context import PatientContext
from benzokit.safety.findings import Finding
from benzokit.service import schemas
from benzokit.service.access import require_role
from benzokit.service.dosing import highest_labelled_daily_mg
from benzokit.service.fields import in_form_terms
from benzokit.service.unit import UseCases
from benzokit.store import accounts, records
from benzokit.store.accounts import Account, Role

SYSTEM = Account(0, "system", Role.ADMIN, "benzokit admin command")


class Enrolment(UseCases):
    """Accounts and patients' enrolment."""

    def create_admin(self, username: str, password: str, display_name: str) -> Account:
        """An administrator account (``benzokit admin create-admin`` and the demo only: the caller
        is whoever runs the command on the server)."""
        return self._create_staff(SYSTEM, Role.ADMIN, username, password, display_name)

    def create_clinician(self, actor: Account, form: schemas.NewClinician) -> Account:
        """A clinician account (administrators only)."""
        require_role(actor, Role.ADMIN)
        return self._create_staff(
            actor, Role.CLINICIAN, form.username, form.password, form.display_name
        )

    def _create_staff(
        self, actor: Account, role: Role, username: str, password: str, display_name: str
    ) -> Account:
        """An administrator or clinician account, audited as ``actor``'s write."""
        with self.unit.transaction() as session:
            account = accounts.create_user(
                session,
                username,
                password,
                role=role,
                display_name=display_name,
                now=self.unit.now(),
            )
            self.unit.audit(
                session, actor, "write", "account", None, detail=f"{role} {account.username}"
            )
            return account

    def clinicians(self, actor: Account) -> list[Account]:
        """Every clinician account (for the administrator's page)."""
        require_role(actor, Role.ADMIN)
        with self.unit.transaction() as session:
            found = accounts.clinicians(session)
            self.unit.audit(session, actor, "read", "accounts", None, detail="clinicians")
            return found

    def create_patient(
        self, actor: Account, form: schemas.NewPatient
    ) -> tuple[PatientSummary, tuple[Finding, ...]]:
        """A patient account, record and first plan (a taper from ``current_regimen``), checked for
        safety."""
        require_role(actor, Role.ADMIN, Role.CLINICIAN)
        drug = load_drug(form.drug, self.unit.knowledge)
        age = None if form.birth_year is None else float(form.start_date.year - form.birth_year)
        context = PatientContext.create(
            age_y=age,
            weight_kg=form.weight_kg,
            comedications=form.comedications,
            conditions=form.conditions,
            indication=form.indication,
            knowledge=self.unit.knowledge,
        )
        plan = self._first_plan(drug.name, form, context)
        pacing = load_pacing(self.unit.knowledge).get(form.policy, field="policy")
        self._require_crisis_lines(form.locale)
        with self.unit.transaction() as session:
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
                now=self.unit.now(),
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
                now=self.unit.now(),
            )
            version = PlanVersion(
                1,
                plan,
                self.unit.now(),
                clinician.display_name,
                ChangeKind.INITIAL,
                "enrolment",
                policy=pacing.name if pacing.adaptive else FIXED,
            )
            records.add_plan_version(session, summary.id, version, by_user_id=clinician.id)
            self.unit.audit(session, actor, "write", "enrolment", summary.id, detail=form.username)
            return summary, plan.findings

    def _first_plan(self, drug: str, form: schemas.NewPatient, context: PatientContext) -> Plan:
        try:
            self._require_plannable_dose(drug, form.current_regimen)
            return plan_taper(
                drug,
                form.current_regimen,
                form.strategy,
                risk=form.risk,
                start_date=form.start_date,
                products=ProductChoice(liquid=form.liquid),
                context=context,
                knowledge=self.unit.knowledge,
            )
        except InputError as error:  # the planner names its own fields: say it in the form's
            raise in_form_terms(error) from error

    def _require_plannable_dose(self, drug: str, regimen: str) -> None:
        """Refuse at once a daily dose above every labelled maximum (the planner would search long)."""
        daily_mg, _ = parse_from(regimen, None)
        ceiling = highest_labelled_daily_mg(drug, self.unit.knowledge)
        if daily_mg > ceiling:
            raise InputError(
                "current_regimen",
                regimen,
                f"at most {ceiling:g} mg/day, the highest labelled daily dose of {drug}",
            )

    def _require_crisis_lines(self, locale: str) -> None:
        """A patient is enrolled only where the service can show real crisis and emergency lines."""
        text = load_handout_text(self.unit.knowledge)
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
                f"a locale whose crisis lines are filled in ({', '.join(ready)}); the clinic adds "
                "its country's lines to interop/data/handout_text.toml first",
            )
