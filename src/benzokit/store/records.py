"""The patient record in the database (the repository): values in, immutable values out.

Every function takes an open session; the caller decides the transaction (one per request), so a
check-in, its scores and the alerts it raises are committed together or not at all. No ORM row leaves
this module: reads return frozen values (``benzokit.monitor.records``, :class:`PatientRecord`,
:class:`AuditEntry`), and every change to stored data is a function here (``add_*``, ``save_pauses``,
``acknowledge_alert``, ``audit``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, func, insert, literal_column, null, select, union_all
from sqlalchemy import cast as cast_as
from sqlalchemy.orm import Session, aliased

from benzokit.monitor.course import ChangeKind, Course, Pause, PlanVersion
from benzokit.monitor.records import (
    Alert,
    AlertLevel,
    CheckIn,
    DoseLog,
    DoseStatus,
    PatientSummary,
    ScaleScore,
)
from benzokit.plan.model import Plan
from benzokit.plan.serialize import plan_from_dict
from benzokit.store.db import core_connection as _connection
from benzokit.store.tables import (
    AlertRow,
    AuditRow,
    CheckInRow,
    DoseLogRow,
    PatientRow,
    PauseRow,
    PlanVersionRow,
    ScaleScoreRow,
    User,
)


def _copied(source: object, names: tuple[str, ...]) -> dict[str, Any]:
    """``names`` of ``source`` as keyword arguments: a value and its row share these fields."""
    return {name: getattr(source, name) for name in names}


# The fields a stored row and its value have in common, copied as they are both ways.
_SUMMARY_FIELDS = ("display_name", "drug", "indication", "birth_year", "weight_kg")
_DOSE_LOG_FIELDS = (
    "day",
    "time",
    "drug",
    "planned_mg",
    "recorded_at",
    "taken_mg",
    "taken_at",
    "note",
)
_CHECKIN_FIELDS = (
    "recorded_at",
    "describes_at",
    "seizures",
    "sleep_hours",
    "sleep_quality",
    "note",
)
_SCORE_FIELDS = ("scale", "version", "total", "band")
_ALERT_FIELDS = (
    "code",
    "message",
    "source",
    "raised_at",
    "suggestion",
    "patient_guidance",
    "key",
)

_TokenRow = TypeVar("_TokenRow", DoseLogRow, CheckInRow)


def _row_by_token(
    session: Session, table: type[_TokenRow], patient_id: int, client_token: str
) -> _TokenRow | None:
    """The patient's row of ``table`` saved with ``client_token`` (a retried request), or None."""
    query = select(table).where(table.patient_id == patient_id, table.client_token == client_token)
    row: _TokenRow | None = session.scalar(query)
    return row


@dataclass(frozen=True, slots=True)
class PatientRecord:
    """A stored patient: the summary, whose record it is (the patient's account), their clinician's
    account, the locale of their crisis lines and when they were enrolled (UTC)."""

    id: int
    user_id: int
    clinician_id: int
    summary: PatientSummary
    locale: str
    enrolled_at: datetime


def _summary(row: Any) -> PatientSummary:
    """The summary of a stored patient (an ORM row or a plain row of the table's columns)."""
    return PatientSummary(
        id=row.id,
        **_copied(row, _SUMMARY_FIELDS),
        comedications=tuple(row.comedications or ()),
        conditions=tuple(row.conditions or ()),
    )


def _record(row: Any) -> PatientRecord:
    return PatientRecord(
        row.id, row.user_id, row.clinician_id, _summary(row), row.locale, row.enrolled_at
    )


def add_patient(
    session: Session,
    summary: PatientSummary,
    *,
    user_id: int,
    clinician_id: int,
    locale: str,
    now: datetime,
) -> PatientSummary:
    row = PatientRow(
        user_id=user_id,
        clinician_id=clinician_id,
        **_copied(summary, _SUMMARY_FIELDS),
        comedications=list(summary.comedications),
        conditions=list(summary.conditions),
        locale=locale,
        enrolled_at=now,
    )
    session.add(row)
    session.flush()
    return _summary(row)


_PATIENTS = cast(Table, PatientRow.__table__)
_USERS = cast(Table, User.__table__)
_VERSIONS = cast(Table, PlanVersionRow.__table__)
_PAUSES = cast(Table, PauseRow.__table__)
_CHECKINS = cast(Table, CheckInRow.__table__)
_SCORES = cast(Table, ScaleScoreRow.__table__)
_DOSE_LOGS = cast(Table, DoseLogRow.__table__)
_AUDIT = cast(Table, AuditRow.__table__)
# The statements of every request, built once (Core: plain rows, no ORM objects). A plain row's
# names are the columns', so the ORM rows' attribute names.
_PATIENT_BY_ID = select(*_PATIENTS.c).where(_PATIENTS.c.id == bindparam("patient_id"))
_PATIENT_OF_USER = select(*_PATIENTS.c).where(_PATIENTS.c.user_id == bindparam("user_id"))
_PATIENTS_OF_CLINICIAN = (
    select(*_PATIENTS.c)
    .where(_PATIENTS.c.clinician_id == bindparam("clinician_id"))
    .order_by(_PATIENTS.c.display_name)
)
_INSERT_CHECKIN = insert(_CHECKINS).returning(_CHECKINS.c.id)
_INSERT_SCORES = insert(_SCORES)
_INSERT_DOSE_LOG = insert(_DOSE_LOGS).returning(_DOSE_LOGS.c.id)
_INSERT_AUDIT = insert(_AUDIT)


