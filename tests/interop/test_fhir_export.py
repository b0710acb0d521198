"""The FHIR MedicationRequest validates with fhir.resources (R4B: FHIR 4.x) and carries the plan."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fhir.resources import R4B
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.medicationrequest import MedicationRequest
from interop_plans import clonazepam_taper, diazepam_switch, undated_plan

from benzokit import DISCLAIMER
from benzokit.errors import InputError
from benzokit.interop import medication_request, medication_requests, write_fhir
from benzokit.plan import Plan


def _daily_by_sequence(resource: dict[str, Any]) -> dict[int, float]:
    daily: dict[int, float] = defaultdict(float)
    for dosage in resource["dosageInstruction"]:
        quantity = dosage["doseAndRate"][0]["doseQuantity"]
        assert (quantity["unit"], quantity["code"]) == ("mg", "mg")
        assert quantity["system"] == "http://unitsofmeasure.org"
        repeat = dosage["timing"]["repeat"]
        assert (repeat["period"], repeat["periodUnit"]) == (1, "d")
        assert repeat["frequency"] == len(repeat["timeOfDay"])
        daily[dosage["sequence"]] += quantity["value"] * repeat["frequency"]
    return dict(daily)


def test_uses_fhir_4() -> None:
    assert R4B.__fhir_version__.startswith("4.")


def test_taper_validates_with_sequence_bounds_and_doses() -> None:
    plan = clonazepam_taper()
    resource = medication_request(plan, patient_reference="Patient/p-17")
    parsed = MedicationRequest.model_validate(resource)
    assert (parsed.status, parsed.intent) == ("draft", "plan")
    assert resource["medicationCodeableConcept"] == {"text": "Clonazepam"}
    assert resource["subject"] == {"reference": "Patient/p-17"}
    assert resource["note"][0]["text"] == DISCLAIMER
    daily = _daily_by_sequence(resource)
    assert daily == pytest.approx({i + 1: s.daily_dose_mg() for i, s in enumerate(plan.steps)})
    assert plan.start_date is not None
    for dosage in resource["dosageInstruction"]:
        step = plan.steps[dosage["sequence"] - 1]
        bounds = dosage["timing"]["repeat"]["boundsPeriod"]
        assert bounds["start"] == (plan.start_date + timedelta(days=step.start_day)).isoformat()
        assert bounds["end"] == (plan.start_date + timedelta(days=step.end_day - 1)).isoformat()
    texts = [d["text"] for d in resource["dosageInstruction"]]
    assert "0.375 mg at 20:00 daily: 1 x 0.25 mg ODT + 1 x 0.125 mg ODT" in texts
    assert any(t.startswith("Hold (no change): ") for t in texts)
    times = {t for d in resource["dosageInstruction"] for t in d["timing"]["repeat"]["timeOfDay"]}
    assert times == {"08:00:00", "20:00:00"}


def test_without_a_start_date_the_bounds_are_durations() -> None:
    resource = medication_request(undated_plan())
    MedicationRequest.model_validate(resource)
    durations = [d["timing"]["repeat"]["boundsDuration"] for d in resource["dosageInstruction"]]
    assert [(b["value"], b["code"]) for b in durations] == [(10, "d"), (10, "d")]
    assert [d["sequence"] for d in resource["dosageInstruction"]] == [1, 2]


def test_a_switch_gives_one_request_per_drug() -> None:
    plan = diazepam_switch()
    with pytest.raises(InputError) as caught:
        medication_request(plan)
    assert caught.value.field == "drug"
    clonazepam, diazepam = medication_requests(plan)
    assert _daily_by_sequence(clonazepam) == pytest.approx({1: 1.0, 2: 0.75})
    assert _daily_by_sequence(diazepam) == pytest.approx({2: 5.0, 3: 10.0})
    assert diazepam["medicationCodeableConcept"]["text"] == "Diazepam"
    assert clonazepam["id"] != diazepam["id"]


def test_written_files_validate(tmp_path: Path) -> None:
    single = json.loads(write_fhir(clonazepam_taper(), tmp_path / "one.json").read_text())
    MedicationRequest.model_validate(single)
    bundle = json.loads(write_fhir(diazepam_switch(), tmp_path / "two.json").read_text())
    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "collection"
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == ["MedicationRequest"] * 2


@pytest.mark.parametrize("reference", ["", "Patient/", "patient 17", "Patient/a b"])
def test_bad_patient_reference(reference: str) -> None:
    with pytest.raises(InputError) as caught:
        medication_request(clonazepam_taper(), patient_reference=reference)
    assert caught.value.field == "patient_reference"


def test_unknown_drug_is_refused() -> None:
    with pytest.raises(InputError, match="this plan uses clonazepam"):
        medication_request(clonazepam_taper(), drug="lorazepam")


def test_empty_plan_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        medication_request(Plan("clonazepam", "none", ()))
    assert caught.value.field == "plan.steps"
