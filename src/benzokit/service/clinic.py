"""What patients and clinicians do, as use cases: each checks access, runs in one transaction, audits.

The web routes (pages and API) only translate requests into these calls and their results into pages
or JSON. A record that is acknowledged to the user has been committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta, tzinfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from benzokit.errors import InputError
from benzokit.interop import products_text
from benzokit.interop.handout_text import load_handout_text
from benzokit.monitor.alerts import checkin_alerts, daily_alerts, load_alert_rules
from benzokit.monitor.course import Course
from benzokit.monitor.records import (
    Alert,
    CheckIn,
    DoseLog,
    PatientSummary,
    ScaleScore,
)
from benzokit.monitor.scales import load_scales, score_scale
from benzokit.service import schemas
from benzokit.service.access import not_found, patient_for, require_role
from benzokit.service.clinic_base import T
from benzokit.service.dosing import planned_dose, taken_at, taken_mg
from benzokit.service.steering import PlanSteering
from benzokit.service.views import (
    Adherence,
    CheckInResult,
    DoseSlot,
    PatientFlags,
    Today,
)
from benzokit.store import records
from benzokit.store.accounts import Account, Role
from benzokit.store.tables import PatientRow


class Clinic(PlanSteering):
    """The monitoring service's operations on a :class:`Database`: what patients and clinicians do."""

    # ------------------------------------------------------------------ reading

    def my_patient_id(self, actor: Account) -> int:
        require_role(actor, Role.PATIENT)
        with self._tx() as session:
            row = records.patient_of_user(session, actor.id)
            if row is None:
                raise not_found("patient record of", actor.username)
            return row.id

    def locale_of(self, actor: Account) -> str:
        """The locale of the signed-in patient's record (for crisis lines and the clock)."""
        require_role(actor, Role.PATIENT)
        with self._tx() as session:
            row = records.patient_of_user(session, actor.id)
            return row.locale if row is not None else "en-US"

    def summary(self, actor: Account, patient_id: int) -> PatientSummary:
        with self._tx() as session:
            row = patient_for(session, actor, patient_id)
            self.audit(session, actor, "read", "patient", row.id)
            return records.summary_of(row)

    def today_view(self, actor: Account, patient_id: int, day: date | None = None) -> Today:
        day = day or self.today()
        with self._tx() as session:
            row = patient_for(session, actor, patient_id)
            course = records.course(session, row.id)
            latest = records.latest_dose_logs(records.dose_logs(session, row.id, since=day))
            self.audit(session, actor, "read", "today", row.id)
        slots = tuple(_slots(course, day, latest, self.zone)) if course else ()
        step = course.step_on(day) if course else None
        return Today(
            patient=records.summary_of(row),
            day=day,
            status=course.status_on(day) if course else None,
            slots=slots,
            plan_version=course.version_on(day).number if course else None,
            step_note=step.note if step else "",
        )

    def course(self, actor: Account, patient_id: int) -> Course | None:
        with self._tx() as session:
            row = patient_for(session, actor, patient_id)
            self.audit(session, actor, "read", "plan", row.id)
            return records.course(session, row.id)

    def dose_history(self, actor: Account, patient_id: int) -> list[DoseLog]:
        with self._tx() as session:
            row = patient_for(session, actor, patient_id)
            self.audit(session, actor, "read", "doses", row.id)
            return records.dose_logs(session, row.id)

    def checkin_history(self, actor: Account, patient_id: int) -> list[CheckIn]:
        with self._tx() as session:
            row = patient_for(session, actor, patient_id)
            self.audit(session, actor, "read", "checkins", row.id)
            return records.checkins(session, row.id)

    def alerts(self, actor: Account, patient_id: int, *, open_only: bool = False) -> list[Alert]:
        with self._tx() as session:
            row = patient_for(session, actor, patient_id)
            self._refresh_daily_alerts(session, row)
            self.audit(session, actor, "read", "alerts", row.id)
            return records.alerts(session, row.id, open_only=open_only)

    def adherence(self, session: Session, row: PatientRow, course: Course | None) -> Adherence:
        window = load_alert_rules().missed_doses.window_days.value
        today = self.today()
        since = today - timedelta(days=window)
        latest = {
            (d.day, d.time, d.drug): d
            for d in records.latest_dose_logs(records.dose_logs(session, row.id, since=since))
        }
        planned = taken = missed = 0
        for back in range(1, window + 1):
            day = today - timedelta(days=back)
            for dose in course.doses_on(day) if course else ():
                planned += 1
                log = latest.get((day, str(dose.time), dose.drug))
                taken += int(log is not None and log.taken)
                missed += int(log is not None and not log.taken)
        return Adherence(window, planned, taken, missed, planned - taken - missed)

    def adherence_of(self, actor: Account, patient_id: int) -> Adherence:
        """Doses recorded as taken over the alert window (days before today)."""
        with self._tx() as session:
            row = patient_for(session, actor, patient_id)
            self.audit(session, actor, "read", "adherence", row.id)
            return self.adherence(session, row, records.course(session, row.id))

    def patient_list(self, actor: Account) -> list[PatientFlags]:
        """The clinician's patients, most urgent first."""
        require_role(actor, Role.CLINICIAN)
        flags = []
        with self._tx() as session:
            for row in records.patients_of_clinician(session, actor.id):
                self._refresh_daily_alerts(session, row)
                course = records.course(session, row.id)
                open_alerts = records.alerts(session, row.id, open_only=True)
                flags.append(
                    PatientFlags(
                        patient=records.summary_of(row),
                        status=course.status_on(self.today()) if course else None,
                        daily_dose_mg=course.daily_dose_mg(self.today()) if course else 0.0,
                        open_alerts=len(open_alerts),
                        top_level=open_alerts[0].level if open_alerts else None,
                        adherence=self.adherence(session, row, course),
                        last_checkin=records.last_checkin_at(session, row.id),
                    )
                )
            self.audit(
                session, actor, "read", "patient list", None, detail=f"{len(flags)} patients"
            )
        return sorted(
            flags,
            key=lambda f: (-(f.top_level.rank if f.top_level else -1), f.patient.display_name),
        )

    def _refresh_daily_alerts(self, session: Session, row: PatientRow) -> None:
        window = load_alert_rules().missed_doses.window_days.value
        since = self.today() - timedelta(days=window)
        found = daily_alerts(
            row.display_name,
            records.latest_dose_logs(records.dose_logs(session, row.id, since=since)),
            records.last_checkin_at(session, row.id),
            row.enrolled_at,
            self.now(),
        )
        records.add_alerts(session, row.id, found)

    # ------------------------------------------------------------------ patient actions

    def confirm_dose(
        self, actor: Account, patient_id: int, form: schemas.DoseConfirmation
    ) -> DoseLog:
        """Record what happened to one planned dose (today's or up to two days back).

        The same ``client_token`` sent twice, even at the same moment, is saved once: the second
        gets the first's record.
        """
        require_role(actor, Role.PATIENT)
        try:
            return self._confirm_dose(actor, patient_id, form)
        except IntegrityError:
            earlier = self._by_token(records.find_dose_log_by_token, patient_id, form.client_token)
            if earlier is None:
                raise
            with self._tx() as session:
                self.audit(session, actor, "write", "dose", patient_id, detail="repeated token")
            return earlier

    def _by_token(
        self, find: Callable[[Session, int, str], T | None], patient_id: int, token: str | None
    ) -> T | None:
        """After a unique-token conflict: the record that won (None without a token)."""
        if not token:
            return None
        with self._tx() as session:
            return find(session, patient_id, token)

    def _confirm_dose(
        self, actor: Account, patient_id: int, form: schemas.DoseConfirmation
    ) -> DoseLog:
        with self._tx() as session:
            row = patient_for(session, actor, patient_id)
            course = records.course(session, row.id)
            dose = planned_dose(course, form, self.today())
            log = DoseLog(
                day=form.day,
                time=form.time,
                drug=dose.drug,
                planned_mg=dose.dose_mg,
                status=form.status,
                recorded_at=self.now(),
                taken_mg=taken_mg(form, dose.dose_mg, dose.drug),
                taken_at=taken_at(form, self.local_time, self.now()),
                note=form.note,
            )
            saved = records.add_dose_log(session, row.id, log, client_token=form.client_token)
            self.audit(
                session,
                actor,
                "write",
                "dose",
                row.id,
                detail=f"{form.day} {form.time} {form.status}",
            )
            return saved

    def submit_checkin(
        self, actor: Account, patient_id: int, form: schemas.CheckInForm
    ) -> CheckInResult:
        """Score the scales, save the check-in and the alerts it raises, all in one transaction.

        A retry with the same ``client_token`` (even one racing the first) returns the saved check-in.
        """
        require_role(actor, Role.PATIENT)
        allowed = {s.id for s in load_scales().patient_scales()}
        for scale_id in form.scales:
            if scale_id not in allowed:
                raise InputError("scales", scale_id, "one of " + ", ".join(sorted(allowed)))
        scores = tuple(score_scale(scale_id, answers) for scale_id, answers in form.scales.items())
        try:
            return self._submit_checkin(actor, patient_id, form, scores)
        except IntegrityError:
            earlier = self._by_token(records.find_checkin_by_token, patient_id, form.client_token)
            if earlier is None:
                raise
            with self._tx() as session:
                self.audit(session, actor, "write", "checkin", patient_id, detail="repeated token")
            return CheckInResult(earlier, (), (), repeated=True)

    def _submit_checkin(
        self,
        actor: Account,
        patient_id: int,
        form: schemas.CheckInForm,
        scores: tuple[ScaleScore, ...],
    ) -> CheckInResult:
        with self._tx() as session:
            row = patient_for(session, actor, patient_id)
            if form.client_token:
                earlier = records.find_checkin_by_token(session, row.id, form.client_token)
                if earlier is not None:
                    self.audit(session, actor, "write", "checkin", row.id, detail="repeated token")
                    return CheckInResult(earlier, (), (), repeated=True)
            checkin = CheckIn(
                recorded_at=self.now(),
                scales=scores,
                seizures=form.seizures,
                sleep_hours=form.sleep_hours,
                sleep_quality=form.sleep_quality,
                note=form.note,
            )
            course = records.course(session, row.id)
            rising = (
                load_alert_rules().withdrawal_rising
            )  # the rule needs the last few check-ins only
            since = self.now() - timedelta(days=rising.cut_lookback_days.value)
            history = records.checkins(
                session, row.id, since=since, latest=rising.consecutive_checkins.value
            )
            found = checkin_alerts(row.display_name, checkin, history, course, self.today())
            saved = records.add_checkin(session, row.id, checkin, client_token=form.client_token)
            raised = records.add_alerts(session, row.id, found, checkin_id=saved.id)
            self.audit(session, actor, "write", "checkin", row.id, detail=f"{len(scores)} scales")
            return CheckInResult(saved, tuple(raised), _guidance(raised, row.locale))


def _slots(course: Course, day: date, latest: list[DoseLog], zone: tzinfo) -> Iterator[DoseSlot]:
    logs = {(d.day, d.time, d.drug): d for d in latest}
    for dose in course.doses_on(day):
        log = logs.get((day, str(dose.time), dose.drug))
        taken = log.taken_at.astimezone(zone).strftime("%H:%M") if log and log.taken_at else None
        yield DoseSlot(
            day, str(dose.time), dose.drug, dose.dose_mg, products_text(dose), log, taken
        )


def _guidance(raised: list[Alert], locale: str) -> tuple[str, ...]:
    urgent = [a for a in raised if a.patient_guidance]
    if not urgent:
        return ()
    where = load_handout_text().locale(locale)
    lines = [a.patient_guidance or "" for a in urgent]
    lines += [s.text for s in where.crisis] + [where.emergency.text]
    return tuple(dict.fromkeys(lines))
