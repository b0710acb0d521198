"""Pharmacodynamics (the model): GABA-A site occupancy, effect, tolerance (adaptation), withdrawal index.

Simulating it on top of a PK result is the engine's: :func:`benzokit.sim.pd.simulate_pd`.
"""

from benzokit.pd.occupancy import occupancy_c50_unbound_ng_ml
from benzokit.pd.params import PDParameters, load_pd_parameters
from benzokit.pd.result import PDResult
from benzokit.pd.tolerance import (
    Moderator,
    ToleranceModel,
    ToleranceModelName,
    TurnoverFeedback,
    tolerance_model,
)

__all__ = [
    "Moderator",
    "PDParameters",
    "PDResult",
    "ToleranceModel",
    "ToleranceModelName",
    "TurnoverFeedback",
    "load_pd_parameters",
    "occupancy_c50_unbound_ng_ml",
    "tolerance_model",
]