def patient(session: Session, patient_id: int) -> PatientRecord | None:
    row = _connection(session).execute(_PATIENT_BY_ID, {"patient_id": patient_id}).first()
    return None if row is None else _record(row)


def patient_of_user(session: Session, user_id: int) -> PatientRecord | None:
    row = _connection(session).execute(_PATIENT_OF_USER, {"user_id": user_id}).first()
    return None if row is None else _record(row)


def patients_of_clinician(session: Session, clinician_id: int) -> list[PatientRecord]:
    bound = {"clinician_id": clinician_id}
    return [_record(r) for r in _connection(session).execute(_PATIENTS_OF_CLINICIAN, bound)]


# ----------------------------------------------------------------------------- plan versions, pauses


#: parsed plans by (database, version row id, created at): a stored version never changes, so its
#: plan is parsed once per process (``created_at`` guards against a database restored in place)
_PLANS: dict[tuple[str, int, datetime], Plan] = {}
_PLANS_KEPT = 4096


def _parsed_plans(session: Session, versions: list[Any]) -> dict[int, Plan]:
    """The plan of each version row (id -> plan): from the cache, else read and parsed (one query)."""
    where = session.get_bind().engine.url.render_as_string(hide_password=True)
    keys = {v.id: (where, v.id, v.created_at) for v in versions}
    plans = {ident: plan for ident, key in keys.items() if (plan := _PLANS.get(key)) is not None}
    missing = [ident for ident in keys if ident not in plans]
    if missing:
        query = select(PlanVersionRow.id, PlanVersionRow.plan).where(PlanVersionRow.id.in_(missing))
        if len(_PLANS) + len(missing) > _PLANS_KEPT:
            _PLANS.clear()
        for ident, data in session.execute(query):
            plans[ident] = _PLANS[keys[ident]] = plan_from_dict(data)
    return plans


def _courses_query() -> Any:
    """Plan versions (without their plans) and pauses of the patients ``ids``, in one statement:
    rows of kind "version" by patient and number, then "pause" by patient and start; the columns one
    kind has not are NULL."""
    versions, pauses, users = _VERSIONS, _PAUSES, _USERS
    ids: Any = bindparam("ids", expanding=True)
    both = union_all(
        select(
            literal_column("'version'").label("kind"),
            versions.c.id,
            versions.c.patient_id,
            versions.c.number,
            versions.c.change,
            versions.c.reason,
            versions.c.created_at,
            versions.c.policy,
            cast_as(null(), _PAUSES.c.start.type).label("start"),
            cast_as(null(), _PAUSES.c.end.type).label("end"),
            users.c.display_name,
        )
        .outerjoin(users, users.c.id == versions.c.created_by)
        .where(versions.c.patient_id.in_(ids)),
        select(
            literal_column("'pause'"),
            pauses.c.id,
            pauses.c.patient_id,
            cast_as(null(), versions.c.number.type),
            cast_as(null(), versions.c.change.type),
            pauses.c.reason,
            cast_as(null(), versions.c.created_at.type),
            cast_as(null(), versions.c.policy.type),
            pauses.c.start,
            pauses.c.end,
            users.c.display_name,
        )
        .outerjoin(users, users.c.id == pauses.c.paused_by)
        .where(pauses.c.patient_id.in_(ids)),
    ).subquery()
    c = both.c
    return select(both).order_by(c.patient_id, c.kind.desc(), c.number, c.start, c.id)


_COURSES = _courses_query()


def course(session: Session, patient_id: int) -> Course | None:
    """The patient's plan versions and pauses, or None when no plan was made yet."""
    return courses(session, [patient_id]).get(patient_id)


