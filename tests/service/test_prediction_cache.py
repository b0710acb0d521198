"""The model's prediction on the clinician's chart is computed once per course and kept, yet never stale:
after a pause, a resume or a new plan version the chart shows the prediction of the course as it now is
(the same as computing it afresh), and the kept one is used again only for the same course."""

from __future__ import annotations

from datetime import timedelta

from service_support import World

from benzokit.monitor.predict import predict_course
from benzokit.patient import Patient
from benzokit.service import records_view, schemas
from benzokit.service.records_view import Trends
from benzokit.store import records


def _fresh(world: World, patient_id: int, trends: Trends) -> tuple[object, ...]:
    """The prediction of the stored course computed now, without the cache."""
    with world.clinic.db.transaction() as session:
        course = records.course(session, patient_id)
        summary = records.patient(session, patient_id)
    assert course is not None and summary is not None
    patient = Patient(
        weight_kg=summary.summary.weight_kg, comedications=summary.summary.comedications
    )
    fresh = predict_course(course, trends.days[0], trends.days[-1], patient, world.clinic.knowledge)
    return fresh.daily_dose_mg, fresh.occupancy, fresh.withdrawal_index


def _shown(trends: Trends) -> tuple[object, ...]:
    return trends.planned_mg, trends.occupancy, trends.withdrawal_index


def test_the_prediction_follows_every_change_of_the_course(world: World) -> None:
    clinic, alex = world.clinic, world.patients["alex"]
    rivera = world.accounts["dr.rivera"]
    world.clock.advance(timedelta(days=3))
    shown = []
    for change in (
        None,
        lambda: clinic.steering.pause(rivera, alex, schemas.PauseForm(reason="cache test")),
        lambda: clinic.steering.resume(rivera, alex, schemas.ResumeForm(reason="cache test")),
        lambda: clinic.steering.slow(rivera, alex, schemas.SlowForm(factor=2, reason="cache test")),
    ):
        if change is not None:
            change()  # the same day: only the course tells the predictions apart
        before = len(records_view._PREDICTIONS)
        trends = clinic.reading.trends(rivera, alex)
        assert _shown(trends) == _fresh(world, alex, trends)
        assert len(records_view._PREDICTIONS) in (before + 1, records_view.PREDICTIONS_KEPT)
        again = clinic.reading.trends(rivera, alex)  # the same course: the kept prediction
        assert _shown(again) == _shown(trends)
        assert len(records_view._PREDICTIONS) in (before + 1, records_view.PREDICTIONS_KEPT)
        shown.append(_shown(trends)[0])
    first, paused, resumed, slowed = shown
    assert paused != first
    assert resumed != paused
    assert slowed != resumed
