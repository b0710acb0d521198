"""The plan: consecutive steps, each a daily pattern of administrations made of real products.

Day 0 is the plan's first day; a step covers [start_day, end_day). The JSON view is documented in the README
("Plan JSON") and is what ``--json`` prints and the exports read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from benzokit._disclaimer import DISCLAIMER
from benzokit.drugs.models import ProductForm
from benzokit.errors import InputError
from benzokit.regimen.regimen import Phase, Regimen, Slot
from benzokit.safety.findings import Finding
from benzokit.units import HOURS_PER_DAY, ClockTime, DoseAmount


@dataclass(frozen=True, slots=True)
class ProductUse:
    """Part of one administration: ``quantity`` units of a solid form, or ``volume_ml`` of a liquid."""

    form: ProductForm
    strength_mg: float | None = None
    quantity: float | None = None
    concentration_mg_ml: float | None = None
    volume_ml: float | None = None
    preparation: str | None = None
    made_from_tablet_mg: float | None = None

    @property
    def dose_mg(self) -> float:
        if self.form is ProductForm.LIQUID:
            return (self.concentration_mg_ml or 0.0) * (self.volume_ml or 0.0)
        return (self.strength_mg or 0.0) * (self.quantity or 0.0)

    def to_dict(self) -> dict[str, Any]:
        if self.form is ProductForm.LIQUID:
            view: dict[str, Any] = {
                "form": str(self.form),
                "concentration_mg_ml": self.concentration_mg_ml,
                "volume_ml": self.volume_ml,
            }
            if self.preparation:
                view["preparation"] = self.preparation
            if self.made_from_tablet_mg is not None:
                view["made_from_tablet_mg"] = self.made_from_tablet_mg
            return view
        return {"form": str(self.form), "strength_mg": self.strength_mg, "quantity": self.quantity}

    def describe(self) -> str:
        if self.form is ProductForm.LIQUID:
            if self.made_from_tablet_mg is not None:
                return f"{self.volume_ml:g} mL of the water mixture ({self.concentration_mg_ml:g} mg/mL)"
            what = self.preparation or "liquid"
            return f"{self.volume_ml:g} mL of {self.concentration_mg_ml:g} mg/mL {what}"
        fractions = {0.25: "a quarter of a", 0.5: "half of a", 0.75: "three quarters of a"}
        count = fractions.get(self.quantity or 0.0, f"{self.quantity:g} x")
        form = "ODT" if self.form is ProductForm.ODT else str(self.form)
        return f"{count} {self.strength_mg:g} mg {form}"


@dataclass(frozen=True, slots=True)
class Administration:
    """One dose at a clock time, and the products that make it."""

    drug: str
    time: ClockTime
    dose_mg: float
    products: tuple[ProductUse, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "drug": self.drug,
            "time": str(self.time),
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

    def doses_of(self, drug: str) -> tuple[Administration, ...]:
        """This step's administrations of ``drug``, in time order."""
        return tuple(sorted((a for a in self.doses if a.drug == drug), key=lambda a: a.time))

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
class SwitchTerms:
    """How a diazepam switch crosses over: the equivalence chosen (and its sourced range), the stages."""

    diazepam_mg_per_mg: float
    equivalence_source: str
    equivalence_range_diazepam_mg_per_mg: tuple[float, float]
    cross_over_stages: int
    stage_days: int


@dataclass(frozen=True, slots=True)
class TitrationTerms:
    """The label row a titration follows."""

    indication: str
    population: str