def courses(session: Session, patient_ids: list[int]) -> dict[int, Course]:
    """The course of each patient who has a plan (patient id -> course), in one or two queries
    whatever the number of patients: versions and pauses together, and the plans not parsed before."""
    if not patient_ids:
        return {}
    rows = _connection(session).execute(_COURSES, {"ids": list(patient_ids)}).all()
    versions = [r for r in rows if r.kind == "version"]
    if not versions:
        return {}
    plans = _parsed_plans(session, versions)
    by_patient: dict[int, list[PlanVersion]] = {}
    for v in versions:
        by_patient.setdefault(v.patient_id, []).append(
            PlanVersion(
                number=v.number,
                plan=plans[v.id],
                created_at=v.created_at,
                created_by=v.display_name or "",
                change=ChangeKind(v.change),
                reason=v.reason,
                policy=v.policy,
            )
        )
    pauses: dict[int, list[Pause]] = {}
    for p in rows:
        if p.kind == "pause" and p.patient_id in by_patient:
            pauses.setdefault(p.patient_id, []).append(
                Pause(p.start, p.end, p.reason, p.display_name or "")
            )
    return {
        patient: Course(versions=tuple(found), pauses=tuple(pauses.get(patient, ())))
        for patient, found in by_patient.items()
    }


def _pause_rows(session: Session, patient_id: int) -> list[PauseRow]:
    """The patient's stored pauses, oldest first."""
    query = (
        select(PauseRow)
        .where(PauseRow.patient_id == patient_id)
        .order_by(PauseRow.start, PauseRow.id)
    )
    return list(session.scalars(query))


def add_plan_version(
    session: Session, patient_id: int, version: PlanVersion, *, by_user_id: int
) -> None:
    session.add(
        PlanVersionRow(
            patient_id=patient_id,
            number=version.number,
            plan=version.plan.to_dict(),
            change=str(version.change),
            reason=version.reason,
            created_by=by_user_id,
            created_at=version.created_at,
            policy=version.policy,
        )
    )
    session.flush()


def save_pauses(
    session: Session, patient_id: int, pauses: tuple[Pause, ...], *, by_user_id: int, now: datetime
) -> None:
    """Make the stored pauses match ``pauses``: a new open pause is added, an ended one is closed."""
    rows = _pause_rows(session, patient_id)
    for row, pause in zip(rows, pauses, strict=False):
        if row.end is None and pause.end is not None:
            row.end, row.resumed_by = pause.end, by_user_id
    for pause in pauses[len(rows) :]:
        session.add(
            PauseRow(
                patient_id=patient_id,
                start=pause.start,
                end=pause.end,
                reason=pause.reason,
                paused_by=by_user_id,
                created_at=now,
            )
        )
    session.flush()


# ----------------------------------------------------------------------------- dose confirmations


_DOSE_STATUS = {str(status): status for status in DoseStatus}


def _dose_log(row: Any) -> DoseLog:
    """The value of a stored confirmation (an ORM row or a plain row of ``_DOSE_LOG_COLUMNS``),
    built field by field (a year is hundreds of rows: no keyword dictionary per row)."""
    return DoseLog(
        day=row.day,
        time=row.time,
        drug=row.drug,
        planned_mg=row.planned_mg,
        status=_DOSE_STATUS[row.status],
        recorded_at=row.recorded_at,
        taken_mg=row.taken_mg,
        taken_at=row.taken_at,
        note=row.note,
        id=row.id,
    )


def _dose_logs_query(*, since: bool) -> Any:
    """A patient's confirmations, oldest first (bound: patient_id, and since when ``since``)."""
    logs = _DOSE_LOGS
    query = (
        select(logs.c.id, logs.c.patient_id, logs.c.status, *(logs.c[n] for n in _DOSE_LOG_FIELDS))
        .where(logs.c.patient_id == bindparam("patient_id"))
        .order_by(logs.c.recorded_at, logs.c.id)
    )
    return query.where(logs.c.day >= bindparam("since", type_=logs.c.day.type)) if since else query


_DOSE_LOGS_ALL, _DOSE_LOGS_SINCE = _dose_logs_query(since=False), _dose_logs_query(since=True)


def find_dose_log_by_token(session: Session, patient_id: int, client_token: str) -> DoseLog | None:
    row = _row_by_token(session, DoseLogRow, patient_id, client_token)
    return None if row is None else _dose_log(row)


def add_dose_log(
    session: Session, patient_id: int, log: DoseLog, *, client_token: str | None
) -> DoseLog:
    """Save a confirmation; the same ``client_token`` again returns the first one (a safe retry)."""
    if client_token:
        existing = find_dose_log_by_token(session, patient_id, client_token)
        if existing is not None:
            return existing
    return insert_dose_log(session, patient_id, log, client_token=client_token)


def insert_dose_log(
    session: Session, patient_id: int, log: DoseLog, *, client_token: str | None
) -> DoseLog:
    """Save a confirmation in one statement, without looking for an earlier one: a ``client_token``
    already saved for the patient raises :class:`~sqlalchemy.exc.IntegrityError` (the unique
    constraint), which aborts the transaction; the caller then reads the earlier one."""
    values = {
        "patient_id": patient_id,
        **_copied(log, _DOSE_LOG_FIELDS),
        "status": str(log.status),
        "client_token": client_token,
    }
    ident = _connection(session).execute(_INSERT_DOSE_LOG, values).scalar_one()
    return replace(log, id=ident)


