"""Pharmacodynamics: GABA-A site occupancy, effect, tolerance (adaptation) and withdrawal index."""

from benzokit.pd.occupancy import occupancy_c50_unbound_ng_ml
from benzokit.pd.params import PDParameters, load_pd_parameters
from benzokit.pd.simulate import PDResult, ToleranceModelName, simulate_pd
from benzokit.pd.tolerance import Moderator, ToleranceModel, TurnoverFeedback

__all__ = [
    "Moderator",
    "PDParameters",
    "PDResult",
    "ToleranceModel",
    "ToleranceModelName",
    "TurnoverFeedback",
    "load_pd_parameters",
    "occupancy_c50_unbound_ng_ml",
    "simulate_pd",
]
