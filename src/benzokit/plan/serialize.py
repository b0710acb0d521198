"""A plan back from its JSON view (``Plan.to_dict()``), so stored plans are the same values again."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from benzokit.drugs.models import ProductForm
from benzokit.errors import InputError
from benzokit.plan.model import (
    Administration,
    Plan,
    ProductUse,
    Step,
    StepKind,
    SwitchTerms,
    TitrationTerms,
)
from benzokit.safety.findings import Finding
from benzokit.units import ClockTime


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
            notes=tuple(str(n) for n in data.get("notes", ())),
            knowledge_version=data.get("knowledge_version"),
            **_parameters(data.get("parameters") or {}),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise InputError(
            "plan", type(error).__name__ + f": {error}", "a plan as benzokit writes it (Plan JSON)"
        ) from error


def _parameters(data: Mapping[str, Any]) -> dict[str, Any]:
    """The plan's typed planner inputs from the JSON view's ``"parameters"`` (see :attr:`Plan.parameters`)."""
    fields: dict[str, Any] = {
        "start_daily_mg": _optional(data, "start_daily_mg", float),
        "target_daily_mg": float(data.get("target_daily_mg") or 0.0),
        "times": tuple(ClockTime.parse(str(t), field="plan.times") for t in data.get("times", ())),
        "interval_days": _optional(data, "interval_days", int),
        "risk": _optional(data, "risk", str),
        "products_market": _optional(data, "products_market", str),
        "liquid": _optional(data, "liquid", bool),
        "custom_steps": _optional(data, "steps", str),
        "slowed_by": _optional(data, "slowed_by", float),
    }
    if "diazepam_mg_per_mg" in data:
        low, high = data["equivalence_range_diazepam_mg_per_mg"]
        fields["switch"] = SwitchTerms(
            float(data["diazepam_mg_per_mg"]),
            str(data["equivalence_source"]),
            (float(low), float(high)),
            int(data["cross_over_stages"]),
            int(data["stage_days"]),
        )
    if "indication" in data:
        fields["titration"] = TitrationTerms(str(data["indication"]), str(data["population"]))
    return fields


def _optional(data: Mapping[str, Any], key: str, kind: type[Any]) -> Any:
    value = data.get(key)
    return None if value is None else kind(value)


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
        time=ClockTime.parse(str(data["time"]), field="plan.doses.time"),
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
            preparation=_optional(data, "preparation", str),
            made_from_tablet_mg=_optional(data, "made_from_tablet_mg", float),
        )
    return ProductUse(
        form, strength_mg=float(data["strength_mg"]), quantity=float(data["quantity"])
    )