def dose_logs(session: Session, patient_id: int, *, since: date | None = None) -> list[DoseLog]:
    """Every confirmation (or those of days from ``since`` on), oldest first, corrections included."""
    bound: dict[str, Any]
    query, bound = _DOSE_LOGS_ALL, {"patient_id": patient_id}
    if since is not None:
        query, bound = _DOSE_LOGS_SINCE, {"patient_id": patient_id, "since": since}
    return [_dose_log(r) for r in _connection(session).execute(query, bound)]


DoseKey = tuple[date, str, str]  # a planned dose: (day, time "HH:MM", drug)


def _latest_statuses_query() -> Any:
    """The statement of :func:`latest_dose_statuses` (bound: ids, since): the latest confirmation
    of each planned dose, ranked in the database (a corrected dose is one row)."""
    logs = _DOSE_LOGS
    key = (logs.c.patient_id, logs.c.day, logs.c.time, logs.c.drug)
    newest_first = (logs.c.recorded_at.desc(), logs.c.id.desc())
    ids: Any = bindparam("ids", expanding=True)
    ranked = (
        select(
            *key,
            logs.c.status,
            func.row_number().over(partition_by=key, order_by=newest_first).label("rank"),
        )
        .where(logs.c.patient_id.in_(ids), logs.c.day >= bindparam("since", type_=logs.c.day.type))
        .subquery()
    )
    c = ranked.c
    return select(c.patient_id, c.day, c.time, c.drug, c.status).where(c.rank == 1)


_LATEST_STATUSES = _latest_statuses_query()


def latest_dose_statuses(
    session: Session, patient_ids: list[int], *, since: date
) -> dict[int, dict[DoseKey, DoseStatus]]:
    """For each patient, the status of the latest confirmation of each planned dose of the days
    from ``since`` on (patient id -> (day, time, drug) -> status; one query, what adherence needs)."""
    found: dict[int, dict[DoseKey, DoseStatus]] = {}
    if not patient_ids:
        return found
    bound = {"ids": list(patient_ids), "since": since}
    for row in _connection(session).execute(_LATEST_STATUSES, bound):
        found.setdefault(row.patient_id, {})[(row.day, row.time, row.drug)] = _DOSE_STATUS[
            row.status
        ]
    return found


def _ranked_dose_logs(*columns: Any) -> Any:
    """The patient's confirmations (bound: patient_id) with ``columns`` and ``rank``: 1 for the
    latest confirmation of each planned dose (day, time, drug), later ones for those it replaced."""
    logs = _DOSE_LOGS
    rank = func.row_number().over(
        partition_by=(logs.c.day, logs.c.time, logs.c.drug),
        order_by=(logs.c.recorded_at.desc(), logs.c.id.desc()),
    )
    return (
        select(*columns, rank.label("rank"))
        .where(logs.c.patient_id == bindparam("patient_id"))
        .subquery()
    )


def _dose_days_query() -> Any:
    """The statement of :func:`dose_days`: by day, the latest confirmations' mg and their number."""
    ranked = _ranked_dose_logs(_DOSE_LOGS.c.day, _DOSE_LOGS.c.taken_mg)
    taken = func.sum(func.coalesce(ranked.c.taken_mg, 0.0))
    return (
        select(ranked.c.day, taken.label("taken_mg"), func.count().label("doses"))
        .where(ranked.c.rank == 1)
        .group_by(ranked.c.day)
    )


def _latest_dose_page_query() -> Any:
    """The statement of :func:`latest_dose_page` (bound: patient_id, size, skip)."""
    logs = _DOSE_LOGS
    ranked = _ranked_dose_logs(logs.c.id, logs.c.status, *(logs.c[n] for n in _DOSE_LOG_FIELDS))
    c = ranked.c
    return (
        select(c.id, c.status, *(c[n] for n in _DOSE_LOG_FIELDS))
        .where(c.rank == 1)
        .order_by(c.day.desc(), c.time.desc(), c.drug.desc())
        .limit(bindparam("size"))
        .offset(bindparam("skip"))
    )


_DOSE_DAYS, _LATEST_DOSE_PAGE = _dose_days_query(), _latest_dose_page_query()


@dataclass(frozen=True, slots=True)
class DoseDays:
    """A patient's dose record by day, from the latest confirmation of each planned dose (a
    correction replaces what it corrects), summed in the database: what a chart of a long history
    needs without reading every confirmation."""

    taken_mg: dict[date, float]  # mg recorded as taken each day with a record (a missed dose: 0)
    doses: int  # planned doses with a record (the latest of each), all days


