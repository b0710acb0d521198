"""Linear compartment PK: exact closed-form solutions, covariates, and a reference ODE path."""

from benzokit.pk.closed_form import ExponentialSum, SpectralSolution, superpose
from benzokit.pk.covariates import CovariateNote, Individualized, InteractionNote, individualize
from benzokit.pk.model import Compartment, PKModel

__all__ = [
    "Compartment",
    "CovariateNote",
    "ExponentialSum",
    "Individualized",
    "InteractionNote",
    "PKModel",
    "SpectralSolution",
    "individualize",
    "superpose",
]
