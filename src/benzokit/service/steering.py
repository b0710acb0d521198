"""The clinician steers the taper (pause, resume, slow, a new plan from today's dose) and acknowledges
alerts: the clinician's write use cases.

Each is a method of :class:`Steering` in the one shape of :mod:`benzokit.service.unit`: access check, one
transaction, an audit row (``write``). A change is a pause or a new plan version (old versions are kept),
saved with the safety checker's findings. A planner error names the form's own field
(:mod:`benzokit.service.fields`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

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
from benzokit.monitor.pace_proposal import PACE_CHANGES
from benzokit.monitor.records import Alert
from benzokit.plan.api import ProductChoice, plan_taper, with_safety_findings
from benzokit.plan.model import Plan
from benzokit.plan.pacing import FIXED, load_pacing
from benzokit.safety.findings import sort_findings
from benzokit.service import schemas
from benzokit.service.access import MAX_ID, AccessError, not_found, patient_for, require_role
from benzokit.service.derived_alerts import patient_alerts
from benzokit.service.fields import in_form_terms
from benzokit.service.pacing import assessment_of, the_plan
from benzokit.service.unit import UseCases
from benzokit.service.views import PlanChange
from benzokit.store import records
from benzokit.store.accounts import Account, Role
from benzokit.store.records import PatientRecord

MakeChange = Callable[[Course, PatientRecord, date], tuple[Course, str]]


class Steering(UseCases):
    """The clinician's plan changes and alert acknowledgements."""

    def acknowledge(self, actor: Account, alert_id: int, note: str = "") -> Alert:
        """Mark a stored alert as seen, with a note of what was done (its text is kept; a second
        acknowledgement changes nothing)."""
        require_role(actor, Role.CLINICIAN)
        with self.unit.transaction() as session:
            found = records.alert_by_id(session, alert_id) if 0 < alert_id <= MAX_ID else None
            if found is None:
                raise not_found("alert", alert_id)
            patient_id, alert = found
            try:
                patient_for(session, actor, patient_id)
            except AccessError:
                raise not_found("alert", alert_id) from None
            return self._acknowledge(session, actor, patient_id, alert, note)

    def acknowledge_key(self, actor: Account, patient_id: int, key: str, note: str = "") -> Alert:
        """Mark the patient's alert ``key`` as seen: a stored one, or a derived one (which is saved
        now, acknowledged, so that it stays acknowledged). Two clinicians saving the same derived
        alert at once: the second finds it stored and acknowledges that one."""
        require_role(actor, Role.CLINICIAN)
        try:
            return self._acknowledge_key(actor, patient_id, key, note)
        except IntegrityError:
            return self._acknowledge_key(actor, patient_id, key, note)

    def _acknowledge_key(self, actor: Account, patient_id: int, key: str, note: str) -> Alert:
        with self.unit.transaction() as session:
            record = patient_for(session, actor, patient_id)
            alert = next(
                (a for a in patient_alerts(session, self.unit, record) if a.key == key), None
            )
            if alert is None:
                raise not_found("alert", key)
            return self._acknowledge(session, actor, record.id, alert, note)

    def _acknowledge(
        self, session: Session, actor: Account, patient_id: int, alert: Alert, note: str
    ) -> Alert:
        done = records.acknowledge_alert(
            session, patient_id, alert, by_user_id=actor.id, at=self.unit.now(), note=note.strip()
        )
        self.unit.audit(
            session, actor, "write", "alert", patient_id, detail=f"acknowledged {alert.code}"
        )
        return done

    def _change_plan(
        self,
        actor: Account,
        patient_id: int,
        action: str,
        make: MakeChange,
        *,
        commit: bool = True,
    ) -> PlanChange:
        """Apply a clinician's change (pause, resume, slow, adjust) and save it with its findings;
        with ``commit=False`` only show it (a preview: nothing is saved; the read is audited)."""
        require_role(actor, Role.CLINICIAN)
        today = self.unit.today()
        with self.unit.transaction() as session:
            row = patient_for(session, actor, patient_id)
            course = records.course(session, row.id)
            if course is None:
                raise InputError("plan", "none", "a patient with a plan (create one first)")
            changed, message = make(course, row, today)
            if not commit:
                self.unit.audit(
                    session, actor, "read", "plan preview", row.id, detail=f"{action}: {message}"
                )
                return PlanChange(
                    changed, changed.current.plan.findings, message, _rest_of(course, today)
                )
            if len(changed.versions) > len(course.versions):
                version = changed.current
                if changed.pauses != course.pauses:  # a new plan ends the pause it replaces
                    records.save_pauses(
                        session, row.id, changed.pauses, by_user_id=actor.id, now=self.unit.now()
                    )
                records.add_plan_version(session, row.id, version, by_user_id=actor.id)
                findings = version.plan.findings
            else:
                records.save_pauses(
                    session, row.id, changed.pauses, by_user_id=actor.id, now=self.unit.now()
                )
                try:
                    rest = remaining_plan(changed, today)
                    findings = with_safety_findings(
                        rest, self.unit.context_of(row), self.unit.knowledge
                    ).findings
                except InputError:
                    findings = ()
            self.unit.audit(session, actor, "write", "plan", row.id, detail=f"{action}: {message}")
            return PlanChange(changed, tuple(findings), message, _rest_of(course, today))

    def pause(self, actor: Account, patient_id: int, form: schemas.PauseForm) -> PlanChange:
        def make(course: Course, _row: PatientRecord, today: date) -> tuple[Course, str]:
            return pause(
                course, today, reason=form.reason, by=actor.display_name
            ), f"paused from {today}"

        return self._change_plan(actor, patient_id, "pause", make)

    def resume(self, actor: Account, patient_id: int, form: schemas.ResumeForm) -> PlanChange:
        def make(course: Course, _row: PatientRecord, today: date) -> tuple[Course, str]:
            return resume(course, today, by=actor.display_name), f"resumed on {today}"

        return self._change_plan(actor, patient_id, "resume", make)

    def slow(
        self, actor: Account, patient_id: int, form: schemas.SlowForm, *, commit: bool = True
    ) -> PlanChange:
        """A new version from today: every remaining step ``form.factor`` times as long (with
        ``commit=False``: the preview, nothing saved)."""

        def make(course: Course, row: PatientRecord, today: date) -> tuple[Course, str]:
            plan = with_safety_findings(
                slowed(remaining_plan(course, today), form.factor),
                self.unit.context_of(row),
                self.unit.knowledge,
            )
            version = self._version(course, plan, actor, ChangeKind.SLOWED, form.reason)
            return _unpaused(course, today, actor).with_version(
                version
            ), f"version {version.number}: every step {form.factor:g} times as long"

        return self._change_plan(actor, patient_id, "slow", make, commit=commit)

    def adjust(
        self, actor: Account, patient_id: int, form: schemas.AdjustForm, *, commit: bool = True
    ) -> PlanChange:
        """A new plan from today's dose by the planner (with ``commit=False``: the preview)."""

        def make(course: Course, row: PatientRecord, today: date) -> tuple[Course, str]:
            step = course.step_on(today)
            if step is None or not step.doses:
                raise InputError("plan", "completed", "a course with a current dose to taper from")
            try:
                plan = plan_taper(
                    row.summary.drug,
                    current_dose(step, row.summary.drug),
                    form.strategy,
                    risk=form.risk,
                    start_date=today,
                    products=ProductChoice(liquid=form.liquid),
                    interval_days=form.interval_days,
                    reduction_fraction=None
                    if form.reduction_percent is None
                    else form.reduction_percent / 100,
                    hold_days_after_cut=form.hold_days,
                    context=self.unit.context_of(row),
                    knowledge=self.unit.knowledge,
                )
            except InputError as error:  # the planner names its own fields: say it in the form's
                raise _adjust_error(error, form, step.daily_dose_mg()) from error
            policy = self._policy_name(form.policy) if form.policy else course.current.policy
            version = self._version(
                course, plan, actor, ChangeKind.ADJUSTED, form.reason, policy=policy
            )
            return _unpaused(course, today, actor).with_version(
                version
            ), f"version {version.number}: {form.strategy} taper from today"

        return self._change_plan(actor, patient_id, "adjust", make, commit=commit)

    def pace(self, actor: Account, patient_id: int, form: schemas.PaceForm) -> PlanChange:
        """Accept one choice of the pacing proposal: a new version from today, audited with the
        policy's reasons and the clinician's note. A second click (or a concurrent one) on the same
        proposal changes nothing more: the version it made is found and returned."""
        require_role(actor, Role.CLINICIAN)
        try:
            return self._pace(actor, patient_id, form)
        except IntegrityError:  # another request saved the next version first
            return self._pace(actor, patient_id, form)

    def _pace(self, actor: Account, patient_id: int, form: schemas.PaceForm) -> PlanChange:
        today = self.unit.today()
        with self.unit.transaction() as session:
            row = patient_for(session, actor, patient_id)
            course = records.course(session, row.id)
            if course is None:
                raise InputError("plan", "none", "a patient with a plan (create one first)")
            if course.current.number != form.version:
                return _already_paced(course, form)
            checkins = records.checkins(session, row.id)
            found = assessment_of(course, checkins, today, self.unit.knowledge, self.unit.zone)
            if found is None:
                raise InputError(
                    "choice", str(form.choice), "a choice of a pending proposal (none)"
                )
            if form.choice not in found.choices:
                offered = ", ".join(str(c) for c in found.choices)
                raise InputError("choice", str(form.choice), f"one of the offered: {offered}")
            plan = with_safety_findings(
                the_plan(course, found, form.choice, today),
                self.unit.context_of(row),
                self.unit.knowledge,
            )
            proposed = "contact the patient" if found.recommended is None else found.recommended
            reason = f"pacing ({found.policy.name}): {form.choice} accepted; policy: {proposed}"
            if form.note.strip():
                reason += f"; note: {form.note.strip()}"
            version = self._version(course, plan, actor, form.choice.change, reason)
            changed = course.with_version(version)
            records.add_plan_version(session, row.id, version, by_user_id=actor.id)
            detail = f"pace: version {version.number}, {reason}; reasons: {' '.join(found.reasons)}"
            self.unit.audit(session, actor, "write", "plan", row.id, detail=detail)
            message = f"version {version.number}: {form.choice} accepted"
            return PlanChange(changed, version.plan.findings, message, _rest_of(course, today))

    def _policy_name(self, name: str) -> str:
        """The stored name of pacing policy ``name`` (every fixed-calendar policy is ``fixed``)."""
        policy = load_pacing(self.unit.knowledge).get(name, field="policy")
        return policy.name if policy.adaptive else FIXED

    def _version(
        self,
        course: Course,
        plan: Plan,
        actor: Account,
        change: ChangeKind,
        reason: str,
        *,
        policy: str | None = None,
    ) -> PlanVersion:
        """The next version (pacing policy: the current one's unless given); its findings include the
        pace across the change (with the last days)."""
        across = change_pace_findings(
            course, plan, self.unit.today(), knowledge=self.unit.knowledge
        )
        plan = replace(plan, findings=sort_findings([*plan.findings, *across]))
        return PlanVersion(
            course.current.number + 1,
            plan,
            self.unit.now(),
            actor.display_name,
            change,
            reason,
            policy=course.current.policy if policy is None else policy,
        )


