"""The monitoring record as a FHIR R4 collection Bundle: valid, self-contained, deterministic, sourced."""

from __future__ import annotations

import dataclasses
import shutil
import tomllib
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from interop_plans import clonazepam_taper, diazepam_switch, undated_plan

from benzokit import DISCLAIMER
from benzokit.errors import InputError
from benzokit.interop.fhir_record import patient_record_bundle
from benzokit.monitor import (
    CheckIn,
    DoseLog,
    DoseStatus,
    PatientSummary,
    load_scale_dir,
    score_scale,
)

T0 = datetime(2026, 1, 6, 9, 30, tzinfo=UTC)
PATIENT = PatientSummary(17, "Ada Example", "clonazepam", indication="panic", birth_year=1961)
PHQ9 = {f"item{n}": 1 for n in range(1, 9)} | {"item9": 1}  # total 9 (mild), item 9 escalates
GAD7 = {f"item{n}": 2 for n in range(1, 8)}  # total 14 (moderate)


def dose_logs() -> list[DoseLog]:
    day = date(2026, 1, 5)
    return [
        DoseLog(day, "08:00", "clonazepam", 0.5, DoseStatus.TAKEN, T0, 0.5, T0 - timedelta(hours=25), id=1),
        DoseLog(day, "20:00", "clonazepam", 0.5, DoseStatus.MISSED, T0, id=2),
        DoseLog(date(2026, 1, 6), "08:00", "clonazepam", 0.5, DoseStatus.LATE, T0, taken_at=T0, id=3),
        DoseLog(date(2026, 1, 6), "20:00", "clonazepam", 0.5, DoseStatus.DIFFERENT, T0, 0.25,
                note="only had a quarter tablet"),
    ]  # fmt: skip


def checkins() -> list[CheckIn]:
    first = CheckIn(
        T0,
        (score_scale("phq9", PHQ9), score_scale("gad7", GAD7)),
        seizures=2,
        sleep_hours=6.5,
        sleep_quality=2,
        note="worse at night",
        id=41,
    )
    second = CheckIn(T0 + timedelta(days=7), (score_scale("gad7", {**GAD7, "item1": 0}),))
    return [first, second]


def record(**changes: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "patient": PATIENT,
        "plans": [undated_plan(), clonazepam_taper()],
        "dose_logs": dose_logs(),
        "checkins": checkins(),
        "generated_at": T0 + timedelta(days=8),
    } | changes
    return patient_record_bundle(**arguments)


