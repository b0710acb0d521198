"""Reference PK+PD solution: one ODE system integrated by scipy, restarting at every dose.

Independent of the closed-form PK and of the first-order-hold PD steps; used by tests and benchmarks.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.integrate import solve_ivp

from benzokit.errors import ComputeError, InputError, ModelError
from benzokit.pd.tolerance import LN2, Moderator, ToleranceModel, TurnoverFeedback
from benzokit.pk.model import Compartment, PKModel
from benzokit.pk.ode import dose_jump
from benzokit.regimen.events import EventTable
from benzokit.types import FloatArray

NG_ML_PER_MG_L = 1000.0


def solve_pkpd_ode(
    model: PKModel,
    events: EventTable,
    grid_h: FloatArray,
    *,
    fraction_unbound: float,
    c50_unbound_ng_ml: float,
    emax: float,
    o50: float,
    tolerance: ToleranceModel,
    rtol: float = 1e-10,
    atol: float = 1e-12,
) -> dict[str, FloatArray]:
    """Concentration, effect, tolerance states and the running integral of the effect on ``grid_h``.

    ``grid_h`` must be increasing and start at 0 h or later; the solution starts drug-naive at 0 h.
    """
    _check_grid(grid_h)
    baseline = _baseline(tolerance)
    matrix = model.rate_matrix()
    n_pk = model.n_states

    def effect_of(central_mg: float) -> float:
        unbound = central_mg / model.central_volume_l * NG_ML_PER_MG_L * fraction_unbound
        occupancy = unbound / (unbound + c50_unbound_ng_ml)
        return emax * occupancy / (o50 + occupancy)

    def rhs(_t: float, x: FloatArray) -> FloatArray:
        dx = np.empty_like(x)
        dx[:n_pk] = matrix @ x[:n_pk]
        effect = effect_of(x[Compartment.CENTRAL])
        dx[n_pk:-1] = _tolerance_rhs(tolerance, effect, x[n_pk:-1])
        dx[-1] = effect  # running integral of the effect
        return dx

    state = np.concatenate((np.zeros(n_pk), baseline, [0.0]))
    out = np.zeros((state.size, grid_h.size))
    breakpoints = np.unique(np.concatenate(([0.0], events.time_h, [float(grid_h[-1])])))
    for start_h, end_h in itertools.pairwise(breakpoints):
        state[:n_pk] += dose_jump(model, events, start_h)
        inside = (grid_h >= start_h) & (grid_h < end_h)
        sol = solve_ivp(
            rhs,
            (start_h, end_h),
            state,
            method="LSODA",
            rtol=rtol,
            atol=atol,
            t_eval=np.concatenate((grid_h[inside], [end_h])),
        )
        if not sol.success:
            raise ComputeError(
                f"the reference PK/PD solution could not be computed between {start_h:g} h and "
                f"{end_h:g} h ({sol.message}); try a looser tolerance (rtol, atol)"
            )
        out[:, inside] = sol.y[:, :-1]
        state = sol.y[:, -1].copy()
    last = grid_h >= breakpoints[-1]
    state[:n_pk] += dose_jump(model, events, float(breakpoints[-1]))
    out[:, last] = state[:, np.newaxis]
    central = out[Compartment.CENTRAL]
    effect = np.array([effect_of(c) for c in central])
    return {
        "conc_ng_ml": central / model.central_volume_l * NG_ML_PER_MG_L,
        "effect": effect,
        "tolerance_states": out[n_pk:-1],
        "auc_effect": out[-1],
    }


def _check_grid(grid_h: FloatArray) -> None:
    if grid_h.ndim != 1 or grid_h.size == 0 or not np.all(np.isfinite(grid_h)):
        raise InputError("grid_h", grid_h.shape, "a non-empty list of finite times in hours")
    if grid_h[0] < 0.0 or np.any(np.diff(grid_h) <= 0.0):
        raise InputError(
            "grid_h",
            f"{grid_h[0]:g} h .. {grid_h[-1]:g} h",
            "increasing times from 0 h on (the reference starts drug-naive at 0 h)",
        )


def _baseline(tolerance: ToleranceModel) -> FloatArray:
    if isinstance(tolerance, Moderator):
        return np.zeros(1)
    if isinstance(tolerance, TurnoverFeedback):
        return np.ones(2)
    raise _no_reference(tolerance)


def _no_reference(tolerance: ToleranceModel) -> ModelError:
    return ModelError(
        f"the reference PK/PD solution has no equations for the {tolerance.name!r} tolerance model "
        "(it knows the moderator and the turnover-feedback models)"
    )


def _tolerance_rhs(tolerance: ToleranceModel, effect: float, y: FloatArray) -> FloatArray:
    if isinstance(tolerance, Moderator):
        return np.array([LN2 / tolerance.half_life_h * (effect - y[0])])
    if isinstance(tolerance, TurnoverFeedback):
        response, moderator = y
        kout = LN2 / tolerance.response_half_life_h
        ktol = LN2 / tolerance.half_life_h
        return np.array(
            [
                kout * ((1.0 + effect) / moderator**tolerance.feedback_exponent - response),
                ktol * (response - moderator),
            ]
        )
    raise _no_reference(tolerance)
