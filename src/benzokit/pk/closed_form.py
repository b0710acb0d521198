"""Exact solution of linear PK by spectral decomposition and superposition.

For d(amounts)/dt = K @ amounts the response to a unit dose into compartment ``i`` is
``amounts(t) = sum_j V[:, j] W[j, i] exp(-rate_j t)`` — a sum of exponentials (the textbook
closed forms of one- and two-compartment models are special cases, checked in the tests).
Superposition over doses is evaluated exactly with a per-term state that decays between events:
O(doses + grid points) work, no time-stepping error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from benzokit.pk.model import PKModel
from benzokit.regimen.events import Route
from benzokit.types import FloatArray

_MIN_RELATIVE_RATE_GAP = 1e-7


@dataclass(frozen=True, slots=True)
class ExponentialSum:
    """amounts[c](t) = sum_j coefficients[c, j] * exp(-rates_per_h[j] * t), per mg dosed (t >= 0)."""

    coefficients: FloatArray
    rates_per_h: FloatArray


@dataclass(frozen=True, slots=True)
class SpectralSolution:
    """Eigen-decomposition of a model's rate matrix, reused for every route and dose."""

    model: PKModel
    rates_per_h: FloatArray
    right: FloatArray
    left: FloatArray

    @classmethod
    def of(cls, model: PKModel) -> SpectralSolution:
        model = _separate_coincident_rates(model)
        eigenvalues, vectors = np.linalg.eig(model.rate_matrix())
        order = np.argsort(eigenvalues.real)  # fastest rate first
        right = vectors[:, order].real
        return cls(model, -eigenvalues[order].real, right, np.linalg.inv(right))

    def unit_response(self, route: Route) -> ExponentialSum:
        """Amounts in every compartment after 1 mg given by ``route``."""
        compartment, fraction = self.model.dose_input(route)
        coefficients = self.right * self.left[:, compartment][np.newaxis, :] * fraction
        return ExponentialSum(coefficients, self.rates_per_h)


def _separate_coincident_rates(model: PKModel) -> PKModel:
    """Nudge ka by a relative 1e-7 if it coincides with a disposition rate (a removable singularity)."""
    ka = model.absorption_rate_per_h
    for rate in model.disposition_rates_per_h():
        if abs(ka - rate) <= _MIN_RELATIVE_RATE_GAP * rate:
            return replace(model, absorption_rate_per_h=ka * (1.0 + 10 * _MIN_RELATIVE_RATE_GAP))
    return model


def steady_state_terms(
    rates_per_h: FloatArray,
    offsets_h: Sequence[float],
    amounts_mg: Sequence[float],
    period_h: float,
) -> FloatArray:
    """Per-term state at t = 0 after an infinite history of a periodic pattern (NONMEM SS=1).

    The pattern gives ``amounts_mg`` at ``offsets_h`` + k * ``period_h``; the history is every such
    time at or before 0 that is not also a dose of the regular schedule (k >= 1).
    """
    state = np.zeros_like(rates_per_h)
    decay_per_period = np.exp(-rates_per_h * period_h)
    for offset_h, amount_mg in zip(offsets_h, amounts_mg, strict=True):
        k0 = max(1, math.ceil(offset_h / period_h))
        state += (
            amount_mg * np.exp(-rates_per_h * (k0 * period_h - offset_h)) / (1.0 - decay_per_period)
        )
    return state


def _dose_states(
    rates_per_h: FloatArray,
    dose_times_h: FloatArray,
    dose_amounts_mg: FloatArray,
    initial: FloatArray | None,
) -> FloatArray:
    """State of each exponential term just after each dose (row 0: the initial state at t = 0,
    nothing in the body when ``initial`` is None)."""
    states = np.empty((dose_times_h.size + 1, rates_per_h.size))
    states[0] = 0.0 if initial is None else initial
    previous_h = 0.0
    for index, (time_h, amount_mg) in enumerate(zip(dose_times_h, dose_amounts_mg, strict=True)):
        states[index + 1] = states[index] * np.exp(-rates_per_h * (time_h - previous_h)) + amount_mg
        previous_h = time_h
    return states


def superpose(
    response: ExponentialSum,
    dose_times_h: FloatArray,
    dose_amounts_mg: FloatArray,
    grid_h: FloatArray,
    initial: FloatArray | None = None,
) -> FloatArray:
    """Amounts (compartments × grid) for doses at sorted ``dose_times_h`` (a dose at t counts at t)."""
    rates = response.rates_per_h
    states = _dose_states(rates, dose_times_h, dose_amounts_mg, initial)
    anchor_times = np.concatenate(([0.0], dose_times_h))
    index = np.searchsorted(dose_times_h, grid_h, side="right")
    elapsed = grid_h - anchor_times[index]
    terms = states[index] * np.exp(-np.outer(elapsed, rates))
    return np.asarray(response.coefficients @ terms.T)


def integrate(
    response: ExponentialSum,
    dose_times_h: FloatArray,
    dose_amounts_mg: FloatArray,
    until_h: float,
    initial: FloatArray | None = None,
) -> FloatArray:
    """Exact integral of the amounts from 0 to ``until_h`` (mg·h per compartment)."""
    rates = response.rates_per_h
    keep = dose_times_h <= until_h
    times = dose_times_h[keep]
    states = _dose_states(rates, times, dose_amounts_mg[keep], initial)
    edges = np.concatenate(([0.0], times, [until_h]))
    spans = np.diff(edges)
    weights = -np.expm1(-np.outer(spans, rates)) / rates
    return np.asarray(response.coefficients @ (states * weights).sum(axis=0))
