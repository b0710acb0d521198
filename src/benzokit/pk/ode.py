"""Reference solution by numerical integration (scipy), independent of the closed form.

Used by the tests to confirm the exact solution, and by the benchmarks as the straightforward
baseline: integrate between doses with a tight-tolerance solver, add each dose as a jump.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.integrate import solve_ivp

from benzokit.pk.model import PKModel
from benzokit.regimen.events import EventTable
from benzokit.types import FloatArray


def solve_amounts_ode(
    model: PKModel,
    events: EventTable,
    grid_h: FloatArray,
    *,
    initial_mg: FloatArray | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-14,
    method: str = "LSODA",
) -> FloatArray:
    """Amounts (compartments × grid) by solve_ivp, restarting at every dose."""
    matrix = model.rate_matrix()
    state = np.zeros(model.n_states) if initial_mg is None else initial_mg.astype(float).copy()
    out = np.zeros((model.n_states, grid_h.size))
    breakpoints = np.unique(np.concatenate(([0.0], events.time_h, [float(grid_h.max())])))
    for start_h, end_h in itertools.pairwise(breakpoints):
        state = state + dose_jump(model, events, start_h)
        inside = (grid_h >= start_h) & (grid_h < end_h)
        solution = solve_ivp(
            lambda _t, x: matrix @ x,
            (start_h, end_h),
            state,
            method=method,
            t_eval=np.concatenate((grid_h[inside], [end_h])),
            rtol=rtol,
            atol=atol,
            jac=lambda _t, _x: matrix,
        )
        out[:, inside] = solution.y[:, :-1]
        state = np.asarray(solution.y[:, -1])
    last = grid_h >= breakpoints[-1]
    out[:, last] = (state + dose_jump(model, events, breakpoints[-1]))[:, np.newaxis]
    return out


def dose_jump(model: PKModel, events: EventTable, time_h: float) -> FloatArray:
    """Amounts added to each compartment by the doses given at exactly ``time_h``."""
    jump = np.zeros(model.n_states)
    at = events.time_h == time_h
    for amount_mg, route in zip(
        events.amount_mg[at], np.array(events.route, dtype=object)[at], strict=True
    ):
        compartment, fraction = model.dose_input(route)
        jump[compartment] += amount_mg * fraction
    return jump
