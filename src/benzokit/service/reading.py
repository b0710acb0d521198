"""Reading a patient's record (patients their own, clinicians their patients'): the read use cases.

Each is a method of :class:`Reading` in the one shape of :mod:`benzokit.service.unit`: access check, one
transaction, an audit row (``read``). A read writes nothing else: the day-based alerts are derived, not
saved (:mod:`benzokit.service.derived_alerts`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo
from typing import Any

from benzokit.interop import products_text
from benzokit.interop.fhir_record import patient_record_bundle
from benzokit.monitor.alerts import load_alert_rules
from benzokit.monitor.course import Course
from benzokit.monitor.records import Alert, CheckIn, DoseLog, DoseStatus, PatientSummary
from benzokit.service.access import not_found, patient_for, require_role
from benzokit.service.derived_alerts import patient_alerts, with_derived
from benzokit.service.dosing import catch_up_window
from benzokit.service.pacing import Proposal, proposal_of
from benzokit.service.records_view import Trends, WholeRecord, build_trends
from benzokit.service.unit import UseCases
from benzokit.service.views import Adherence, DoseSlot, PatientFlags, Today
from benzokit.store import records
from benzokit.store.accounts import Account, Role
from benzokit.store.records import DoseKey, PatientRecord

#: the reads the clinician's patient page is made of, audited as such (one row each, as before)
_PAGE_READS = ("plan", "today", "alerts", "doses", "adherence", "trends", "checkins")


@dataclass(frozen=True, slots=True)
class ClinicianPage:
    """What the clinician's patient page shows, from one read of the record."""

    course: Course | None
    today: Today
    alerts: list[Alert]
    latest_doses: list[DoseLog]  # one page of the latest confirmation of each dose, newest first
    adherence: Adherence
    trends: Trends
    checkins: list[CheckIn]  # oldest first, totals without item answers (records.scored_checkins)
    proposal: Proposal | None = None  # the pacing policy's proposal for the next step
    raised_by: dict[int, CheckIn] = field(default_factory=dict)  # alerts' check-ins, answers too
    doses_page: int = 1  # the page of ``latest_doses`` (from 1)
    doses_pages: int = 1  # how many pages the latest confirmations make


