"""``simulate_pd``: occupancy, effect, adaptation and withdrawal index on top of a PK result."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from benzokit.drugs.models import Drug
from benzokit.pd.occupancy import occupancy_c50_unbound_ng_ml
from benzokit.pd.params import PDParameters, load_pd_parameters
from benzokit.pd.tolerance import Moderator, ToleranceModel, TurnoverFeedback
from benzokit.sim.result import SimulationResult

FloatArray = NDArray[np.float64]
HOURS_PER_DAY = 24.0


class ToleranceModelName(StrEnum):
    MODERATOR = "moderator"
    TURNOVER_FEEDBACK = "turnover_feedback"


@dataclass(frozen=True, slots=True)
class PDResult:
    """PD trajectories on the PK result's grid; all dimensionless (fractions of maximal effect)."""

    occupancy_set: str
    tolerance_model: str
    c50_unbound_ng_ml: float
    occupancy: FloatArray
    effect: FloatArray
    adaptation: FloatArray
    net_effect: FloatArray
    withdrawal_index: FloatArray

    def to_dict(self) -> dict[str, Any]:
        return {
            "occupancy_set": self.occupancy_set,
            "tolerance_model": self.tolerance_model,
            "c50_unbound_ng_ml": self.c50_unbound_ng_ml,
            "occupancy": self.occupancy.tolist(),
            "effect": self.effect.tolist(),
            "adaptation": self.adaptation.tolist(),
            "net_effect": self.net_effect.tolist(),
            "withdrawal_index": self.withdrawal_index.tolist(),
        }


def tolerance_model(name: ToleranceModelName, params: PDParameters | None = None) -> ToleranceModel:
    """The named tolerance model with its parameters from ``pd.toml``."""
    params = params or load_pd_parameters()
    if ToleranceModelName(name) is ToleranceModelName.MODERATOR:
        mod = params.tolerance.moderator
        return Moderator(
            half_life_h=mod.half_life_days.require("tolerance.moderator.half_life_days")
            * HOURS_PER_DAY,
            max_fraction_lost=mod.max_fraction_lost.require(
                "tolerance.moderator.max_fraction_lost"
            ),
        )
    fb = params.tolerance.turnover_feedback
    return TurnoverFeedback(
        half_life_h=fb.half_life_days.require("tolerance.turnover_feedback.half_life_days")
        * HOURS_PER_DAY,
        response_half_life_h=fb.response_turnover_half_life_h.require(
            "response_turnover_half_life_h"
        ),
        feedback_exponent=fb.feedback_exponent.require("feedback_exponent"),
    )


def effect_of_occupancy(occupancy: FloatArray, params: PDParameters | None = None) -> FloatArray:
    """Emax model on occupancy: E = Emax·occ / (O50 + occ)."""
    params = params or load_pd_parameters()
    emax = params.effect.emax.require("effect.emax")
    o50 = params.effect.occupancy_at_half_effect.require("effect.occupancy_at_half_effect")
    return np.asarray(emax * occupancy / (o50 + occupancy))


def simulate_pd(
    pk: SimulationResult,
    drug: Drug,
    *,
    occupancy_set: str | None = None,
    tolerance: ToleranceModelName = ToleranceModelName.MODERATOR,
) -> PDResult:
    """PD on ``pk``'s grid, starting drug-naive (a steady-state PK start is not adapted: see README)."""
    params = load_pd_parameters()
    anchor_name = occupancy_set or params.default_occupancy_set
    c50u = occupancy_c50_unbound_ng_ml(drug, params.occupancy_set(anchor_name))
    unbound = pk.conc_ng_ml * drug.pk.fraction_unbound.require("pk.fraction_unbound")
    occupancy = unbound / (unbound + c50u)
    effect = effect_of_occupancy(occupancy, params)
    model = tolerance_model(tolerance, params)
    trajectory = model.run(pk.time_h, effect)
    return PDResult(
        occupancy_set=anchor_name,
        tolerance_model=model.name,
        c50_unbound_ng_ml=c50u,
        occupancy=occupancy,
        effect=effect,
        adaptation=trajectory.adaptation,
        net_effect=trajectory.net_effect,
        withdrawal_index=trajectory.withdrawal_index,
    )