def _already_paced(course: Course, form: schemas.PaceForm) -> PlanChange:
    """The answer to a second click on a proposal already accepted (nothing saved); a proposal made
    on an older version after any other change is refused."""
    current = course.current
    if current.number == form.version + 1 and current.change in PACE_CHANGES:
        message = f"version {current.number}: already accepted ({current.change})"
        return PlanChange(course, current.plan.findings, message, None)
    raise InputError(
        "version",
        form.version,
        f"the current plan version, {current.number}: the plan has changed since the proposal",
    )


def _rest_of(course: Course, today: date) -> Plan | None:
    """What the course would have given from today on without the change (None: nothing left)."""
    try:
        return remaining_plan(course, today)
    except InputError:
        return None


def _unpaused(course: Course, today: date, actor: Account) -> Course:
    """The course with an open pause ended today: a new plan from today replaces the pause (the
    patient follows the new plan from today, and is told so), it does not run under it."""
    return resume(course, today, by=actor.display_name) if course.paused else course


def _adjust_error(error: InputError, form: schemas.AdjustForm, daily_mg: float) -> InputError:
    """A planner error in the adjust form's words. The regimen planned from is today's dose (not typed
    by the clinician): when it cannot be made, the form's remedy is the liquid or another strategy."""
    mapped = in_form_terms(error)
    if mapped.field != "current_regimen":
        return mapped
    if not form.liquid:
        return InputError(
            "liquid",
            False,
            f"the oral liquid: today's dose ({daily_mg:g} mg/day) cannot be made from tablets "
            "alone; tick 'Use the oral liquid for small steps'",
        )
    return InputError("strategy", str(form.strategy), error.allowed)
