"""The plan as prescription text: kept only for ``sim.trial.plan``'s planned tapers, until they build the
regimen with :meth:`Plan.to_regimen` (the comparison itself is :mod:`benzokit.compare`)."""

from __future__ import annotations

from benzokit.plan.model import Plan
from benzokit.units import format_clock, parse_clock_h


def plan_regimen_text(plan: Plan) -> str:
    """The plan as prescription text for the simulator (single-drug plans)."""
    phases = []
    for step in plan.steps:
        doses = " and ".join(
            f"{a.dose_mg:.6g} mg at {format_clock(parse_clock_h(a.time))}" for a in step.doses
        )
        phases.append(f"{doses} x {step.days} days")
    return ", then ".join(phases)
