"""Views of a whole record: the day-by-day trends for the charts, computed from values (no database)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from benzokit.knowledge import Knowledge
from benzokit.monitor.course import Course
from benzokit.monitor.predict import CoursePrediction, predict_course
from benzokit.monitor.records import CheckIn, DoseLog, PatientSummary
from benzokit.patient import Patient

AHEAD_DAYS = 28  # the charts show the plan four weeks ahead
MAX_DAYS = 400  # and at most this many days in all
PREDICTIONS_KEPT = 512  # courses whose prediction is kept in the process (least recently used go)

#: The model's predictions by everything that determines one: the course itself (every plan version
#: and every pause, compared by value, so a new version, a pause or a resume is a different key), the
#: days predicted, the patient's weight and co-medications, and the knowledge version.
_PredictionKey = tuple[Course, date, date, Patient, str]
_PREDICTIONS: OrderedDict[_PredictionKey, CoursePrediction] = OrderedDict()
_PREDICTIONS_LOCK = threading.Lock()


def cached_prediction(
    course: Course, first: date, last: date, patient: Patient, knowledge: Knowledge
) -> CoursePrediction:
    """:func:`predict_course`, computed once per key (see ``_PREDICTIONS``) and process."""
    key = (course, first, last, patient, knowledge.version)
    with _PREDICTIONS_LOCK:
        found = _PREDICTIONS.get(key)
        if found is not None:
            _PREDICTIONS.move_to_end(key)
            return found
    prediction = predict_course(course, first, last, patient, knowledge)
    with _PREDICTIONS_LOCK:
        _PREDICTIONS[key] = prediction
        while len(_PREDICTIONS) > PREDICTIONS_KEPT:
            _PREDICTIONS.popitem(last=False)
    return prediction


@dataclass(frozen=True, slots=True)
class ScalePoint:
    at: datetime
    total: int
    band: str


@dataclass(frozen=True, slots=True)
class Trends:
    """Day-by-day series for the charts; ``taken_mg`` (days before today) is None where nothing was
    recorded."""

    today: date
    days: tuple[date, ...]
    planned_mg: tuple[float, ...]
    taken_mg: tuple[float | None, ...]
    occupancy: tuple[float, ...] | None
    withdrawal_index: tuple[float, ...] | None
    model_note: str
    scales: dict[str, tuple[ScalePoint, ...]] = field(default_factory=dict)
    seizures: tuple[tuple[datetime, int], ...] = ()


def build_trends(
    course: Course | None,
    taken_mg: Mapping[date, float],
    checkins: list[CheckIn],
    summary: PatientSummary,
    today: date,
    *,
    knowledge: Knowledge,
) -> Trends:
    """The series of the charts; ``taken_mg``: mg recorded as taken by day, from the latest
    confirmation of each planned dose (:func:`records.dose_days`)."""
    starts = [course.versions[0].start] if course else []
    starts += [min(c.when for c in checkins).date()] if checkins else []
    first = max(min(starts, default=today), today - timedelta(days=MAX_DAYS - AHEAD_DAYS))
    last = today + timedelta(days=AHEAD_DAYS)
    days = tuple(first + timedelta(days=i) for i in range((last - first).days + 1))
    if course is not None:
        patient = Patient(weight_kg=summary.weight_kg, comedications=summary.comedications)
        prediction = cached_prediction(course, first, last, patient, knowledge)
    else:
        prediction = CoursePrediction(first, tuple(0.0 for _ in days), None, None, "no plan yet")
    scales: dict[str, list[ScalePoint]] = {}
    for checkin in checkins:
        for score in checkin.scales:
            scales.setdefault(score.scale, []).append(
                ScalePoint(checkin.when, score.total, score.band)
            )
    for points in scales.values():
        points.sort(key=lambda p: p.at)  # by the time described, which may be earlier than saved
    return Trends(
        today=today,
        days=days,
        planned_mg=prediction.daily_dose_mg,
        taken_mg=tuple(taken_mg.get(d) if d < today else None for d in days),  # whole days only
        occupancy=prediction.occupancy,
        withdrawal_index=prediction.withdrawal_index,
        model_note=prediction.note,
        scales={k: tuple(v) for k, v in scales.items()},
        seizures=tuple((c.when, c.seizures) for c in checkins if c.seizures),
    )


@dataclass(frozen=True, slots=True)
class WholeRecord:
    summary: PatientSummary
    course: Course | None
    dose_logs: list[DoseLog]
    checkins: list[CheckIn]