def dose_days(session: Session, patient_id: int) -> DoseDays:
    """:class:`DoseDays` of the patient (one query)."""
    rows = _connection(session).execute(_DOSE_DAYS, {"patient_id": patient_id}).all()
    return DoseDays({r.day: float(r.taken_mg) for r in rows}, sum(r.doses for r in rows))


def latest_dose_page(session: Session, patient_id: int, *, skip: int, size: int) -> list[DoseLog]:
    """``size`` latest confirmations (one per planned dose), newest dose first, after the first
    ``skip``: one page of :func:`latest_dose_logs` of every confirmation, reversed (one query)."""
    bound = {"patient_id": patient_id, "skip": skip, "size": size}
    return [_dose_log(r) for r in _connection(session).execute(_LATEST_DOSE_PAGE, bound).all()]


def latest_dose_logs(logs: list[DoseLog]) -> list[DoseLog]:
    """The latest confirmation of each planned dose (day, time, drug), in time order."""
    latest: dict[tuple[Any, ...], DoseLog] = {}
    for log in logs:
        latest[(log.day, log.time, log.drug)] = log
    return sorted(latest.values(), key=lambda d: (d.day, d.time, d.drug))


# ----------------------------------------------------------------------------- check-ins


def _checkin(row: CheckInRow) -> CheckIn:
    return CheckIn(
        **_copied(row, _CHECKIN_FIELDS),
        scales=tuple(
            ScaleScore(
                **_copied(s, _SCORE_FIELDS),
                answers=tuple((str(i), int(v)) for i, v in s.answers["items"]),
            )
            for s in row.scores
        ),
        id=row.id,
    )


def find_checkin_by_token(session: Session, patient_id: int, client_token: str) -> CheckIn | None:
    row = _row_by_token(session, CheckInRow, patient_id, client_token)
    return None if row is None else _checkin(row)


def add_checkin(
    session: Session, patient_id: int, checkin: CheckIn, *, client_token: str | None
) -> CheckIn:
    """Save a check-in and its scores (two statements: the check-in, then all its scores at once).
    A ``client_token`` already saved for the patient raises
    :class:`~sqlalchemy.exc.IntegrityError` (the unique constraint)."""
    values = {
        "patient_id": patient_id,
        **_copied(checkin, _CHECKIN_FIELDS),
        "client_token": client_token,
    }
    connection = _connection(session)
    ident = connection.execute(_INSERT_CHECKIN, values).scalar_one()
    if checkin.scales:
        connection.execute(
            _INSERT_SCORES,
            [
                {
                    "checkin_id": ident,
                    **_copied(s, _SCORE_FIELDS),
                    "answers": {"items": [list(a) for a in s.answers]},
                }
                for s in checkin.scales
            ],
        )
    return replace(checkin, id=ident)


_IN_CHUNK = 900  # ids per IN list (well under every backend's limit of bound parameters)


def _scores_of(session: Session, checkin_ids: list[int]) -> dict[int, tuple[ScaleScore, ...]]:
    """The scale scores of each check-in (check-in id -> scores in saved order), read as plain rows."""
    found: dict[int, list[ScaleScore]] = {}
    columns = [getattr(ScaleScoreRow, name) for name in _SCORE_FIELDS]
    for start in range(0, len(checkin_ids), _IN_CHUNK):
        query = (
            select(ScaleScoreRow.checkin_id, ScaleScoreRow.answers, *columns)
            .where(ScaleScoreRow.checkin_id.in_(checkin_ids[start : start + _IN_CHUNK]))
            .order_by(ScaleScoreRow.id)
        )
        for row in session.execute(query):
            found.setdefault(row.checkin_id, []).append(
                ScaleScore(
                    **_copied(row, _SCORE_FIELDS),
                    answers=tuple((str(i), int(v)) for i, v in row.answers["items"]),
                )
            )
    return {ident: tuple(scores) for ident, scores in found.items()}


def checkins(
    session: Session, patient_id: int, *, since: datetime | None = None, latest: int | None = None
) -> list[CheckIn]:
    """Check-ins oldest first, with their scores: all, those from ``since`` on, and at most the
    ``latest`` ones. Read as plain rows (no ORM objects: a year of history is hundreds of rows), the
    scores in one more query per 900 check-ins."""
    query = (
        select(CheckInRow.id, *(getattr(CheckInRow, name) for name in _CHECKIN_FIELDS))
        .where(CheckInRow.patient_id == patient_id)
        .order_by(CheckInRow.recorded_at.desc(), CheckInRow.id.desc())
    )
    if since is not None:
        query = query.where(CheckInRow.recorded_at >= since)
    if latest is not None:
        query = query.limit(latest)
    rows = session.execute(query).all()
    scores = _scores_of(session, [row.id for row in rows])
    return [
        CheckIn(**_copied(row, _CHECKIN_FIELDS), scales=scores.get(row.id, ()), id=row.id)
        for row in reversed(rows)
    ]