class Reading(UseCases):
    """What a patient or a clinician reads of a record."""

    def my_patient_id(self, actor: Account) -> int:
        """The signed-in patient's record id."""
        require_role(actor, Role.PATIENT)
        with self.unit.transaction() as session:
            record = records.patient_of_user(session, actor.id)
            if record is None:
                raise not_found("patient record of", actor.username)
            return record.id

    def locale_of(self, actor: Account) -> str:
        """The locale of the signed-in patient's record (for crisis lines and the clock)."""
        require_role(actor, Role.PATIENT)
        with self.unit.transaction() as session:
            record = records.patient_of_user(session, actor.id)
            return record.locale if record is not None else "en-US"

    def summary(self, actor: Account, patient_id: int) -> PatientSummary:
        with self.unit.transaction() as session:
            record = patient_for(session, actor, patient_id)
            self.unit.audit(session, actor, "read", "patient", record.id)
            return record.summary

    def today_view(self, actor: Account, patient_id: int, day: date | None = None) -> Today:
        """The planned doses of ``day`` (default today) with the latest confirmation of each, and
        the days of the clinic's catch-up window with doses not yet recorded."""
        return self._today_view(actor, patient_id, day)

    def own_today(self, actor: Account, day: date | None = None) -> Today:
        """:meth:`today_view` of the signed-in patient's own record (found by their account, in the
        same transaction)."""
        require_role(actor, Role.PATIENT)
        return self._today_view(actor, None, day)

    def _today_view(self, actor: Account, patient_id: int | None, day: date | None) -> Today:
        first = self.catch_up_window()[0]
        day = day or self.unit.today()
        with self.unit.transaction() as session:
            record = (
                patient_for(session, actor, patient_id)
                if patient_id is not None
                else records.patient_of_user(session, actor.id)
            )
            if record is None:
                raise not_found("patient record of", actor.username)
            course = records.course(session, record.id)
            since = min(first, day)
            latest = records.latest_dose_logs(records.dose_logs(session, record.id, since=since))
            self.unit.audit(session, actor, "read", "today", record.id)
        return self._today(record, course, latest, day)

    def _today(
        self, record: PatientRecord, course: Course | None, latest: list[DoseLog], day: date
    ) -> Today:
        """The today view of ``day`` from the latest confirmation of each dose (no query)."""
        today = self.unit.today()
        first = self.catch_up_window()[0]
        on_day = [d for d in latest if d.day == day]
        slots = tuple(_slots(course, day, on_day, self.unit.zone)) if course else ()
        step = course.step_on(day) if course else None
        version = course.version_on(day) if course else None
        return Today(
            patient=record.summary,
            day=day,
            status=course.status_on(day) if course else None,
            slots=slots,
            plan_version=version.number if version else None,
            step_note=step.note if step else "",
            change=course.dose_change_on(day) if course else None,
            new_plan_today=version is not None and version.number > 1 and version.start == day,
            daily_dose_mg=course.daily_dose_mg(day) if course else 0.0,
            today=today,
            unrecorded=_unrecorded(course, first, today, latest) if course else (),
            waiting=course.waiting_on(day) if course else False,
        )

    def clinician_page(
        self, actor: Account, patient_id: int, *, doses_page: int = 1, page_size: int = 25
    ) -> ClinicianPage:
        """Everything the clinician's patient page shows, read in one transaction and audited as
        the separate reads it replaces were: the record, the course, the confirmations of the days
        today's view and adherence look at, the dose record summed by day and one page
        (``doses_page``, clamped, of ``page_size``) of the latest confirmation of each dose, every
        check-in's totals, the alerts and the check-ins they name with their answers."""
        require_role(actor, Role.CLINICIAN)
        today = self.unit.today()
        since = min(self.catch_up_window()[0], today - timedelta(days=self._adherence_window()))
        with self.unit.transaction() as session:
            record = patient_for(session, actor, patient_id)
            course = records.course(session, record.id)
            latest = records.latest_dose_logs(records.dose_logs(session, record.id, since=since))
            days = records.dose_days(session, record.id)
            pages = max(1, -(-days.doses // page_size))
            number = min(max(1, doses_page), pages)
            shown = records.latest_dose_page(
                session, record.id, skip=(number - 1) * page_size, size=page_size
            )
            checkins = records.scored_checkins(session, record.id)
            stored = records.alerts(session, record.id)
            named = sorted({a.checkin_id for a in stored if a.checkin_id is not None})
            raised_by = records.checkins_by_id(session, record.id, named) if named else {}
            self.unit.audit(session, actor, "read", _PAGE_READS, record.id)
        last = max((c.recorded_at for c in checkins), default=None)
        return ClinicianPage(
            course=course,
            today=self._today(record, course, latest, today),
            alerts=with_derived(self.unit, record, stored, last),
            latest_doses=shown,
            adherence=self._adherence(_statuses(latest), course),
            trends=build_trends(
                course,
                days.taken_mg,
                checkins,
                record.summary,
                today,
                knowledge=self.unit.knowledge,
            ),
            checkins=checkins,
            proposal=proposal_of(
                course,
                checkins,
                record.summary,
                today=today,
                knowledge=self.unit.knowledge,
                zone=self.unit.zone,
            ),
            raised_by=raised_by,
            doses_page=number,
            doses_pages=pages,
        )

    def pacing_proposal(self, actor: Account, patient_id: int) -> Proposal | None:
        """The pacing policy's proposal for the patient's next step (None: nothing to propose)."""
        require_role(actor, Role.CLINICIAN)
        with self.unit.transaction() as session:
            record = patient_for(session, actor, patient_id)
            course = records.course(session, record.id)
            checkins = records.scored_checkins(session, record.id)  # the policy reads totals
            self.unit.audit(session, actor, "read", "pacing proposal", record.id)
        return proposal_of(
            course,
            checkins,
            record.summary,
            today=self.unit.today(),
            knowledge=self.unit.knowledge,
            zone=self.unit.zone,
        )

    def catch_up_window(self) -> tuple[date, date]:
        """The first and last day a patient may record (the clinic's policy, today included)."""
        days = load_alert_rules(self.unit.knowledge).records.catch_up_days.value
        return catch_up_window(self.unit.today(), days)

    def course(self, actor: Account, patient_id: int) -> Course | None:
        with self.unit.transaction() as session:
            record = patient_for(session, actor, patient_id)
            self.unit.audit(session, actor, "read", "plan", record.id)
            return records.course(session, record.id)

    def dose_history(self, actor: Account, patient_id: int) -> list[DoseLog]:
        with self.unit.transaction() as session:
            record = patient_for(session, actor, patient_id)
            self.unit.audit(session, actor, "read", "doses", record.id)
            return records.dose_logs(session, record.id)

    def checkin_history(self, actor: Account, patient_id: int) -> list[CheckIn]:
        with self.unit.transaction() as session:
            record = patient_for(session, actor, patient_id)
            self.unit.audit(session, actor, "read", "checkins", record.id)
            return records.checkins(session, record.id)

    def alerts(self, actor: Account, patient_id: int, *, open_only: bool = False) -> list[Alert]:
        """Stored alerts and the derived day-based ones (a derived alert has no id yet)."""
        with self.unit.transaction() as session:
            record = patient_for(session, actor, patient_id)
            self.unit.audit(session, actor, "read", "alerts", record.id)
            return patient_alerts(session, self.unit, record, open_only=open_only)

    def adherence_of(self, actor: Account, patient_id: int) -> Adherence:
        """Doses recorded as taken over the alert window (days before today)."""
        with self.unit.transaction() as session:
            record = patient_for(session, actor, patient_id)
            self.unit.audit(session, actor, "read", "adherence", record.id)
            since = self.unit.today() - timedelta(days=self._adherence_window())
            logs = records.dose_logs(session, record.id, since=since)
            latest = _statuses(records.latest_dose_logs(logs))
            return self._adherence(latest, records.course(session, record.id))

    def patient_list(self, actor: Account) -> list[PatientFlags]:
        """The clinician's patients, most urgent first (the same few queries for any number)."""
        require_role(actor, Role.CLINICIAN)
        today = self.unit.today()
        since = today - timedelta(days=self._adherence_window())
        flags = []
        with self.unit.transaction() as session:
            found = records.patients_of_clinician(session, actor.id)
            ids = [record.id for record in found]
            courses = records.courses(session, ids)
            stored = records.alerts_of_patients(session, ids)
            last = records.last_checkins_at(session, ids)
            statuses = records.latest_dose_statuses(session, ids, since=since)
            for record in found:
                course = courses.get(record.id)
                open_alerts = with_derived(
                    self.unit,
                    record,
                    stored.get(record.id, []),
                    last.get(record.id),
                    open_only=True,
                )
                flags.append(
                    PatientFlags(
                        patient=record.summary,
                        status=course.status_on(today) if course else None,
                        daily_dose_mg=course.daily_dose_mg(today) if course else 0.0,
                        open_alerts=len(open_alerts),
                        top_level=open_alerts[0].level if open_alerts else None,
                        adherence=self._adherence(statuses.get(record.id, {}), course),
                        last_checkin=last.get(record.id),
                        waiting=course.waiting_on(today) if course else False,
                    )
                )
            self.unit.audit(
                session, actor, "read", "patient list", None, detail=f"{len(flags)} patients"
            )
        return sorted(
            flags,
            key=lambda f: (-(f.top_level.rank if f.top_level else -1), f.patient.display_name),
        )

    def trends(self, actor: Account, patient_id: int) -> Trends:
        """Day-by-day series for the charts (the model's prediction over the course included)."""
        return self.history(actor, patient_id, audited=("trends",))[0]

    def history(
        self, actor: Account, patient_id: int, *, audited: tuple[str, ...] = ("trends", "checkins")
    ) -> tuple[Trends, list[CheckIn]]:
        """The trends and the check-ins (oldest first; totals, without item answers) of the history
        page, read in one transaction and audited as the reads they replace (``audited``)."""
        with self.unit.transaction() as session:
            record = patient_for(session, actor, patient_id)
            course = records.course(session, record.id)
            days = records.dose_days(session, record.id)
            checkins = records.scored_checkins(session, record.id)
            for read in audited:
                self.unit.audit(session, actor, "read", read, record.id)
        trends = build_trends(
            course,
            days.taken_mg,
            checkins,
            record.summary,
            self.unit.today(),
            knowledge=self.unit.knowledge,
        )
        return trends, checkins

    def fhir_record(self, actor: Account, patient_id: int) -> dict[str, Any]:
        """The patient's record as a FHIR R4 Bundle."""
        record = self._whole_record(actor, patient_id, "fhir export")
        plans = [v.plan for v in record.course.versions] if record.course else []
        return patient_record_bundle(
            record.summary, plans, record.dose_logs, record.checkins, generated_at=self.unit.now()
        )

    def _whole_record(self, actor: Account, patient_id: int, *what: str) -> WholeRecord:
        """Everything on the patient's record, read in one transaction and audited as each of
        ``what``."""
        with self.unit.transaction() as session:
            record = patient_for(session, actor, patient_id)
            whole = WholeRecord(
                record.summary,
                records.course(session, record.id),
                records.dose_logs(session, record.id),
                records.checkins(session, record.id),
            )
            for read in what:
                self.unit.audit(session, actor, "read", read, record.id)
        return whole

    def _adherence_window(self) -> int:
        return load_alert_rules(self.unit.knowledge).missed_doses.window_days.value

    def _adherence(self, latest: Mapping[DoseKey, DoseStatus], course: Course | None) -> Adherence:
        """Adherence over the window's days before today, from the status of the latest
        confirmation of each planned dose of those days (:func:`_statuses`)."""
        window = self._adherence_window()
        today = self.unit.today()
        planned = taken = missed = 0
        for back in range(1, window + 1):
            day = today - timedelta(days=back)
            for dose in course.doses_on(day) if course else ():
                planned += 1
                status = latest.get((day, str(dose.time), dose.drug))
                taken += int(status is not None and status is not DoseStatus.MISSED)
                missed += int(status is DoseStatus.MISSED)
        return Adherence(window, planned, taken, missed, planned - taken - missed)


def _statuses(latest: list[DoseLog]) -> dict[DoseKey, DoseStatus]:
    """The status of each planned dose from its latest confirmation (``records.latest_dose_logs``)."""
    return {(d.day, d.time, d.drug): d.status for d in latest}


def _slots(course: Course, day: date, latest: list[DoseLog], zone: tzinfo) -> Iterator[DoseSlot]:
    logs = {(d.day, d.time, d.drug): d for d in latest}
    for dose in course.doses_on(day):
        log = logs.get((day, str(dose.time), dose.drug))
        taken = log.taken_at.astimezone(zone).strftime("%H:%M") if log and log.taken_at else None
        yield DoseSlot(
            day, str(dose.time), dose.drug, dose.dose_mg, products_text(dose), log, taken
        )


def _unrecorded(
    course: Course, first: date, today: date, latest: list[DoseLog]
) -> tuple[tuple[date, int], ...]:
    """Days before today (from ``first``) with planned doses that have no record, and how many."""
    recorded = {(d.day, d.time, d.drug) for d in latest}
    found = []
    day = first
    while day < today:
        missing = sum((day, str(a.time), a.drug) not in recorded for a in course.doses_on(day))
        if missing:
            found.append((day, missing))
        day += timedelta(days=1)
    return tuple(found)
