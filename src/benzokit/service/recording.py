"""What a patient records: dose confirmations and check-ins (the patient's write use cases).

Each is a method of :class:`Recording` in the one shape of :mod:`benzokit.service.unit`: access check, one
transaction, an audit row (``write``). The alerts a record raises are evaluated here, at the write, and
saved in its transaction (:mod:`benzokit.service.derived_alerts` says which and when). A retry with the
same ``client_token`` (even one racing the first) is saved once and returns the first record.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from benzokit.errors import InputError
from benzokit.interop.handout_text import Locale, Statement, load_handout_text
from benzokit.monitor.alerts import (
    AlertRules,
    checkin_alerts,
    load_alert_rules,
    missed_dose_alerts,
    rising_possible,
)
from benzokit.monitor.records import Alert, CheckIn, DoseLog, ScaleScore
from benzokit.monitor.scales import load_scales, score_scale
from benzokit.service import schemas
from benzokit.service.access import patient_for, require_role
from benzokit.service.derived_alerts import silence_alerts
from benzokit.service.dosing import catch_up_window, planned_dose, taken_at, taken_mg
from benzokit.service.unit import UseCases
from benzokit.service.views import CheckInResult
from benzokit.store import records
from benzokit.store.accounts import Account, Role
from benzokit.store.records import PatientRecord

T = TypeVar("T")


class Recording(UseCases):
    """The patient's records of doses and check-ins."""

    def confirm_dose(
        self, actor: Account, patient_id: int, form: schemas.DoseConfirmation
    ) -> DoseLog:
        """Record what happened to one planned dose (today's, or a day back within the clinic's
        catch-up window, at the time it was really taken; never a future one), and raise the
        missed-dose alert when the pattern is reached."""
        require_role(actor, Role.PATIENT)
        try:
            return self._confirm_dose(actor, patient_id, form)
        except IntegrityError as conflict:
            return self._winner(
                conflict,
                records.find_dose_log_by_token,
                actor,
                patient_id,
                token=form.client_token,
                what="dose",
            )

    def submit_checkin(
        self, actor: Account, patient_id: int, form: schemas.CheckInForm
    ) -> CheckInResult:
        """Score the scales, save the check-in and the alerts it raises, all in one transaction."""
        require_role(actor, Role.PATIENT)
        scale_set = load_scales(self.unit.knowledge)
        allowed = {s.id for s in scale_set.patient_scales()}
        for scale_id in form.scales:
            if scale_id not in allowed:
                raise InputError("scales", scale_id, "one of " + ", ".join(sorted(allowed)))
        scores = tuple(
            score_scale(scale_id, answers, scales=scale_set)
            for scale_id, answers in form.scales.items()
        )
        try:
            return self._submit_checkin(actor, patient_id, form, scores)
        except IntegrityError as conflict:
            earlier = self._winner(
                conflict,
                records.find_checkin_by_token,
                actor,
                patient_id,
                token=form.client_token,
                what="checkin",
            )
            return CheckInResult(earlier, (), (), repeated=True)

    def _winner(
        self,
        conflict: IntegrityError,
        find: Callable[[Session, int, str], T | None],
        actor: Account,
        patient_id: int,
        *,
        token: str | None,
        what: str,
    ) -> T:
        """After a unique-token conflict (a racing retry): the record that won, audited as a repeat.
        Without a token (or no winner) the conflict was something else: it is raised again."""
        with self.unit.transaction() as session:
            earlier = find(session, patient_id, token) if token else None
            if earlier is None:
                raise conflict
            self.unit.audit(session, actor, "write", what, patient_id, detail="repeated token")
            return earlier

    def _confirm_dose(
        self, actor: Account, patient_id: int, form: schemas.DoseConfirmation
    ) -> DoseLog:
        unit = self.unit
        with unit.transaction() as session:
            record = patient_for(session, actor, patient_id)
            course = records.course(session, record.id)
            window = load_alert_rules(unit.knowledge).records.catch_up_days.value
            dose = planned_dose(course, form, unit.today(), catch_up_days=window)
            log = DoseLog(
                day=form.day,
                time=form.time,
                drug=dose.drug,
                planned_mg=dose.dose_mg,
                status=form.status,
                recorded_at=unit.now(),
                taken_mg=taken_mg(form, dose.dose_mg, dose.drug, unit.knowledge),
                taken_at=taken_at(form, unit.local_time, unit.now()),
                note=form.note,
            )
            saved = records.insert_dose_log(
                session, record.id, log, client_token=form.client_token
            )  # a retried token: IntegrityError, handled by confirm_dose
            records.add_alerts(session, record.id, self._missed_doses(session, record))
            unit.audit(
                session,
                actor,
                "write",
                "dose",
                record.id,
                detail=f"{form.day} {form.time} {form.status}",
            )
            return saved

    def _missed_doses(self, session: Session, record: PatientRecord) -> list[Alert]:
        rules = load_alert_rules(self.unit.knowledge)
        since = self.unit.today() - timedelta(days=rules.missed_doses.window_days.value)
        logs = records.latest_dose_logs(records.dose_logs(session, record.id, since=since))
        return missed_dose_alerts(record.summary.display_name, logs, self.unit.now(), rules=rules)

    def _submit_checkin(
        self,
        actor: Account,
        patient_id: int,
        form: schemas.CheckInForm,
        scores: tuple[ScaleScore, ...],
    ) -> CheckInResult:
        unit = self.unit
        with unit.transaction() as session:
            # a retried client_token is found by its unique constraint: the insert below raises
            # IntegrityError, the transaction rolls back and submit_checkin returns the first one
            record = patient_for(session, actor, patient_id)
            checkin = CheckIn(
                recorded_at=unit.now(),
                describes_at=self._described(form),
                scales=scores,
                seizures=form.seizures,
                sleep_hours=form.sleep_hours,
                sleep_quality=form.sleep_quality,
                note=form.note,
            )
            rules = load_alert_rules(unit.knowledge)
            rising = rules.withdrawal_rising  # the rule needs the last few check-ins only
            history = records.latest_checkins(
                session,
                record.id,
                since=unit.now() - timedelta(days=rising.cut_lookback_days.value),
                latest=rising.consecutive_checkins.value,
            )
            # the course only matters to the rising rule, and only when the scores could rise
            possible = rising_possible(checkin, history, rules=rules)
            found = checkin_alerts(
                record.summary.display_name,
                checkin,
                history,
                records.course(session, record.id) if possible else None,
                checkin.when.astimezone(unit.zone).date(),
                rules=rules,
                scales=load_scales(unit.knowledge),
            )
            last = history[-1].recorded_at if history else None  # the newest, when recent
            ended_silence = silence_alerts(session, unit, record, last_checkin=last)
            saved = records.add_checkin(session, record.id, checkin, client_token=form.client_token)
            raised = records.add_alerts(session, record.id, found, checkin_id=saved.id)
            records.add_alerts(session, record.id, ended_silence)  # saved: it becomes history
            unit.audit(
                session, actor, "write", "checkin", record.id, detail=f"{len(scores)} scales"
            )
            guidance, first = self._guidance(raised, record.locale)
            return CheckInResult(saved, tuple(raised), guidance, help_first=first)

    def _described(self, form: schemas.CheckInForm) -> datetime | None:
        """The time the check-in is about (None: now), inside the catch-up window, not ahead."""
        if form.describes_day is None and form.describes_time is None:
            return None
        if form.describes_day is None or form.describes_time is None:
            missing = "describes_day" if form.describes_day is None else "describes_time"
            raise InputError(missing, None, "the day and the time together (or neither: now)")
        days = load_alert_rules(self.unit.knowledge).records.catch_up_days.value
        first, last = catch_up_window(self.unit.today(), days)
        if not first <= form.describes_day <= last:
            raise InputError(
                "describes_day",
                form.describes_day.isoformat(),
                f"a day from {first} to {last} (your clinic's window for catching up)",
            )
        when = self.unit.local_time(form.describes_day, form.describes_time)
        if when > self.unit.now():
            raise InputError(
                "describes_time", form.describes_time, "a time that has already passed"
            )
        return when

    def _guidance(self, raised: list[Alert], locale: str) -> tuple[tuple[str, ...], str | None]:
        """What the patient is shown at once after urgent answers: the guidance, then the help lines
        in the order the cause calls for (a seizure: the emergency number first; thoughts of
        self-harm: the crisis line first), and which line leads."""
        urgent = [a for a in raised if a.patient_guidance]
        if not urgent:
            return (), None
        first = help_first(urgent, load_alert_rules(self.unit.knowledge))
        where = load_handout_text(self.unit.knowledge).locale(locale)
        lines = [a.patient_guidance or "" for a in urgent]
        lines += [s.text for s in help_lines(where, first)]
        return tuple(dict.fromkeys(lines)), first


def help_first(urgent: list[Alert], rules: AlertRules) -> str:
    """Which help line leads for these urgent alerts: the emergency number when any rule says so."""
    by_code = {r.code: r.help_first for r in (rules.seizure, rules.self_harm)}
    wanted = {by_code.get(a.code) for a in urgent}
    return "emergency" if "emergency" in wanted or "crisis" not in wanted else "crisis"


def help_lines(locale: Locale, first: str | None) -> tuple[Statement, ...]:
    """The locale's crisis and emergency lines, the one named by ``first`` first."""
    if first == "emergency":
        return (locale.emergency, *locale.crisis)
    return (*locale.crisis, locale.emergency)
