"""Tolerance (adaptation) models, stepped exactly for a piecewise-linear driving effect.

Both models are driven by the drug effect E(t) (fraction of maximal effect). Between output times E is
taken as linear (first-order hold); the linear state equations are then integrated in closed form, so the
only error is that of the hold, O(h²) — checked against a tight ODE reference in the tests.

- :class:`Moderator` (Porchet 1988; Gårdmark 1999): dA/dt = kt·(E − A). Net effect E − fmax·A;
  withdrawal index max(0, A − E): the shortfall of drug effect against the adapted state.
- :class:`TurnoverFeedback` (Peletier & Gabrielsson): dR/dt = kout·((1 + E)/M^p − R),
  dM/dt = ktol·(R − M), baseline R = M = 1. Net effect R − 1; withdrawal index max(0, M − R).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from benzokit.errors import UnknownNameError
from benzokit.pd.params import PDParameters
from benzokit.types import FloatArray
from benzokit.units import HOURS_PER_DAY

LN2 = math.log(2.0)


class ToleranceModelName(StrEnum):
    MODERATOR = "moderator"
    TURNOVER_FEEDBACK = "turnover_feedback"

    @classmethod
    def parse(cls, name: str) -> ToleranceModelName:
        """The model called ``name``; an unknown name is an :class:`UnknownNameError` listing the known."""
        try:
            return cls(name)
        except ValueError:
            raise UnknownNameError("tolerance model", name, [m.value for m in cls]) from None


@dataclass(frozen=True, slots=True)
class ToleranceTrajectory:
    """State trajectories on the output grid (dimensionless effect scale)."""

    adaptation: FloatArray
    net_effect: FloatArray
    withdrawal_index: FloatArray


def hold_weights(
    rate_per_h: float | FloatArray, step_h: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Weights (decay, w_new, w_old) so x1 = decay·x0 + w_new·u1 + w_old·u0 solves x' = k(u − x)
    exactly for u linear between u0 and u1 over ``step_h``."""
    kh = np.asarray(rate_per_h * step_h, dtype=np.float64)
    decay = np.exp(-kh)
    small = kh < 1e-8
    phi = np.where(small, 1.0 - kh / 2.0, -np.expm1(-kh) / np.where(small, 1.0, kh))
    return decay, 1.0 - phi, phi - decay


class ToleranceModel(ABC):
    """A pluggable tolerance model: maps an effect trajectory to adaptation and withdrawal."""

    name: str

    @abstractmethod
    def run(self, time_h: FloatArray, effect: FloatArray) -> ToleranceTrajectory:
        """Integrate from the drug-naive baseline at ``time_h[0]``."""


@dataclass(frozen=True, slots=True)
class Moderator(ToleranceModel):
    half_life_h: float
    max_fraction_lost: float
    name: str = "moderator"

    def run(self, time_h: FloatArray, effect: FloatArray) -> ToleranceTrajectory:
        decay, w_new, w_old = hold_weights(LN2 / self.half_life_h, np.diff(time_h))
        adaptation = np.empty_like(effect)
        adaptation[0] = 0.0
        for i in range(effect.size - 1):
            adaptation[i + 1] = (
                decay[i] * adaptation[i] + w_new[i] * effect[i + 1] + w_old[i] * effect[i]
            )
        return ToleranceTrajectory(
            adaptation=adaptation,
            net_effect=effect - self.max_fraction_lost * adaptation,
            withdrawal_index=np.maximum(0.0, adaptation - effect),
        )


@dataclass(frozen=True, slots=True)
class TurnoverFeedback(ToleranceModel):
    half_life_h: float
    response_half_life_h: float
    feedback_exponent: float
    name: str = "turnover_feedback"

    def run(self, time_h: FloatArray, effect: FloatArray) -> ToleranceTrajectory:
        steps = np.diff(time_h)
        m_decay, m_new, m_old = hold_weights(LN2 / self.half_life_h, steps)
        r_decay, r_new, r_old = hold_weights(LN2 / self.response_half_life_h, steps)
        p = self.feedback_exponent
        response = np.ones_like(effect)
        moderator = np.ones_like(effect)
        for i in range(effect.size - 1):
            r0, m0 = response[i], moderator[i]
            m_pred = m_decay[i] * m0 + (1.0 - m_decay[i]) * r0
            drive0 = (1.0 + effect[i]) / m0**p
            drive1 = (1.0 + effect[i + 1]) / m_pred**p
            r1 = r_decay[i] * r0 + r_new[i] * drive1 + r_old[i] * drive0
            response[i + 1] = r1
            moderator[i + 1] = m_decay[i] * m0 + m_new[i] * r1 + m_old[i] * r0
        return ToleranceTrajectory(
            adaptation=moderator - 1.0,
            net_effect=response - 1.0,
            withdrawal_index=np.maximum(0.0, moderator - response),
        )


def tolerance_model(name: ToleranceModelName, params: PDParameters) -> ToleranceModel:
    """The named tolerance model with its parameters from ``pd.toml``: the one definition used by the
    single-subject PD simulation and the population kernel."""
    if ToleranceModelName.parse(name) is ToleranceModelName.MODERATOR:
        mod = params.tolerance.moderator
        return Moderator(
            half_life_h=mod.half_life_days.require("tolerance.moderator.half_life_days")
            * HOURS_PER_DAY,
            max_fraction_lost=mod.max_fraction_lost.require(
                "tolerance.moderator.max_fraction_lost"
            ),
        )
    fb = params.tolerance.turnover_feedback
    return TurnoverFeedback(
        half_life_h=fb.half_life_days.require("tolerance.turnover_feedback.half_life_days")
        * HOURS_PER_DAY,
        response_half_life_h=fb.response_turnover_half_life_h.require(
            "tolerance.turnover_feedback.response_turnover_half_life_h"
        ),
        feedback_exponent=fb.feedback_exponent.require(
            "tolerance.turnover_feedback.feedback_exponent"
        ),
    )