def _scored_checkins_query() -> Any:
    """The statement of :func:`scored_checkins` (bound: patient_id): a check-in's columns and its
    scales' totals, one row per scale (one row of NULL scores for a check-in without scales)."""
    checkins, scores = _CHECKINS, _SCORES
    return (
        select(
            checkins.c.id,
            *(checkins.c[name] for name in _CHECKIN_FIELDS),
            *(scores.c[name] for name in _SCORE_FIELDS),
        )
        .select_from(checkins.outerjoin(scores, scores.c.checkin_id == checkins.c.id))
        .where(checkins.c.patient_id == bindparam("patient_id"))
        .order_by(checkins.c.recorded_at, checkins.c.id, scores.c.id)
    )


_SCORED_CHECKINS = _scored_checkins_query()


def scored_checkins(session: Session, patient_id: int) -> list[CheckIn]:
    """Every check-in, oldest first, with each scale's total and band but **not** its item answers
    (each :class:`ScaleScore` has ``answers == ()``): what the charts, the history table and the
    pacing policy read, in one query that reads no JSON (a year is hundreds of check-ins). Read the
    answers with :func:`checkins_by_id` where they are shown."""
    found: list[CheckIn] = []
    shared: dict[tuple[Any, ...], ScaleScore] = {}  # equal totals share one value
    ident: int | None = None
    row0: Any = None
    scores: list[ScaleScore] = []
    for row in _connection(session).execute(_SCORED_CHECKINS, {"patient_id": patient_id}):
        if row.id != ident:
            if row0 is not None:
                found.append(_scored_checkin(row0, scores))
            ident, row0, scores = row.id, row, []
        if row.scale is not None:
            key = (row.scale, row.version, row.total, row.band)
            score = shared.get(key)
            if score is None:
                score = shared[key] = ScaleScore(row.scale, row.version, (), row.total, row.band)
            scores.append(score)
    if row0 is not None:
        found.append(_scored_checkin(row0, scores))
    return found


def _scored_checkin(row: Any, scores: list[ScaleScore]) -> CheckIn:
    return CheckIn(
        recorded_at=row.recorded_at,
        scales=tuple(scores),
        seizures=row.seizures,
        sleep_hours=row.sleep_hours,
        sleep_quality=row.sleep_quality,
        note=row.note,
        id=row.id,
        describes_at=row.describes_at,
    )


def checkins_by_id(session: Session, patient_id: int, ids: list[int]) -> dict[int, CheckIn]:
    """The patient's check-ins ``ids`` with their scores and answers (id -> check-in; ids of other
    patients or of no check-in are left out), in one query per 900 ids."""
    checkins, scores = _CHECKINS, _SCORES
    found: dict[int, CheckIn] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        query = (
            select(
                checkins.c.id,
                *(checkins.c[name] for name in _CHECKIN_FIELDS),
                scores.c.answers,
                *(scores.c[name] for name in _SCORE_FIELDS),
            )
            .select_from(checkins.outerjoin(scores, scores.c.checkin_id == checkins.c.id))
            .where(
                checkins.c.patient_id == patient_id,
                checkins.c.id.in_(ids[start : start + _IN_CHUNK]),
            )
            .order_by(checkins.c.id, scores.c.id)
        )
        found |= _checkins_of_rows(_connection(session).execute(query))
    return found


def _checkins_of_rows(rows: Any) -> dict[int, CheckIn]:
    """Check-ins (id -> check-in, in row order) from rows of a check-in's columns joined to its
    scores with their answers (a check-in without scales: one row of NULL scores)."""
    found: dict[int, tuple[Any, list[ScaleScore]]] = {}
    for row in rows:
        _, scores = found.setdefault(row.id, (row, []))
        if row.answers is not None:
            scores.append(
                ScaleScore(
                    **_copied(row, _SCORE_FIELDS),
                    answers=tuple((str(i), int(v)) for i, v in row.answers["items"]),
                )
            )
    return {
        ident: CheckIn(**_copied(row, _CHECKIN_FIELDS), scales=tuple(scores), id=ident)
        for ident, (row, scores) in found.items()
    }


def _latest_checkins_query() -> Any:
    """The statement of :func:`latest_checkins` (bound: patient_id, since, latest)."""
    checkins, scores = _CHECKINS, _SCORES
    newest = (
        select(checkins.c.id)
        .where(
            checkins.c.patient_id == bindparam("patient_id"),
            checkins.c.recorded_at >= bindparam("since", type_=checkins.c.recorded_at.type),
        )
        .order_by(checkins.c.recorded_at.desc(), checkins.c.id.desc())
        .limit(bindparam("latest"))
        .subquery()
    )
    return (
        select(
            checkins.c.id,
            *(checkins.c[name] for name in _CHECKIN_FIELDS),
            scores.c.answers,
            *(scores.c[name] for name in _SCORE_FIELDS),
        )
        .join(newest, newest.c.id == checkins.c.id)
        .outerjoin(scores, scores.c.checkin_id == checkins.c.id)
        .order_by(checkins.c.recorded_at, checkins.c.id, scores.c.id)
    )


