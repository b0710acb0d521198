"""A plan back from its JSON view (``Plan.to_dict()``), so stored plans are the same values again."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from benzokit.drugs.models import ProductForm
from benzokit.errors import InputError
from benzokit.plan.model import Administration, Plan, ProductUse, Step, StepKind
from benzokit.safety.findings import Finding


def plan_from_dict(data: Mapping[str, Any]) -> Plan:
    """The :class:`Plan` whose ``to_dict()`` is ``data``; a malformed view is an :class:`InputError`."""
    try:
        start = data.get("start_date")
        return Plan(
            drug=str(data["drug"]),
            strategy=str(data["strategy"]),
            steps=tuple(_step(s) for s in data["steps"]),
            findings=tuple(Finding.from_dict(f) for f in data.get("findings", ())),
            start_date=date.fromisoformat(start) if start else None,
            parameters=dict(data.get("parameters", {})),
            notes=tuple(str(n) for n in data.get("notes", ())),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise InputError(
            "plan", type(error).__name__ + f": {error}", "a plan as benzokit writes it (Plan JSON)"
        ) from error


def _step(data: Mapping[str, Any]) -> Step:
    return Step(
        start_day=int(data["start_day"]),
        end_day=int(data["end_day"]),
        doses=tuple(_administration(a) for a in data["doses"]),
        kind=StepKind(data.get("kind", "dose")),
        note=str(data.get("note", "")),
    )


def _administration(data: Mapping[str, Any]) -> Administration:
    return Administration(
        drug=str(data["drug"]),
        time=str(data["time"]),
        dose_mg=float(data["dose_mg"]),
        products=tuple(_product(p) for p in data["products"]),
    )


def _product(data: Mapping[str, Any]) -> ProductUse:
    form = ProductForm(data["form"])
    if form is ProductForm.LIQUID:
        return ProductUse(
            form,
            concentration_mg_ml=float(data["concentration_mg_ml"]),
            volume_ml=float(data["volume_ml"]),
        )
    return ProductUse(
        form, strength_mg=float(data["strength_mg"]), quantity=float(data["quantity"])
    )
