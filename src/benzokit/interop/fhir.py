"""A plan as FHIR R4 ``MedicationRequest`` resources (status ``draft``, intent ``plan``).

The installed ``fhir.resources`` validates FHIR R5 at its top level; its ``R4B`` subpackage (FHIR 4.3.0,
whose MedicationRequest, Dosage and Timing are those of R4 4.0.1) is used here. Each step becomes one or
more ``dosageInstruction`` entries with ``sequence`` = step index + 1 (entries sharing a sequence are taken
concurrently: one per distinct dose amount, with its clock times in ``timing.repeat.timeOfDay``). The step's
days are ``timing.repeat.boundsPeriod`` (first and last date, inclusive) when the plan has a start date,
otherwise ``boundsDuration`` in days. Doses are UCUM ``mg``. The medication is given by name only
(``medicationCodeableConcept.text``): no drug code is asserted without a citable source.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.medicationrequest import MedicationRequest

from benzokit._disclaimer import DISCLAIMER
from benzokit.errors import InputError
from benzokit.files import write_atomically
from benzokit.interop._common import (
    check_plan,
    drug_title,
    drugs_of,
    mg,
    plan_key,
    products_text,
    sorted_doses,
)
from benzokit.plan.model import Plan, Step, StepKind

UCUM = "http://unitsofmeasure.org"
_REFERENCE = re.compile(r"^[A-Za-z]+/[A-Za-z0-9\-.]{1,64}$")


def medication_request(
    plan: Plan, *, drug: str | None = None, patient_reference: str = "Patient/example"
) -> dict[str, Any]:
    """The ``MedicationRequest`` (FHIR JSON, validated) for one drug of the plan.

    ``drug`` defaults to the plan's drug; a plan that also uses another drug (a switch) must name one, or
    use :func:`medication_requests`.
    """
    check_plan(plan)
    drugs = drugs_of(plan)
    if drug is None and len(drugs) > 1:
        raise InputError("drug", None, f"this plan uses {', '.join(drugs)}: name one of them")
    chosen = drug or plan.drug
    if chosen not in drugs:
        raise InputError("drug", chosen, f"this plan uses {', '.join(drugs)}")
    if not _REFERENCE.match(patient_reference):
        raise InputError("patient_reference", patient_reference, "write it as 'Patient/<id>'")
    resource = _resource(plan, chosen, patient_reference)
    return _validated(MedicationRequest, resource)


def medication_requests(
    plan: Plan, *, patient_reference: str = "Patient/example"
) -> list[dict[str, Any]]:
    """One ``MedicationRequest`` per drug of the plan, the plan's own drug first."""
    return [
        medication_request(plan, drug=d, patient_reference=patient_reference)
        for d in drugs_of(plan)
    ]


def write_fhir(plan: Plan, path: Path, *, patient_reference: str = "Patient/example") -> Path:
    """Write the plan as FHIR JSON: a MedicationRequest, or a ``collection`` Bundle of one per drug."""
    requests = medication_requests(plan, patient_reference=patient_reference)
    if len(requests) == 1:
        document = requests[0]
    else:
        bundle = {
            "resourceType": "Bundle",
            "id": f"benzokit-{plan_key(plan)}",
            "type": "collection",
            "entry": [{"resource": r} for r in requests],
        }
        document = _validated(Bundle, bundle)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return write_atomically(path, text.encode())


def _resource(plan: Plan, drug: str, patient_reference: str) -> dict[str, Any]:
    dosages = [
        dosage for i, step in enumerate(plan.steps) for dosage in _dosages(plan, i, step, drug)
    ]
    if not dosages:
        raise InputError("drug", drug, "has no doses above 0 mg in this plan")
    return {
        "resourceType": "MedicationRequest",
        "id": f"benzokit-{plan_key(plan)}-{re.sub(r'[^a-z0-9]+', '-', drug.lower())}"[:64],
        "status": "draft",
        "intent": "plan",
        "medicationCodeableConcept": {"text": drug_title(drug)},
        "subject": {"reference": patient_reference},
        "note": [{"text": DISCLAIMER}, {"text": f"benzokit plan: {plan.strategy}"}],
        "dosageInstruction": dosages,
    }


def _dosages(plan: Plan, index: int, step: Step, drug: str) -> list[dict[str, Any]]:
    """The step's doses of ``drug``, one Dosage per distinct amount and product mix."""
    groups: dict[tuple[float, str], list[str]] = defaultdict(list)
    for a in sorted_doses(step):
        if a.drug == drug and a.dose_mg > 0:
            groups[(a.dose_mg, products_text(a))].append(str(a.time))
    bounds = _bounds(plan, step)
    found = []
    for (dose_mg, products), times in groups.items():
        hold = "Hold (no change): " if step.kind is StepKind.HOLD else ""
        clock = " and ".join(times)
        found.append(
            {
                "sequence": index + 1,
                "text": f"{hold}{mg(dose_mg)} mg at {clock} daily: {products}",
                "timing": {
                    "repeat": {
                        **bounds,
                        "frequency": len(times),
                        "period": 1,
                        "periodUnit": "d",
                        "timeOfDay": [f"{t}:00" for t in times],
                    }
                },
                "route": {"text": "oral"},
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": round(dose_mg, 6),
                            "unit": "mg",
                            "system": UCUM,
                            "code": "mg",
                        }
                    }
                ],
            }
        )
    return found


def _bounds(plan: Plan, step: Step) -> dict[str, Any]:
    if plan.start_date is None:
        return {"boundsDuration": {"value": step.days, "unit": "days", "system": UCUM, "code": "d"}}
    first = plan.start_date + timedelta(days=step.start_day)
    last = plan.start_date + timedelta(days=step.end_day - 1)
    return {"boundsPeriod": {"start": first.isoformat(), "end": last.isoformat()}}


def _validated(
    model: type[MedicationRequest] | type[Bundle], resource: dict[str, Any]
) -> dict[str, Any]:
    """Validate ``resource`` against the fhir.resources model and return its JSON form."""
    parsed = model.model_validate(resource)
    return json.loads(parsed.model_dump_json(exclude_none=True))  # type: ignore[no-any-return]