_LATEST_CHECKINS = _latest_checkins_query()


def latest_checkins(
    session: Session, patient_id: int, *, since: datetime, latest: int
) -> list[CheckIn]:
    """At most the ``latest`` check-ins recorded from ``since`` on, oldest first, with their scores,
    in one query (what a rule over the last few check-ins needs)."""
    bound = {"patient_id": patient_id, "since": since, "latest": latest}
    return list(_checkins_of_rows(_connection(session).execute(_LATEST_CHECKINS, bound)).values())


def last_checkin_at(session: Session, patient_id: int) -> datetime | None:
    query = select(func.max(CheckInRow.recorded_at)).where(CheckInRow.patient_id == patient_id)
    last: datetime | None = session.scalar(query)  # max() keeps the column's type: aware UTC
    return last


def last_checkins_at(session: Session, patient_ids: list[int]) -> dict[int, datetime]:
    """When each patient last checked in (patients who never did are left out; one query)."""
    if not patient_ids:
        return {}
    bound = {"ids": list(patient_ids)}
    return {
        patient: at
        for patient, at in _connection(session).execute(_LAST_CHECKINS_AT, bound)
        if at is not None
    }


def _last_checkins_at_query() -> Any:
    """Each patient's latest ``recorded_at`` as a subquery per patient (bound: ids): with the index
    on (patient_id, recorded_at) one probe each, where a GROUP BY reads every check-in."""
    checkins, patients = _CHECKINS, _PATIENTS
    latest = (
        select(func.max(checkins.c.recorded_at))
        .where(checkins.c.patient_id == patients.c.id)
        .scalar_subquery()
    )
    ids: Any = bindparam("ids", expanding=True)
    return select(patients.c.id, latest.label("last")).where(patients.c.id.in_(ids))


_LAST_CHECKINS_AT = _last_checkins_at_query()


# ----------------------------------------------------------------------------- alerts


def _alert(row: Any) -> Alert:
    """The value of a stored alert (an ORM row or a plain row of the table's columns)."""
    return Alert(
        **_copied(row, _ALERT_FIELDS),
        level=AlertLevel(row.level),
        id=row.id,
        acknowledged_at=row.acknowledged_at,
        acknowledged_note=row.acknowledged_note or "",
        checkin_id=row.checkin_id,
    )


def _alert_row(patient_id: int, alert: Alert, checkin_id: int | None) -> AlertRow:
    return AlertRow(
        patient_id=patient_id,
        **_copied(alert, _ALERT_FIELDS),
        level=str(alert.level),
        checkin_id=checkin_id,
    )


def add_alerts(
    session: Session, patient_id: int, alerts: list[Alert], *, checkin_id: int | None = None
) -> list[Alert]:
    """Save the alerts not already raised (same key); returns those saved. No query when there
    are none; else one for the keys already stored, and one insert per new alert."""
    if not alerts:
        return []
    stored_keys = set(
        session.scalars(
            select(AlertRow.key).where(
                AlertRow.patient_id == patient_id, AlertRow.key.in_([a.key for a in alerts])
            )
        )
    )
    saved = []
    for alert in alerts:
        if alert.key in stored_keys:
            continue
        stored_keys.add(alert.key)
        row = _alert_row(patient_id, alert, checkin_id)
        session.add(row)
        session.flush()
        saved.append(_alert(row))
    return saved


_ALERTS = cast(Table, AlertRow.__table__)


def alerts(session: Session, patient_id: int, *, open_only: bool = False) -> list[Alert]:
    """The patient's stored alerts, most urgent and newest first (read as plain rows)."""
    query = select(*_ALERTS.c).where(_ALERTS.c.patient_id == patient_id)
    if open_only:
        query = query.where(_ALERTS.c.acknowledged_at.is_(None))
    return sort_alerts([_alert(r) for r in _connection(session).execute(query)])


def alerts_of_patients(session: Session, patient_ids: list[int]) -> dict[int, list[Alert]]:
    """The stored alerts of each patient (one query, plain rows), most urgent and newest first."""
    found: dict[int, list[Alert]] = {}
    query = select(*_ALERTS.c).where(_ALERTS.c.patient_id.in_(patient_ids))
    for row in _connection(session).execute(query) if patient_ids else ():
        found.setdefault(row.patient_id, []).append(_alert(row))
    return {patient: sort_alerts(stored) for patient, stored in found.items()}


def sort_alerts(found: list[Alert]) -> list[Alert]:
    """Most urgent first, then newest first."""
    return sorted(found, key=lambda a: (-a.level.rank, -a.raised_at.timestamp()))