@dataclass(frozen=True, slots=True)
class Plan:
    """A titration or taper plan with the findings the safety checker raised on it.

    The planner's inputs that shaped it are typed fields (``None``: not given or not applicable):
    ``start_daily_mg`` (mg/day of ``drug`` before day 0), ``target_daily_mg`` (the dose kept at the end;
    0 = the plan stops), ``times`` (the daily dose times), ``interval_days`` (days between cuts),
    ``risk``, the products (``products_market``, ``liquid``), ``custom_steps`` (the steps as written),
    ``switch`` / ``titration`` terms, and ``slowed_by`` (a course slowed by this factor).
    ``knowledge_version`` names the knowledge base it was planned and checked with
    (:attr:`benzokit.knowledge.Knowledge.version`).
    """

    drug: str
    strategy: str
    steps: tuple[Step, ...]
    findings: tuple[Finding, ...] = ()
    start_date: date | None = None
    notes: tuple[str, ...] = ()
    start_daily_mg: float | None = None
    target_daily_mg: float = 0.0
    times: tuple[ClockTime, ...] = ()
    interval_days: int | None = None
    risk: str | None = None
    products_market: str | None = None
    liquid: bool | None = None
    custom_steps: str | None = None
    switch: SwitchTerms | None = None
    titration: TitrationTerms | None = None
    slowed_by: float | None = None
    knowledge_version: str | None = None

    @property
    def first_daily_mg(self) -> float:
        """mg/day of the plan's drug before day 0: the start dose given, else the first step's."""
        if self.start_daily_mg is not None:
            return self.start_daily_mg
        return self.steps[0].daily_dose_mg(self.drug) if self.steps else 0.0

    @property
    def parameters(self) -> dict[str, Any]:
        """The typed planner inputs as the JSON view's ``"parameters"`` object (README, "Plan JSON")."""
        view: dict[str, Any] = {}
        if self.titration is not None:
            view |= {"indication": self.titration.indication}
            view |= {"population": self.titration.population}
        if self.start_daily_mg is not None:
            view["start_daily_mg"] = self.start_daily_mg
        if self.custom_steps is not None:
            view["steps"] = self.custom_steps
        if self.custom_steps is None or self.target_daily_mg:
            view["target_daily_mg"] = self.target_daily_mg
        view["times"] = [str(t) for t in self.times]
        if self.interval_days is not None:
            view["interval_days"] = self.interval_days
        if self.risk is not None:
            view["risk"] = self.risk
        if self.liquid is not None:
            view |= {"products_market": self.products_market, "liquid": self.liquid}
        if self.switch is not None:
            view |= {
                "diazepam_mg_per_mg": self.switch.diazepam_mg_per_mg,
                "equivalence_source": self.switch.equivalence_source,
                "equivalence_range_diazepam_mg_per_mg": list(
                    self.switch.equivalence_range_diazepam_mg_per_mg
                ),
                "cross_over_stages": self.switch.cross_over_stages,
                "stage_days": self.switch.stage_days,
            }
        if self.slowed_by is not None:
            view["slowed_by"] = self.slowed_by
        return view

    @property
    def total_days(self) -> int:
        return self.steps[-1].end_day if self.steps else 0

    def to_regimen(self, drug: str | None = None) -> Regimen:
        """The plan's doses of ``drug`` (default: the plan's drug) as a :class:`Regimen`, step by step.

        Built directly from the steps (never through prescription text): each step is a phase of its
        daily administrations of ``drug``, repeated every 24 h for the step's days. Steps without a dose
        of ``drug`` (a switch's diazepam taper, for the original drug) are phases without doses; those
        at the end are left out, so the regimen ends with the drug's last dose day. A plan with no dose
        of ``drug`` at all is an :class:`InputError`.
        """
        name = drug or self.drug
        return regimen_of_days([(step.doses_of(name), step.days) for step in self.steps], name)

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
            "knowledge_version": self.knowledge_version,
            "disclaimer": DISCLAIMER,
        }


@dataclass(frozen=True, slots=True)
class DailyDose:
    """What a patient takes of one drug each day: ``daily_mg`` (mg/day) spread over ``times``."""

    daily_mg: float
    times: tuple[ClockTime, ...]


def daily_phase(doses: tuple[Administration, ...], days: int) -> Phase:
    """``doses`` (one day's administrations) every 24 h for ``days`` days; no doses: a gap."""
    slots = tuple(Slot(a.time.hours, DoseAmount(a.dose_mg)) for a in doses)
    return Phase(slots=slots, duration_h=days * HOURS_PER_DAY)


def regimen_of_days(runs: list[tuple[tuple[Administration, ...], int]], drug: str) -> Regimen:
    """A regimen of consecutive (day's administrations, days) runs; trailing runs without doses dropped."""
    while runs and not runs[-1][0]:
        runs = runs[:-1]
    if not runs:
        raise InputError("plan", drug, f"a plan with at least one dose of {drug}")
    return Regimen(tuple(daily_phase(doses, days) for doses, days in runs))
