"""The demo clinic: one clinician, three patients (one three weeks into a taper, one starting today, one on a
symptom-guided taper whose next step waits for the clinician), an administrator.

Made only in an empty database. The check-in answers and dose records are invented demonstration data,
not clinical figures; the plans are made by the planner and checked like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from benzokit.monitor.alerts import checkin_alerts, load_alert_rules
from benzokit.monitor.records import CheckIn, DoseLog, DoseStatus
from benzokit.monitor.scales import load_scales, score_scale
from benzokit.plan.strategies import StrategyName
from benzokit.service import schemas
from benzokit.service.clinic import Clinic
from benzokit.service.enrol import SYSTEM
from benzokit.store import accounts, records


@dataclass(frozen=True, slots=True)
class DemoLogin:
    role: str
    username: str
    password: str
    who: str


DEMO_LOGINS = (
    DemoLogin("clinician", "dr.rivera", "demo-clinician", "Dr Ana Rivera"),
    DemoLogin(
        "patient",
        "alex",
        "demo-patient-alex",
        "Alex Morgan: clonazepam 1 mg bid, guideline taper, week 3",
    ),
    DemoLogin(
        "patient",
        "sam",
        "demo-patient-sam",
        "Sam Lee: clonazepam 0.5 mg bid, hyperbolic taper from today",
    ),
    DemoLogin(
        "patient",
        "kai",
        "demo-patient-kai",
        "Kai Turner: clonazepam 1 mg bid, symptom-guided taper, next step waiting for the clinician",
    ),
    DemoLogin("admin", "admin", "demo-administrator", "clinic administrator"),
)

# the demo clinic's phone: 555-0100 is reserved for fictional use in the North American numbering plan
DEMO_CLINIC_PHONE = "555-0100"
DEMO_CLINIC_HOURS = "Mon-Fri 09:00-17:00; a demonstration number, not a real clinic"

# demonstration answers (GAD-7, one list per check-in), invented for the demo
_ALEX_GAD7 = (
    (1, 1, 1, 1, 0, 1, 0),
    (1, 1, 1, 1, 1, 1, 0),
    (1, 1, 1, 2, 1, 1, 1),
    (2, 1, 1, 2, 1, 1, 1),
)
# demonstration withdrawal-checklist totals (0-39) for Kai, invented for the demo, as (days ago, total):
# the evening before the first cut, then weekly, rising since the cut; the next step was due two days ago
_KAI_START_DAYS_AGO = 30
_KAI_CHECKLIST = ((31, 6), (24, 8), (17, 10), (10, 11), (3, 13), (0, 14))
_KAI_POLICY = "maudsley-symptom-guided"


def seed_demo(clinic: Clinic) -> bool:
    """Create the demo clinic; False (and nothing done) when the database already has accounts."""
    with clinic.db.transaction() as session:
        if accounts.has_accounts(session):
            return False
    clinician, alex, sam, kai, admin = DEMO_LOGINS
    enrolment = clinic.enrolment
    enrolment.create_admin(admin.username, admin.password, "Clinic administrator")
    enrolment.create_clinician(
        SYSTEM,
        schemas.NewClinician(
            username=clinician.username, password=clinician.password, display_name="Dr Ana Rivera"
        ),
    )
    today = clinic.today()
    patient_ids: dict[str, int] = {}
    guideline, hyperbolic = StrategyName.GUIDELINE, StrategyName.HYPERBOLIC
    for login, name, indication, birth_year, weight_kg, regimen, strategy, days_in, policy in (
        (alex, "Alex Morgan", "panic", 1984, 72, "1 mg bid", guideline, 20, None),
        (sam, "Sam Lee", "seizure", 1991, 64, "0.5 mg bid", hyperbolic, 0, None),
        (kai, "Kai Turner", "panic", 1979, 80, "1 mg bid", guideline, 30, _KAI_POLICY),
    ):
        form = schemas.NewPatient(
            username=login.username,
            password=login.password,
            display_name=name,
            clinician=clinician.username,
            indication=indication,
            birth_year=birth_year,
            weight_kg=weight_kg,
            current_regimen=regimen,
            strategy=strategy,
            start_date=today - timedelta(days=days_in),
            **({"policy": policy} if policy else {}),
        )
        summary, _ = enrolment.create_patient(SYSTEM, form)
        patient_ids[login.username] = summary.id
    _alex_history(clinic, patient_ids[alex.username])
    _kai_history(clinic, patient_ids[kai.username])
    return True


def _alex_history(clinic: Clinic, patient_id: int) -> None:
    """Twenty days of doses (two morning doses missed) and GAD-7 check-ins rising after the first cut."""
    scales = load_scales(clinic.knowledge)
    checkins = []
    for index, answers in enumerate(_ALEX_GAD7):
        answered = {f"item{i + 1}": a for i, a in enumerate(answers)}
        score = score_scale("gad7", answered, scales=scales)
        at = clinic.now() - timedelta(days=19 - 6 * index)
        checkins.append(
            CheckIn(recorded_at=at, scales=(score,), sleep_hours=6.5 - 0.5 * index, sleep_quality=2)
        )
    _record_history(clinic, patient_id, days=20, missed_mornings=(9, 4), checkins=checkins)


def _kai_history(clinic: Clinic, patient_id: int) -> None:
    """Every dose taken, and weekly withdrawal checklists rising since the first cut: the policy holds
    the step that was due two days ago until the clinician decides."""
    scales = load_scales(clinic.knowledge)
    items = [item.id for item in scales.scales["withdrawal_checklist"].self_report_items]
    checkins = []
    for back, total in _KAI_CHECKLIST:
        answers = dict.fromkeys(items, 0)
        for n in range(total):  # ones across the items, then twos
            answers[items[n % len(items)]] += 1
        score = score_scale("withdrawal_checklist", answers, scales=scales)
        at = clinic.now() - timedelta(days=back, minutes=30)
        checkins.append(CheckIn(recorded_at=at, scales=(score,), sleep_hours=6.5, sleep_quality=2))
    _record_history(
        clinic, patient_id, days=_KAI_START_DAYS_AGO, missed_mornings=(), checkins=checkins
    )


def _record_history(
    clinic: Clinic,
    patient_id: int,
    *,
    days: int,
    missed_mornings: tuple[int, ...],
    checkins: list[CheckIn],
) -> None:
    """The planned doses of the last ``days`` days (taken, but the 08:00 dose ``missed_mornings`` days
    ago) and the check-ins, each with the alerts the service's own rules raise on it."""
    today = clinic.today()
    with clinic.db.transaction() as session:
        course = records.course(session, patient_id)
        assert course is not None
        for back in range(days, 0, -1):
            day = today - timedelta(days=back)
            for dose in course.doses_on(day):
                missed = back in missed_mornings and str(dose.time) == "08:00"
                at = clinic.unit.local_time(day, str(dose.time))
                records.add_dose_log(
                    session,
                    patient_id,
                    DoseLog(
                        day=day,
                        time=str(dose.time),
                        drug=dose.drug,
                        planned_mg=dose.dose_mg,
                        status=DoseStatus.MISSED if missed else DoseStatus.TAKEN,
                        recorded_at=at + timedelta(minutes=10),
                        taken_mg=None if missed else dose.dose_mg,
                        taken_at=None if missed else at,
                    ),
                    client_token=None,
                )
        scales = load_scales(clinic.knowledge)
        rules = load_alert_rules(clinic.knowledge)
        found_record = records.patient(session, patient_id)
        assert found_record is not None
        name = found_record.summary.display_name
        history: list[CheckIn] = []
        for checkin in checkins:
            saved = records.add_checkin(session, patient_id, checkin, client_token=None)
            day = checkin.when.astimezone(clinic.unit.zone).date()
            found = checkin_alerts(
                name, checkin, history, course, day, rules=rules, scales=scales
            )  # the same rules as a check-in made in the service
            records.add_alerts(session, patient_id, found, checkin_id=saved.id)
            history.append(saved)
