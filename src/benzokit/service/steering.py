"""The clinician steers the taper: pause, resume, slow, or a new plan from today's dose.

Each change is a pause or a new plan version (old versions are kept), saved with the safety checker's
findings in one transaction, and audited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

from benzokit.errors import InputError
from benzokit.monitor.change_check import change_pace_findings
from benzokit.monitor.course import (
    ChangeKind,
    Course,
    PlanVersion,
    current_dose,
    pause,
    remaining_plan,
    resume,
    slowed,
)
from benzokit.monitor.records import Alert
from benzokit.plan import fields
from benzokit.plan.api import ProductChoice, plan_taper, with_safety_findings
from benzokit.plan.model import Plan
from benzokit.safety.findings import sort_findings
from benzokit.service import schemas
from benzokit.service.access import AccessError, not_found, patient_for, require_role
from benzokit.service.clinic_base import ClinicBase
from benzokit.service.views import PlanChange
from benzokit.store import records
from benzokit.store.accounts import Account, Role
from benzokit.store.tables import PatientRow


class PlanSteering(ClinicBase):
    """The clinician's plan changes."""

    # ------------------------------------------------------------------ clinician actions

    def acknowledge(self, actor: Account, alert_id: int) -> Alert:
        require_role(actor, Role.CLINICIAN)
        with self._tx() as session:
            alert = records.alert_row(session, alert_id) if 0 < alert_id < 2**31 else None
            if alert is None:
                raise not_found("alert", alert_id)
            try:
                patient_for(session, actor, alert.patient_id)
            except AccessError:
                raise not_found("alert", alert_id) from None
            if alert.acknowledged_at is None:
                alert.acknowledged_at, alert.acknowledged_by = self.now(), actor.id
            self.audit(
                session,
                actor,
                "write",
                "alert",
                alert.patient_id,
                detail=f"acknowledged {alert.code}",
            )
            return records.alert_of(alert)

    def change_plan(
        self,
        actor: Account,
        patient_id: int,
        action: str,
        make: Callable[[Course, PatientRow, date], tuple[Course, str]],
    ) -> PlanChange:
        """Apply a clinician's change (pause, resume, slow, adjust) and save it with its findings."""
        require_role(actor, Role.CLINICIAN)

        today = self.today()
        with self._tx() as session:
            row = patient_for(session, actor, patient_id)
            course = records.course(session, row.id)
            if course is None:
                raise InputError("plan", "none", "a patient with a plan (create one first)")
            changed, message = make(course, row, today)
            if len(changed.versions) > len(course.versions):
                version = changed.current
                records.add_plan_version(session, row.id, version, by_user_id=actor.id)
                findings = version.plan.findings
            else:
                records.save_pauses(
                    session, row.id, changed.pauses, by_user_id=actor.id, now=self.now()
                )
                try:
                    rest = remaining_plan(changed, today)
                    findings = with_safety_findings(rest, self.context_of(row)).findings
                except InputError:
                    findings = ()
            self.audit(session, actor, "write", "plan", row.id, detail=f"{action}: {message}")
            return PlanChange(changed, tuple(findings), message)

    def pause(self, actor: Account, patient_id: int, form: schemas.PauseForm) -> PlanChange:
        def make(course: Course, _row: PatientRow, today: date) -> tuple[Course, str]:
            return pause(
                course, today, reason=form.reason, by=actor.display_name
            ), f"paused from {today}"

        return self.change_plan(actor, patient_id, "pause", make)

    def resume(self, actor: Account, patient_id: int, form: schemas.ResumeForm) -> PlanChange:
        def make(course: Course, _row: PatientRow, today: date) -> tuple[Course, str]:
            return resume(course, today, by=actor.display_name), f"resumed on {today}"

        return self.change_plan(actor, patient_id, "resume", make)

    def slow(self, actor: Account, patient_id: int, form: schemas.SlowForm) -> PlanChange:

        def make(course: Course, row: PatientRow, today: date) -> tuple[Course, str]:
            plan = with_safety_findings(
                slowed(remaining_plan(course, today), form.factor), self.context_of(row)
            )
            version = self._version(course, plan, actor, ChangeKind.SLOWED, form.reason)
            return course.with_version(
                version
            ), f"version {version.number}: every step {form.factor:g} times as long"

        return self.change_plan(actor, patient_id, "slow", make)

    def adjust(self, actor: Account, patient_id: int, form: schemas.AdjustForm) -> PlanChange:

        def make(course: Course, row: PatientRow, today: date) -> tuple[Course, str]:
            step = course.step_on(today)
            if step is None or not step.doses:
                raise InputError("plan", "completed", "a course with a current dose to taper from")
            try:
                plan = plan_taper(
                    row.drug,
                    current_dose(step, row.drug),
                    form.strategy,
                    risk=form.risk,
                    start_date=today,
                    products=ProductChoice(liquid=form.liquid),
                    interval_days=form.interval_days,
                    reduction_fraction=None
                    if form.reduction_percent is None
                    else form.reduction_percent / 100,
                    hold_days_after_cut=form.hold_days,
                    context=self.context_of(row),
                )
            except (
                InputError
            ) as error:  # the planner names its CLI options; say it in the form's words
                raise _in_form_terms(error, form, step.daily_dose_mg()) from error
            version = self._version(course, plan, actor, ChangeKind.ADJUSTED, form.reason)
            return course.with_version(
                version
            ), f"version {version.number}: {form.strategy} taper from today"

        return self.change_plan(actor, patient_id, "adjust", make)

    def _version(
        self, course: Course, plan: Plan, actor: Account, change: ChangeKind, reason: str
    ) -> PlanVersion:
        """The next version; its findings include the pace across the change (with the last days)."""
        across = change_pace_findings(course, plan, self.today())
        plan = replace(plan, findings=sort_findings([*plan.findings, *across]))
        return PlanVersion(
            course.current.number + 1, plan, self.now(), actor.display_name, change, reason
        )


_FORM_FIELDS = {
    fields.TAPER_INTERVAL: "interval_days",
    fields.TAPER_REDUCTION: "reduction_percent",
    fields.TAPER_HOLD: "hold_days",
    fields.TAPER_STRATEGY: "strategy",
}


def _in_form_terms(error: InputError, form: schemas.AdjustForm, daily_mg: float) -> InputError:
    if error.field == fields.TAPER_FROM:
        if not form.liquid:
            return InputError(
                "liquid",
                False,
                f"the oral liquid: today's dose ({daily_mg:g} mg/day) cannot be made from tablets "
                "alone; tick 'Use the oral liquid for small steps'",
            )
        return InputError("strategy", str(form.strategy), error.allowed)
    return InputError(_FORM_FIELDS.get(error.field, error.field), error.value, error.allowed)