def of_type(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def references(value: object) -> list[str]:
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [r for v in value.values() for r in references(v)]
    if isinstance(value, list):
        return [r for v in value for r in references(v)]
    return []


def test_the_bundle_validates_and_every_resource_validates_as_its_type() -> None:
    bundle = record()
    parsed = Bundle.model_validate(bundle)
    assert (parsed.type, bundle["timestamp"]) == ("collection", "2026-01-14T09:30:00Z")
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def test_counts_and_order() -> None:
    bundle = record()
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds[0] == "Patient"
    assert Counter(kinds) == {
        "Patient": 1,
        "MedicationRequest": 2,
        "MedicationStatement": 4,
        "QuestionnaireResponse": 3,
        "Observation": 3 + 4,  # 3 totals; seizures, sleep hours, sleep quality and the note once
    }


def test_full_urls_are_unique_deterministic_and_every_reference_resolves() -> None:
    bundle = record()
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(set(urls)) == len(urls)
    for entry in bundle["entry"]:
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"
    refs = references([e["resource"] for e in bundle["entry"]])
    assert refs and set(refs) <= set(urls)
    assert record() == bundle  # the same record gives the same Bundle
    other = record(patient=dataclasses.replace(PATIENT, id=18))
    assert not set(e["fullUrl"] for e in other["entry"]) & set(urls)


def test_patient_only_what_a_clinic_list_needs_and_the_disclaimer() -> None:
    (patient,) = of_type(record(), "Patient")
    assert patient["name"] == [{"text": "Ada Example"}]
    assert patient["birthDate"] == "1961"
    assert patient["identifier"][0]["value"] == "17"
    assert DISCLAIMER in patient["text"]["div"]
    (unknown,) = of_type(record(patient=dataclasses.replace(PATIENT, birth_year=None)), "Patient")
    assert "birthDate" not in unknown


def test_every_resource_with_a_note_starts_with_the_disclaimer() -> None:
    for entry in record()["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] in {"MedicationRequest", "MedicationStatement", "Observation"}:
            assert resource["note"][0]["text"] == DISCLAIMER


def test_plan_versions_latest_active_older_stopped() -> None:
    older, latest = of_type(record(), "MedicationRequest")
    assert [older["status"], latest["status"]] == ["stopped", "active"]
    assert {older["intent"], latest["intent"]} == {"plan"}
    assert "Superseded" in older["note"][-1]["text"]
    assert (
        latest["dosageInstruction"][0]["timing"]["repeat"]["boundsPeriod"]["start"] == "2026-01-05"
    )
    switch = of_type(record(plans=[diazepam_switch()]), "MedicationRequest")
    assert [r["medicationCodeableConcept"]["text"] for r in switch] == ["Clonazepam", "Diazepam"]
    assert {r["status"] for r in switch} == {"active"}


def test_dose_logs_as_medication_statements() -> None:
    taken, missed, late, different = of_type(record(), "MedicationStatement")
    assert [s["status"] for s in (taken, missed, late, different)] == [
        "completed", "not-taken", "completed", "completed",
    ]  # fmt: skip
    assert taken["effectiveDateTime"] == "2026-01-05T08:30:00Z"
    quantity = taken["dosage"][0]["doseAndRate"][0]["doseQuantity"]
    assert quantity == {
        "value": 0.5,
        "unit": "mg",
        "system": "http://unitsofmeasure.org",
        "code": "mg",
    }
    assert "doseAndRate" not in missed["dosage"][0] and missed["effectiveDateTime"] == "2026-01-05"
    assert "later than planned" in late["note"][1]["text"]
    assert late["dosage"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 0.5
    assert different["dosage"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 0.25
    notes = [n["text"] for n in different["note"]]
    assert "Taken 0.25 mg instead of the planned 0.5 mg." in notes
    assert "Patient's note: only had a quarter tablet" in notes


def test_scales_as_questionnaire_responses_with_coded_totals() -> None:
    bundle = record()
    responses = of_type(bundle, "QuestionnaireResponse")
    assert [r["questionnaire"] for r in responses] == [
        "https://benzokit.org/fhir/Questionnaire/phq9|1",
        "https://benzokit.org/fhir/Questionnaire/gad7|1",
        "https://benzokit.org/fhir/Questionnaire/gad7|1",
    ]
    phq9 = responses[0]
    assert phq9["status"] == "completed" and phq9["authored"] == "2026-01-06T09:30:00Z"
    assert [(i["linkId"], i["answer"][0]["valueInteger"]) for i in phq9["item"]] == list(
        PHQ9.items()
    )
    assert "better off dead" in phq9["item"][8]["text"]
    by_url = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    totals = [o for o in of_type(bundle, "Observation") if "derivedFrom" in o]
    assert [by_url[o["derivedFrom"][0]["reference"]]["id"] for o in totals] == [
        r["id"] for r in responses
    ]
    phq9_total, gad7_total, _ = totals
    assert phq9_total["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "44261-6",
        "display": "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
    }
    assert (phq9_total["valueInteger"], phq9_total["interpretation"]) == (9, [{"text": "mild"}])
    assert (
        phq9_total["status"] == "final"
        and phq9_total["category"][0]["coding"][0]["code"] == "survey"
    )
    assert any("Escalated to the clinician" in n["text"] for n in phq9_total["note"])
    assert gad7_total["code"]["coding"][0]["code"] == "70274-6"
    assert gad7_total["interpretation"] == [{"text": "moderate"}]
    assert any("unverified" in n["text"] for n in gad7_total["note"])


def test_a_total_code_that_is_not_verified_is_not_asserted(tmp_path: Path) -> None:
    data = Path(str(resources.files("benzokit.monitor").joinpath("data")))
    raw = tomllib.loads((data / "scales.toml").read_text(encoding="utf-8"))
    raw["scales"]["gad7"]["total_code"]["verified"] = False
    (tmp_path / "scales.toml").write_bytes(tomli_w.dumps(raw).encode())
    shutil.copy(data / "scale_ciwa_b.toml", tmp_path)
    bundle = record(scales=load_scale_dir(tmp_path))
    gad7 = [o for o in of_type(bundle, "Observation") if o["code"]["text"] == "GAD-7 total score"]
    assert gad7 and all("coding" not in o["code"] for o in gad7)


def test_checkin_observations() -> None:
    observations = {o["code"]["text"]: o for o in of_type(record(), "Observation")}
    assert observations["Seizures since last check-in"]["valueInteger"] == 2
    sleep = observations["Hours of sleep last night"]["valueQuantity"]
    assert sleep == {"value": 6.5, "unit": "h", "system": "http://unitsofmeasure.org", "code": "h"}
    quality = "Quality of sleep last night, 0 (very poor) to 4 (very good)"
    assert observations[quality]["valueInteger"] == 2
    assert observations["Patient's note at check-in"]["valueString"] == "worse at night"
    quiet = record(checkins=[CheckIn(T0, seizures=0)])
    assert of_type(quiet, "Observation") == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"generated_at": datetime(2026, 1, 14, 9, 30)}, "generated_at"),
        (
            {"dose_logs": [dataclasses.replace(dose_logs()[3], taken_mg=None)]},
            "dose_logs[0].taken_mg",
        ),
        ({"dose_logs": [dose_logs()[3], dose_logs()[3]]}, "dose_logs[1]"),
        (
            {"dose_logs": [dataclasses.replace(dose_logs()[0], planned_mg=-1.0)]},
            "dose_logs[0].planned_mg",
        ),
        ({"checkins": [CheckIn(datetime(2026, 1, 6, 9, 30))]}, "checkins[0].recorded_at"),
        ({"checkins": [CheckIn(T0, seizures=-1)]}, "checkins[0].seizures"),
        ({"checkins": [CheckIn(T0, sleep_hours=25.0)]}, "checkins[0].sleep_hours"),
        ({"patient": dataclasses.replace(PATIENT, birth_year=61)}, "patient.birth_year"),
        ({"plans": [dataclasses.replace(undated_plan(), steps=())]}, "plans[0].plan.steps"),
    ],
)
def test_bad_input_names_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as caught:
        record(**changes)
    assert caught.value.field == field
