"""A patient's monitoring record as one FHIR R4 ``collection`` Bundle, validated with fhir.resources R4B.

The Bundle holds, in this order: the ``Patient``; a ``MedicationRequest`` per drug of every plan version
(built by :func:`~benzokit.interop.fhir.medication_request`; the last plan of the sequence is the current
one, status ``active``, earlier versions ``stopped``; intent stays ``plan``); a ``MedicationStatement`` per
dose log (``completed`` when taken, late or in another amount, ``not-taken`` when missed); and per
check-in a ``QuestionnaireResponse`` per scored scale with an ``Observation`` of its total (LOINC-coded
where the scale file holds a verified total-score code, text otherwise; the band as interpretation text),
plus ``Observation`` resources for reported seizures (when above 0), hours and quality of sleep and the
patient's note.

Every ``fullUrl`` is ``urn:uuid:`` + a uuid5 of the patient id, the kind of record and its id (or natural
key), and each resource's ``id`` is that uuid: the same record always gives the same Bundle, and every
reference resolves inside it. Every resource with a ``note`` element carries the decision-support
statement as its first note; the Patient (the first entry, which has no ``note``) carries it in its
narrative.
"""

from __future__ import annotations

import html
import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from benzokit._disclaimer import DISCLAIMER
from benzokit.errors import InputError
from benzokit.interop._common import drug_title, drugs_of, mg, plan_key
from benzokit.interop.fhir import UCUM, medication_request
from benzokit.monitor.records import CheckIn, DoseLog, DoseStatus, PatientSummary, ScaleScore
from benzokit.monitor.scale_models import LOINC_SYSTEM
from benzokit.monitor.scales import ScaleSet, escalation_rules, load_scales
from benzokit.plan.model import Plan

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://benzokit.org/fhir")
QUESTIONNAIRE_BASE = "https://benzokit.org/fhir/Questionnaire/"
PATIENT_ID_SYSTEM = "https://benzokit.org/fhir/patient-id"
PLAN_ID_SYSTEM = "https://benzokit.org/fhir/plan"
_SURVEY = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "survey",
            "display": "Survey",
        }
    ]
}
_XHTML = "http://www.w3.org/1999/xhtml"


def patient_record_bundle(
    patient: PatientSummary,
    plans: Sequence[Plan],
    dose_logs: Sequence[DoseLog],
    checkins: Sequence[CheckIn],
    *,
    generated_at: datetime,
    scales: ScaleSet | None = None,
) -> dict[str, Any]:
    """The patient's record as a validated FHIR R4 ``collection`` Bundle (JSON form).

    ``plans`` are the versions of the patient's plan, oldest first (the last is current); ``scales``
    defaults to the shipped scale definitions. Times must be timezone-aware. Bad input raises
    :class:`~benzokit.errors.InputError` naming the field (``dose_logs[3].taken_mg``).
    """
    stamp = _when("generated_at", generated_at)
    urls = _FullUrls(patient.id)
    patient_id = urls.make("patient", str(patient.id), "patient.id")
    subject = {"reference": f"urn:uuid:{patient_id}"}
    resources = [_patient(patient, patient_id)]
    resources += _requests(plans, patient, subject, urls)
    resources += [_statement(n, log, subject, urls) for n, log in enumerate(dose_logs)]
    for n, checkin in enumerate(checkins):
        resources += _checkin(n, checkin, subject, urls, scales or load_scales())
    bundle = {
        "resourceType": "Bundle",
        "id": urls.make("bundle", stamp, "generated_at"),
        "type": "collection",
        "timestamp": stamp,
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
    }
    parsed = Bundle.model_validate(bundle)
    return json.loads(parsed.model_dump_json(exclude_none=True))  # type: ignore[no-any-return]


@dataclass
class _FullUrls:
    """Deterministic uuids (uuid5 of patient, kind and key); a key seen twice is an InputError."""

    patient: int
    seen: set[str] = field(default_factory=set)

    def make(self, kind: str, key: str, where: str) -> str:
        value = str(uuid.uuid5(NAMESPACE, f"{self.patient}/{kind}/{key}"))
        if value in self.seen:
            raise InputError(where, key, "appears twice in the record: give each record its own id")
        self.seen.add(value)
        return value


