"""The model's prediction on the clinician's chart is computed once per course and kept, yet never stale:
after a pause, a resume or a new plan version the chart shows the prediction of the course as it now is
(the same as computing it afresh), and the kept one is used again only for the same course. Likewise a
drawn chart is kept only for exactly the same series, names and size."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from datetime import timedelta

import pytest
from service_support import World

from benzokit.monitor.predict import predict_course
from benzokit.patient import Patient
from benzokit.service import pages, records_view, schemas
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


def test_the_prediction_follows_every_change_of_the_course(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an empty cache of its own: other tests of this process may have predicted the same courses
    monkeypatch.setattr(records_view, "_PREDICTIONS", OrderedDict())
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


def test_a_chart_is_drawn_again_when_anything_on_it_changes(world: World) -> None:
    clinic, alex = world.clinic, world.patients["alex"]
    rivera = world.accounts["dr.rivera"]
    names = {"gad7": "GAD-7"}
    trends = clinic.reading.trends(rivera, alex)
    drawn = pages._chart(trends, names, compact=False)
    assert pages._chart(trends, names, compact=False) is drawn  # kept: not drawn again
    assert pages._chart(trends, names, compact=True) is not drawn  # drawn again, not the kept one
    assert pages._chart(trends, {"gad7": "GAD-7 (renamed)"}, compact=False) != drawn
    patient = world.sign_in("alex")
    response = patient.post(
        f"/api/v1/patients/{alex}/checkins",
        {"scales": {"gad7": {f"item{i}": 3 for i in range(1, 8)}}},
    )
    assert response.status_code == 201, response.text
    after = clinic.reading.trends(rivera, alex)
    assert after.scales != trends.scales
    assert pages._chart(after, names, compact=False) != drawn
    noted = replace(trends, model_note="another note")  # not drawn, yet part of what is kept
    assert pages._chart(noted, names, compact=False) is not drawn
