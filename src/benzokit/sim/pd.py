"""``simulate_pd``: occupancy, effect, adaptation and withdrawal index on top of a PK result.

The engine's single-subject PD path: it drives the PD model (:mod:`benzokit.pd`) with the PK engine's
concentrations; the population kernel derives its constants from the same model objects.
"""

from __future__ import annotations

from benzokit.drugs.models import Drug
from benzokit.knowledge import Knowledge
from benzokit.pd.occupancy import effect_of_occupancy, occupancy_c50_unbound_ng_ml
from benzokit.pd.params import load_pd_parameters
from benzokit.pd.result import PDResult
from benzokit.pd.tolerance import ToleranceModelName, tolerance_model
from benzokit.sim.result import SimulationResult


def simulate_pd(
    pk: SimulationResult,
    drug: Drug,
    *,
    occupancy_set: str | None = None,
    tolerance: ToleranceModelName = ToleranceModelName.MODERATOR,
    knowledge: Knowledge | None = None,
) -> PDResult:
    """PD on ``pk``'s grid, starting drug-naive (a steady-state PK start is not adapted: see README).

    The PD parameters come from ``knowledge`` (default: the shipped knowledge base).
    """
    params = load_pd_parameters(knowledge)
    anchor_name = occupancy_set or params.default_occupancy_set
    c50u = occupancy_c50_unbound_ng_ml(drug, params.occupancy_set(anchor_name), knowledge)
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
