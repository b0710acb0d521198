"""The plan: consecutive steps, each a daily pattern of administrations made of real products.

Day 0 is the plan's first day; a step covers [start_day, end_day). The JSON view is documented in the README
("Plan JSON") and is what ``--json`` prints and the exports read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from benzokit._disclaimer import DISCLAIMER
from benzokit.drugs.models import ProductForm
from benzokit.regimen.regimen import Phase, Regimen, Slot
from benzokit.safety.findings import Finding
from benzokit.units import HOURS_PER_DAY, DoseAmount, parse_clock_h


@dataclass(frozen=True, slots=True)
class ProductUse:
    """Part of one administration: ``quantity`` units of a solid form, or ``volume_ml`` of a liquid."""

    form: ProductForm
    strength_mg: float | None = None
    quantity: float | None = None
    concentration_mg_ml: float | None = None
    volume_ml: float | None = None

    @property
    def dose_mg(self) -> float:
        if self.form is ProductForm.LIQUID:
            return (self.concentration_mg_ml or 0.0) * (self.volume_ml or 0.0)
        return (self.strength_mg or 0.0) * (self.quantity or 0.0)

    def to_dict(self) -> dict[str, Any]:
        if self.form is ProductForm.LIQUID:
            return {
                "form": str(self.form),
                "concentration_mg_ml": self.concentration_mg_ml,
                "volume_ml": self.volume_ml,
            }
        return {"form": str(self.form), "strength_mg": self.strength_mg, "quantity": self.quantity}

    def describe(self) -> str:
        if self.form is ProductForm.LIQUID:
            return f"{self.volume_ml:g} mL of {self.concentration_mg_ml:g} mg/mL liquid"
        fractions = {0.25: "a quarter of a", 0.5: "half of a", 0.75: "three quarters of a"}
        count = fractions.get(self.quantity or 0.0, f"{self.quantity:g} x")
        form = "ODT" if self.form is ProductForm.ODT else str(self.form)
        return f"{count} {self.strength_mg:g} mg {form}"


@dataclass(frozen=True, slots=True)
class Administration:
    """One dose at a clock time, and the products that make it."""

    drug: str
    time: str
    dose_mg: float
    products: tuple[ProductUse, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "drug": self.drug,
            "time": self.time,
            "dose_mg": self.dose_mg,
            "products": [p.to_dict() for p in self.products],
        }


class StepKind(StrEnum):
    DOSE = "dose"
    HOLD = "hold"


@dataclass(frozen=True, slots=True)
class Step:
    """Days [start_day, end_day) on the same daily administrations. A hold repeats the previous dose."""

    start_day: int
    end_day: int
    doses: tuple[Administration, ...]
    kind: StepKind = StepKind.DOSE
    note: str = ""

    @property
    def days(self) -> int:
        return self.end_day - self.start_day

    def daily_dose_mg(self, drug: str | None = None) -> float:
        """mg per day of ``drug`` (default: all drugs — meaningful only for single-drug steps)."""
        return sum(a.dose_mg for a in self.doses if drug is None or a.drug == drug)

    def daily_dose_by_drug(self) -> dict[str, float]:
        drugs = dict.fromkeys(a.drug for a in self.doses)
        return {d: self.daily_dose_mg(d) for d in drugs}

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_day": self.start_day,
            "end_day": self.end_day,
            "kind": str(self.kind),
            "daily_dose_mg": self.daily_dose_mg(),
            "daily_dose_mg_by_drug": self.daily_dose_by_drug(),
            "doses": [a.to_dict() for a in self.doses],
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class Plan:
    """A titration or taper plan with the findings the safety checker raised on it."""

    drug: str
    strategy: str
    steps: tuple[Step, ...]
    findings: tuple[Finding, ...] = ()
    start_date: date | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def total_days(self) -> int:
        return self.steps[-1].end_day if self.steps else 0

    def to_regimen(self, drug: str | None = None) -> Regimen:
        """The plan's doses of ``drug`` (default: the plan's drug) as a :class:`Regimen`, step by step.

        Built directly from the steps (never through prescription text): each step is a phase of its
        daily administrations, repeated every 24 h for the step's days.
        """
        name = drug or self.drug
        phases = tuple(
            Phase(
                slots=tuple(
                    Slot(parse_clock_h(a.time), DoseAmount(a.dose_mg))
                    for a in step.doses
                    if a.drug == name
                ),
                duration_h=step.days * HOURS_PER_DAY,
            )
            for step in self.steps
        )
        return Regimen(phases)

    def date_of(self, day: int) -> date | None:
        return None if self.start_date is None else self.start_date + timedelta(days=day)

    def to_dict(self) -> dict[str, Any]:
        return {
            "drug": self.drug,
            "strategy": self.strategy,
            "start_date": self.start_date.isoformat() if self.start_date else None,
            "parameters": self.parameters,
            "steps": [s.to_dict() for s in self.steps],
            "findings": [f.to_dict() for f in self.findings],
            "notes": list(self.notes),
            "disclaimer": DISCLAIMER,
        }
