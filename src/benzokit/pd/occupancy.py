"""GABA-A benzodiazepine-site occupancy: hyperbolic in the unbound concentration.

occupancy = Cu / (Cu + C50u). C50u is not measured for clonazepam; it is carried from a human anchor
(``OccupancySet``): the anchor dose's 50 %-occupancy dose D50 = dose · (1 − occ) / occ, converted to the
target drug through the diazepam equivalence of both drugs (geometric mean of the sourced values), then
to the average unbound steady-state concentration it gives in the typical adult.
"""

from __future__ import annotations

import math

import numpy as np

from benzokit.drugs.loader import load_drug
from benzokit.drugs.models import Drug
from benzokit.knowledge import Knowledge
from benzokit.pd.params import OccupancySet, PDParameters
from benzokit.pk.model import PKModel
from benzokit.types import FloatArray
from benzokit.units import HOURS_PER_DAY

NG_ML_PER_MG_L = 1000.0


def equivalent_dose_mg(drug: Drug) -> float:
    """Dose of ``drug`` equivalent to the reference diazepam dose (geometric mean over sources)."""
    doses = [v.dose_mg for v in drug.equivalence.values]
    return math.exp(sum(math.log(d) for d in doses) / len(doses))


def half_occupancy_daily_dose_mg(
    drug: Drug, anchor: OccupancySet, knowledge: Knowledge | None = None
) -> float:
    """Daily dose of ``drug`` that occupies 50 % of sites at steady state, per the anchor (whose drug is
    read from ``knowledge``, default: shipped)."""
    occupancy = anchor.anchor_occupancy.require("anchor_occupancy")
    dose_mg = anchor.anchor_daily_dose_mg.require("anchor_daily_dose_mg")
    anchor_d50_mg = dose_mg * (1.0 - occupancy) / occupancy
    anchor_drug = load_drug(anchor.anchor_drug, knowledge)
    return anchor_d50_mg * equivalent_dose_mg(drug) / equivalent_dose_mg(anchor_drug)


def occupancy_c50_unbound_ng_ml(
    drug: Drug, anchor: OccupancySet, knowledge: Knowledge | None = None
) -> float:
    """Unbound plasma concentration (ng/mL) at 50 % occupancy for ``drug``."""
    model = PKModel.from_parameters(drug.pk)
    d50_mg = half_occupancy_daily_dose_mg(drug, anchor, knowledge)
    cavg_mg_l = model.bioavailability * d50_mg / (model.clearance_l_h * HOURS_PER_DAY)
    return drug.pk.fraction_unbound.require("pk.fraction_unbound") * cavg_mg_l * NG_ML_PER_MG_L


def effect_parameters(params: PDParameters) -> tuple[float, float]:
    """(Emax, O50): the maximal effect and the occupancy at half of it (fractions)."""
    return (
        params.effect.emax.require("effect.emax"),
        params.effect.occupancy_at_half_effect.require("effect.occupancy_at_half_effect"),
    )


def effect_of_occupancy(occupancy: FloatArray, params: PDParameters) -> FloatArray:
    """Emax model on occupancy: E = Emax·occ / (O50 + occ)."""
    emax, o50 = effect_parameters(params)
    return np.asarray(emax * occupancy / (o50 + occupancy))