def _patient(patient: PatientSummary, rid: str) -> dict[str, Any]:
    shown = html.escape(patient.display_name or f"Patient {patient.id}", quote=False)
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": rid,
        "text": {
            "status": "additional",
            "div": f'<div xmlns="{_XHTML}"><p>{shown}</p><p>{html.escape(DISCLAIMER, quote=False)}</p></div>',
        },
        "identifier": [{"system": PATIENT_ID_SYSTEM, "value": str(patient.id)}],
    }
    if patient.display_name.strip():
        resource["name"] = [{"text": patient.display_name}]
    if patient.birth_year is not None:
        year = patient.birth_year
        if isinstance(year, bool) or not isinstance(year, int) or not 1000 <= year <= 9999:
            raise InputError("patient.birth_year", year, "a four-digit year")
        resource["birthDate"] = f"{year:04d}"  # FHIR date allows a year alone
    return resource


def _requests(
    plans: Sequence[Plan], patient: PatientSummary, subject: dict[str, str], urls: _FullUrls
) -> list[dict[str, Any]]:
    found = []
    for n, plan in enumerate(plans):
        current = n == len(plans) - 1
        dosed = [
            d
            for d in drugs_of(plan)
            if any(a.drug == d and a.dose_mg > 0 for s in plan.steps for a in s.doses)
        ]
        for drug in dosed or [plan.drug]:
            try:
                built = medication_request(
                    plan, drug=drug, patient_reference=f"Patient/{patient.id}"
                )
            except InputError as exc:
                raise InputError(f"plans[{n}].{exc.field}", exc.value, exc.allowed) from exc
            rid = urls.make("plan", f"{n}/{plan_key(plan)}/{drug}", f"plans[{n}]")
            notes = [*built["note"]]
            if not current:
                notes.append({"text": "Superseded by a later version of the plan."})
            found.append(
                {
                    **built,
                    "id": rid,
                    "identifier": [{"system": PLAN_ID_SYSTEM, "value": built["id"]}],
                    "status": "active" if current else "stopped",
                    "subject": subject,
                    "note": notes,
                }
            )
    return found


def _statement(n: int, log: DoseLog, subject: dict[str, str], urls: _FullUrls) -> dict[str, Any]:
    where = f"dose_logs[{n}]"
    asserted = _when(f"{where}.recorded_at", log.recorded_at)
    key = str(log.id) if log.id is not None else f"{log.day.isoformat()}T{log.time}/{log.drug}"
    planned = _mg(f"{where}.planned_mg", log.planned_mg)
    notes = [DISCLAIMER]
    resource: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": urls.make("dose", key, where),
        "medicationCodeableConcept": {"text": drug_title(log.drug)},
        "subject": subject,
        "effectiveDateTime": log.day.isoformat(),
        "dateAsserted": asserted,
        "informationSource": subject,
    }
    if log.status is DoseStatus.MISSED:
        resource["status"] = "not-taken"
        resource["statusReason"] = [{"text": "Reported as missed by the patient"}]
        dosage: dict[str, Any] = {"text": f"Planned {mg(planned)} mg at {log.time}; not taken"}
    else:
        if log.status is DoseStatus.DIFFERENT and log.taken_mg is None:
            raise InputError(
                f"{where}.taken_mg", None, "the amount taken, when it differs from the plan"
            )
        taken = planned if log.taken_mg is None else _mg(f"{where}.taken_mg", log.taken_mg)
        resource["status"] = "completed"
        if log.taken_at is not None:
            resource["effectiveDateTime"] = _when(f"{where}.taken_at", log.taken_at)
        dosage = {
            "text": f"{mg(taken)} mg (planned {mg(planned)} mg at {log.time})",
            "doseAndRate": [{"doseQuantity": _quantity(taken, "mg")}],
        }
        if log.status is DoseStatus.LATE:
            notes.append(f"Taken later than planned (planned at {log.time}).")
        if log.status is DoseStatus.DIFFERENT:
            notes.append(f"Taken {mg(taken)} mg instead of the planned {mg(planned)} mg.")
    if log.note:
        notes.append(f"Patient's note: {log.note}")
    return {**resource, "dosage": [dosage], "note": [{"text": t} for t in notes]}