def alert_keys(session: Session, patient_id: int) -> set[str]:
    """The keys of every stored alert of the patient (open or acknowledged)."""
    query = select(AlertRow.key).where(AlertRow.patient_id == patient_id)
    return set(session.scalars(query))


def alert_by_id(session: Session, alert_id: int) -> tuple[int, Alert] | None:
    """(patient id, alert) of a stored alert, or None."""
    row = session.get(AlertRow, alert_id)
    return None if row is None else (row.patient_id, _alert(row))


def _alert_row_by_key(session: Session, patient_id: int, key: str) -> AlertRow | None:
    row: AlertRow | None = session.scalar(
        select(AlertRow).where(AlertRow.patient_id == patient_id, AlertRow.key == key)
    )
    return row


def acknowledge_alert(
    session: Session,
    patient_id: int,
    alert: Alert,
    *,
    by_user_id: int,
    at: datetime,
    note: str = "",
) -> Alert:
    """Mark ``alert`` acknowledged (an already acknowledged one keeps its first time). An alert not
    stored yet (a derived one, ``id`` None) is saved now, acknowledged: it stays acknowledged."""
    row = (
        session.get(AlertRow, alert.id)
        if alert.id is not None
        else _alert_row_by_key(session, patient_id, alert.key)
    )
    if row is None:
        row = _alert_row(patient_id, alert, None)
        session.add(row)
    if row.acknowledged_at is None:
        row.acknowledged_at, row.acknowledged_by = at, by_user_id
        row.acknowledged_note = note or None
    session.flush()
    return _alert(row)


# ----------------------------------------------------------------------------- audit


def audit(
    session: Session,
    *,
    at: datetime,
    user_id: int | None,
    role: str,
    action: str,
    what: str | tuple[str, ...],
    patient_id: int | None,
    detail: str = "",
    knowledge_version: str = "",
) -> None:
    """One line of the audit log (one per name when ``what`` names several reads), written in one
    statement in the same transaction as the access it records. ``knowledge_version`` names the
    knowledge base the request was served with."""
    lines = [
        {
            "at": at,
            "user_id": user_id,
            "role": role,
            "action": action,
            "what": name,
            "patient_id": patient_id,
            "detail": detail[:2000],
            "knowledge_version": knowledge_version,
        }
        for name in ((what,) if isinstance(what, str) else what)
    ]
    # one line: execute() with its values (a list would take the driver's executemany path)
    _connection(session).execute(_INSERT_AUDIT, lines[0] if len(lines) == 1 else lines)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit-log line, with the actor's username (None for the system or an anonymous caller)
    and the account name (username) of the patient whose record it is about (None: no record).
    Not the patient's name: administrators manage accounts and see no clinical record."""

    at: datetime
    username: str | None
    role: str
    action: str
    what: str
    patient_id: int | None
    detail: str
    knowledge_version: str
    patient_username: str | None = None


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which audit-log lines to read: by actor's username, patient record, action, days (UTC)."""

    username: str | None = None
    patient_id: int | None = None
    action: str | None = None  # read | write | denied
    since: date | None = None  # first day, inclusive
    until: date | None = None  # last day, inclusive


def audit_entries(
    session: Session,
    *,
    patient_id: int | None = None,
    limit: int,
    where: AuditFilter | None = None,
) -> list[AuditEntry]:
    """The newest ``limit`` audit-log entries, newest first, that pass the filter."""
    chosen = where or AuditFilter(patient_id=patient_id)
    if patient_id is not None:
        chosen = replace(chosen, patient_id=patient_id)
    patient_account = aliased(User)
    query = (
        select(AuditRow, User.username, patient_account.username)
        .outerjoin(User, AuditRow.user_id == User.id)
        .outerjoin(PatientRow, AuditRow.patient_id == PatientRow.id)
        .outerjoin(patient_account, PatientRow.user_id == patient_account.id)
        .order_by(AuditRow.id.desc())
        .limit(limit)
    )
    if chosen.patient_id is not None:
        query = query.where(AuditRow.patient_id == chosen.patient_id)
    if chosen.username:
        query = query.where(User.username == chosen.username)
    if chosen.action:
        query = query.where(AuditRow.action == chosen.action)
    if chosen.since is not None:
        query = query.where(AuditRow.at >= datetime.combine(chosen.since, time(0), UTC))
    if chosen.until is not None:
        end = datetime.combine(chosen.until + timedelta(days=1), time(0), UTC)
        query = query.where(AuditRow.at < end)
    return [
        AuditEntry(
            row.at,
            username,
            row.role,
            row.action,
            row.what,
            row.patient_id,
            row.detail,
            row.knowledge_version,
            patient_username,
        )
        for row, username, patient_username in session.execute(query)
    ]
