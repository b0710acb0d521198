"""Time-to-event summaries: the Kaplan–Meier product-limit estimate and distribution-free quantile CIs.

Kaplan EL, Meier P. Nonparametric estimation from incomplete observations. J Am Stat Assoc 1958;53:457–81.
At each distinct time t with d events among the n subjects still at risk (time ≥ t; a subject censored
at t counts as at risk at t), S(t) = Π (1 − d/n); its variance is Greenwood's,
S(t)²·Σ d / (n·(n − d)). Quantile CIs of S follow Brookmeyer & Crowley (Biometrics 1982;38:29–41): the
times where the 95 % band of S crosses the level. Vectorised: one sort of the durations, no loop over
subjects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from benzokit.types import FloatArray

Z95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class KaplanMeier:
    """S(t), the share without the event after time t, at each distinct event time (a step function)."""

    time: FloatArray  # distinct times with at least one event, ascending
    at_risk: NDArray[np.int64]  # subjects with time >= t
    events: NDArray[np.int64]  # events at t
    survival: FloatArray  # S(t) just after t
    standard_error: FloatArray  # Greenwood

    def at(self, time: float) -> float:
        """S(time): the estimate after the last event time at or before ``time`` (1 before the first)."""
        k = int(np.searchsorted(self.time, time, side="right"))
        return 1.0 if k == 0 else float(self.survival[k - 1])

    def interval_at(self, time: float) -> tuple[float, float]:
        """The 95 % Greenwood (plain) interval of S(time), clipped to [0, 1]."""
        k = int(np.searchsorted(self.time, time, side="right"))
        if k == 0:
            return 1.0, 1.0
        s, se = float(self.survival[k - 1]), float(self.standard_error[k - 1])
        return max(0.0, s - Z95 * se), min(1.0, s + Z95 * se)

    def time_to(self, share: float) -> tuple[float | None, float | None, float | None]:
        """When a share ``share`` of the subjects has had the event: the first time with S ≤ 1 − share,
        with its 95 % CI (Brookmeyer–Crowley); ``None`` where the curve (or a band) never gets there."""
        level = 1.0 - share
        band = Z95 * self.standard_error
        return (
            _first_at_or_below(self.time, self.survival, level),
            _first_at_or_below(self.time, self.survival - band, level),  # the band's lower edge
            _first_at_or_below(self.time, self.survival + band, level),  # gets there first
        )


def _first_at_or_below(time: FloatArray, curve: FloatArray, level: float) -> float | None:
    reached = np.flatnonzero(curve <= level + 1e-12)
    return float(time[reached[0]]) if reached.size else None


def kaplan_meier(duration: FloatArray, observed: NDArray[np.bool_]) -> KaplanMeier:
    """The product-limit estimate from each subject's ``duration`` and whether the event was
    ``observed`` there (``False``: censored at ``duration``). Tied times are handled exactly."""
    times, inverse = np.unique(duration, return_inverse=True)
    leaving = np.bincount(inverse, minlength=times.size)
    events = np.bincount(inverse, weights=observed.astype(np.float64), minlength=times.size)
    at_risk = duration.size - np.concatenate(([0], np.cumsum(leaving)[:-1]))
    keep = events > 0
    d = events[keep]
    n = at_risk[keep].astype(np.float64)
    survival = np.cumprod(1.0 - d / n).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(n > d, d / (n * (n - d)), 0.0)
    standard_error = survival * np.sqrt(np.cumsum(terms))
    return KaplanMeier(
        time=times[keep].astype(np.float64),
        at_risk=at_risk[keep].astype(np.int64),
        events=d.astype(np.int64),
        survival=survival,
        standard_error=standard_error,
    )


def quantile_interval(values: FloatArray, q: float) -> tuple[float, float, float]:
    """The ``q`` quantile of ``values`` with a distribution-free 95 % CI from order statistics (the
    binomial ranks n·q ± z·√(n·q·(1 − q)), normal approximation); NaN for no values."""
    n = values.size
    if n == 0:
        return math.nan, math.nan, math.nan
    half = Z95 * math.sqrt(n * q * (1.0 - q))
    ranks = (
        0,
        min(n - 1, max(0, math.floor(n * q - half) - 1)),
        min(n - 1, max(0, math.ceil(n * q + half) - 1)),
    )
    ordered = np.partition(values, sorted(set(ranks[1:])))
    return float(np.quantile(values, q)), float(ordered[ranks[1]]), float(ordered[ranks[2]])


def wilson_interval(successes: int, n: int) -> tuple[float, float]:
    """95 % Wilson score interval for a proportion."""
    if n == 0:
        return math.nan, math.nan
    p = successes / n
    denominator = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denominator
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denominator
    return centre - half, centre + half


__all__ = ["KaplanMeier", "kaplan_meier", "quantile_interval", "wilson_interval"]