def _checkin(
    n: int, checkin: CheckIn, subject: dict[str, str], urls: _FullUrls, scales: ScaleSet
) -> list[dict[str, Any]]:
    where = f"checkins[{n}]"
    when = _when(f"{where}.recorded_at", checkin.recorded_at)
    key = str(checkin.id) if checkin.id is not None else when
    found: list[dict[str, Any]] = []
    for score in checkin.scales:
        found += _scored(
            f"{where}.scales",
            f"{key}/{score.scale}",
            score,
            when=when,
            subject=subject,
            urls=urls,
            scales=scales,
        )
    observed: list[tuple[str, str, dict[str, Any]]] = []
    seizures = checkin.seizures
    if isinstance(seizures, bool) or not isinstance(seizures, int) or seizures < 0:
        raise InputError(f"{where}.seizures", seizures, "a count of 0 or more")
    if seizures > 0:
        observed.append(("seizures", "Seizures since last check-in", {"valueInteger": seizures}))
    if checkin.sleep_hours is not None:
        hours = checkin.sleep_hours
        if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 <= hours <= 24:
            raise InputError(f"{where}.sleep_hours", hours, "hours from 0 to 24")
        observed.append(
            ("sleep-hours", "Hours of sleep last night", {"valueQuantity": _quantity(hours, "h")})
        )
    if checkin.sleep_quality is not None:
        quality = checkin.sleep_quality
        if isinstance(quality, bool) or quality not in range(5):
            raise InputError(f"{where}.sleep_quality", quality, "0 (very poor) to 4 (very good)")
        label = "Quality of sleep last night, 0 (very poor) to 4 (very good)"
        observed.append(("sleep-quality", label, {"valueInteger": quality}))
    if checkin.note:
        observed.append(("note", "Patient's note at check-in", {"valueString": checkin.note}))
    for kind, text, value in observed:
        rid = urls.make(kind, key, where)
        found.append(
            _observation(rid, {"text": text}, value, when=when, subject=subject, notes=[DISCLAIMER])
        )
    return found


def _scored(
    where: str,
    key: str,
    score: ScaleScore,
    *,
    when: str,
    subject: dict[str, str],
    urls: _FullUrls,
    scales: ScaleSet,
) -> list[dict[str, Any]]:
    scale = scales.get(score.scale)
    same = score.version == scale.version  # item wording and bands are those of this version
    texts = {i.id: i.text for i in scale.items} if same else {}
    response_id = urls.make("questionnaire-response", key, where)
    items = []
    for item_id, value in score.answers:
        entry: dict[str, Any] = {"linkId": item_id, "answer": [{"valueInteger": value}]}
        if item_id in texts:
            entry["text"] = texts[item_id]
        items.append(entry)
    response = {
        "resourceType": "QuestionnaireResponse",
        "id": response_id,
        "questionnaire": f"{QUESTIONNAIRE_BASE}{scale.id}|{score.version}",
        "status": "completed",
        "subject": subject,
        "authored": when,
        "source": subject,
        "item": items,
    }
    code: dict[str, Any] = {"text": f"{scale.name} total score"}
    if scale.total_code is not None and scale.total_code.verified:
        coding = {"system": LOINC_SYSTEM, "code": scale.total_code.code}
        if scale.total_code.display:
            coding["display"] = scale.total_code.display
        code["coding"] = [coding]
    notes = [DISCLAIMER]
    band = next((b for b in scale.scoring_bands if b.label == score.band), None)
    if same and band is not None and not band.verified:
        notes.append(f"The band '{band.label}' is held from secondary material (unverified).")
    notes += [
        f"Escalated to the clinician: {rule.reason}."
        for rule in escalation_rules(score, scales=scales)
    ]
    total = _observation(
        urls.make("scale-total", key, where),
        code,
        {"valueInteger": score.total},
        when=when,
        subject=subject,
        notes=notes,
    )
    if score.band:
        total["interpretation"] = [{"text": score.band}]
    total["derivedFrom"] = [{"reference": f"urn:uuid:{response_id}"}]
    return [response, total]


def _observation(
    rid: str,
    code: dict[str, Any],
    value: dict[str, Any],
    *,
    when: str,
    subject: dict[str, str],
    notes: list[str],
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "category": [_SURVEY],
        "code": code,
        "subject": subject,
        "effectiveDateTime": when,
        "performer": [subject],
        **value,
        "note": [{"text": t} for t in notes],
    }


def _when(where: str, value: datetime) -> str:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InputError(where, value, "a timezone-aware date and time")
    return value.isoformat()


def _mg(where: str, value: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise InputError(where, value, "a dose in mg, 0 or more")
    return float(value)


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": round(value, 6), "unit": unit, "system": UCUM, "code": unit}
