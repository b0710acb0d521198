"""The population kernel's PD constants, derived from the same model objects the single-subject path uses.

``population_pd`` builds the occupancy/effect constants and the :class:`~benzokit.pd.tolerance.ToleranceModel`
from the PD parameters (``pd.toml``) exactly as ``simulate_pd`` does, then packs the tolerance model into the
kernel's exact per-step hold weights (:func:`tolerance_pd`).
"""

from __future__ import annotations

import math

import numpy as np

from benzokit.drugs.models import Drug
from benzokit.errors import ModelError
from benzokit.knowledge import Knowledge
from benzokit.pd.occupancy import effect_parameters, occupancy_c50_unbound_ng_ml
from benzokit.pd.params import PDParameters
from benzokit.pd.tolerance import (
    LN2,
    Moderator,
    ToleranceModel,
    ToleranceModelName,
    TurnoverFeedback,
    hold_weights,
    tolerance_model,
)
from benzokit.sim.population.structures import (
    MODERATOR,
    STEP_H,
    TURNOVER_FEEDBACK,
    EffectConstants,
    FeedbackHold,
    ModeratorHold,
    PopulationPD,
    TolerancePD,
)
from benzokit.types import FloatArray

FEEDBACK_SUBSTEPS = 16
"""Sub-steps per hour of the turnover-feedback model: peak withdrawal index within 1e-4 of a tight ODE."""
_GAUSS_NODES = 32
_UNUSED_MODERATOR = ModeratorHold(*np.zeros(len(ModeratorHold._fields)).tolist())
_UNUSED_FEEDBACK = FeedbackHold(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1)


def polynomial_hold_weights(half_life_h: float, nodes: int, step_h: float = STEP_H) -> FloatArray:
    """Weights w_j so that ∫ k·exp(−k(h − s))·E(s) ds over one step = Σ w_j E(j·h/(nodes − 1)),
    exact when E is the polynomial through the equally spaced nodes (3: Simpson-like, 5: Boole-like)."""
    k = LN2 / half_life_h
    gauss_x, gauss_w = np.polynomial.legendre.leggauss(_GAUSS_NODES)
    s = (gauss_x + 1.0) * step_h / 2.0
    kernel = k * np.exp(-k * (step_h - s)) * gauss_w * step_h / 2.0
    grid = np.linspace(0.0, step_h, nodes)
    weights = np.empty(nodes)
    for j in range(nodes):
        others = np.delete(grid, j)
        basis = np.prod([(s - o) / (grid[j] - o) for o in others], axis=0)
        weights[j] = float(np.sum(kernel * basis))
    return weights


def moderator_hold(model: Moderator, step_h: float = STEP_H) -> ModeratorHold:
    """The moderator's decay per step and its 3- and 5-node hold weights."""
    return ModeratorHold(
        math.exp(-LN2 / model.half_life_h * step_h),
        *polynomial_hold_weights(model.half_life_h, 3, step_h).tolist(),
        *polynomial_hold_weights(model.half_life_h, 5, step_h).tolist(),
    )


def feedback_hold(model: TurnoverFeedback, substeps: int = FEEDBACK_SUBSTEPS) -> FeedbackHold:
    """First-order-hold weights per sub-step of the response and the moderator (exponent 1 only)."""
    if model.feedback_exponent != 1.0:
        raise ModelError(
            "the population simulation implements the turnover-feedback tolerance model with a "
            f"feedback exponent of 1 only (the PD parameters give {model.feedback_exponent:g})"
        )
    step_h = np.array(STEP_H / substeps)
    r_decay, r_new, r_old = hold_weights(LN2 / model.response_half_life_h, step_h)
    m_decay, m_new, m_old = hold_weights(LN2 / model.half_life_h, step_h)
    return FeedbackHold(
        response_decay=float(r_decay),
        response_new=float(r_new),
        response_old=float(r_old),
        moderator_decay=float(m_decay),
        moderator_new=float(m_new),
        moderator_old=float(m_old),
        substeps=int(substeps),
    )


def tolerance_pd(model: ToleranceModel) -> TolerancePD:
    """The kernel's constants for ``model``."""
    if isinstance(model, Moderator):
        return TolerancePD(MODERATOR, moderator_hold(model), _UNUSED_FEEDBACK)
    if isinstance(model, TurnoverFeedback):
        return TolerancePD(TURNOVER_FEEDBACK, _UNUSED_MODERATOR, feedback_hold(model))
    raise ModelError(
        f"the population simulation has no kernel for the {model.name} tolerance model"
    )


def population_pd(
    drug: Drug,
    params: PDParameters,
    *,
    occupancy_set: str | None,
    tolerance: ToleranceModelName,
    withdrawal_threshold: float | None,
    knowledge: Knowledge | None = None,
) -> PopulationPD:
    """The kernel's PD constants for ``drug`` (threshold: the PD parameters' default when None)."""
    emax, o50 = effect_parameters(params)
    if withdrawal_threshold is None:
        withdrawal_threshold = params.analysis.withdrawal_threshold.require(
            "analysis.withdrawal_threshold"
        )
    return PopulationPD(
        effect=EffectConstants(
            fraction_unbound=drug.pk.fraction_unbound.require("pk.fraction_unbound"),
            c50_unbound_ng_ml=occupancy_c50_unbound_ng_ml(
                drug, params.occupancy_set(occupancy_set), knowledge
            ),
            emax=emax,
            occupancy_at_half_effect=o50,
        ),
        tolerance=tolerance_pd(tolerance_model(tolerance, params)),
        withdrawal_threshold=float(withdrawal_threshold),
    )
