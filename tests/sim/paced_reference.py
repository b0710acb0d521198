"""A plain NumPy reference of the paced population kernel, for its tests: a few hundred subjects.

Hour by hour, vectorised over subjects with NumPy (no numba): the same exact PK decay between whole hours
and the same tolerance hold updates (constants from ``pd_constants``), the effect in its textbook form,
the per-subject choice of the 5-node hold in the hours just after a due dose, and every pacing decision
made by ``benzokit.plan.pacing.decide`` itself on a :class:`PacerState` per subject. It lives with the
tests because the engine may not import the planner (tests/test_layers.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from benzokit.plan.pacing import PacerState, PacingPolicy, decide
from benzokit.sim.population.rng import (
    ADHERENCE_STREAM,
    OBSERVATION_STREAM,
    OCCASION_STREAM,
    normals,
    uniforms,
)
from benzokit.sim.population.structures import (
    N_METRICS,
    N_PACING_METRICS,
    TURNOVER_FEEDBACK,
    Dosing,
    Metric,
    PacedTaper,
    PacingMetric,
    PopulationPD,
    SubjectPK,
)

FINE_HOURS = 3  # hours stepped with the 5-node hold after a due dose (the dose's hour included)


@dataclass
class ReferenceRun:
    metrics: NDArray[np.float64]  # subjects × Metric
    pacing: NDArray[np.float64]  # subjects × PacingMetric
    step_start_day: NDArray[np.int64]  # subjects × steps, −1 if not reached
    states: list[PacerState]


def _effect(pd: PopulationPD, c: NDArray[np.float64]) -> NDArray[np.float64]:
    e = pd.effect
    occupancy = e.fraction_unbound * c / (e.fraction_unbound * c + e.c50_unbound_ng_ml)
    return e.emax * occupancy / (e.occupancy_at_half_effect + occupancy)


class _Subjects:
    """The PK/PD state of all subjects and the run's summaries."""

    def __init__(self, pk: SubjectPK, pd: PopulationPD) -> None:
        n = pk.subject_id.size
        self.pd = pd
        self.coef, self.rate = pk.coef_ng_ml_per_mg, pk.rate_per_h
        self.feedback = pd.tolerance.model == TURNOVER_FEEDBACK
        self.baseline = 1.0 if self.feedback else 0.0
        self.amounts = np.zeros((n, 3))  # the three exponential terms' states (mg)
        self.adapt = np.full(n, self.baseline)
        self.response = np.full(n, self.baseline)
        self.e_prev = np.zeros(n)
        self.peak_w, self.peak_t = np.zeros(n), np.zeros(n)
        self.day_w, self.days_above = np.zeros(n), np.zeros(n)
        self.auc_e, self.c_sum, self.c_max = np.zeros(n), np.zeros(n), np.zeros(n)
        self.last_dose = np.full(n, -1.0)

    def concentration(self, after_h: float | NDArray[np.float64]) -> NDArray[np.float64]:
        """C at ``after_h`` hours into the hour (no dose in between)."""
        return np.sum(self.coef * self.amounts * np.exp(-self.rate * after_h), axis=1)

    def hour_integral(self) -> NDArray[np.float64]:
        rate = self.rate
        factor = np.where(rate > 0.0, -np.expm1(-rate) / np.where(rate > 0, rate, 1.0), 1.0)
        return np.sum(self.coef * self.amounts * factor, axis=1)

    def moderator_hour(self, fine: NDArray[np.bool_]) -> NDArray[np.float64]:
        hold = self.pd.tolerance.moderator
        c = [self.concentration(f) for f in (0.25, 0.5, 0.75, 1.0)]
        e_q1, e_mid, e_q3, e_end = (_effect(self.pd, ci) for ci in c)
        e0, a = self.e_prev, hold.decay_per_step
        coarse = a * self.adapt + hold.start3 * e0 + hold.mid3 * e_mid + hold.end3 * e_end
        finer = a * self.adapt + (
            hold.start5 * e0 + hold.quarter5 * e_q1 + hold.mid5 * e_mid
            + hold.three_quarters5 * e_q3 + hold.end5 * e_end
        )  # fmt: skip
        simpson = (e0 + 4.0 * e_mid + e_end) / 6.0
        boole = (7.0 * (e0 + e_end) + 32.0 * (e_q1 + e_q3) + 12.0 * e_mid) / 90.0
        c_max = np.where(fine, np.maximum.reduce(c), np.maximum(c[1], c[3]))
        self.c_sum += self.hour_integral()
        self.amounts *= np.exp(-self.rate)
        self.adapt = np.where(fine, finer, coarse)
        self.auc_e += np.where(fine, boole, simpson)
        self.c_max = np.maximum(self.c_max, c_max)
        self.e_prev = e_end
        return np.maximum(self.adapt - e_end, 0.0)

    def feedback_hour(self) -> NDArray[np.float64]:
        hold = self.pd.tolerance.feedback
        self.c_sum += self.hour_integral()
        decay = np.exp(-self.rate / hold.substeps)
        for _ in range(hold.substeps):
            self.amounts *= decay
            c = np.sum(self.coef * self.amounts, axis=1)
            e1 = _effect(self.pd, c)
            r, mod = self.response, self.adapt
            m_pred = hold.moderator_decay * mod + (1.0 - hold.moderator_decay) * r
            r1 = (
                hold.response_decay * r
                + hold.response_new * (1.0 + e1) / m_pred
                + hold.response_old * (1.0 + self.e_prev) / mod
            )
            self.adapt = (
                hold.moderator_decay * mod + hold.moderator_new * r1 + hold.moderator_old * r
            )
            self.response = r1
            self.auc_e += (self.e_prev + e1) / hold.substeps / 2.0
            self.c_max = np.maximum(self.c_max, c)
            self.e_prev = e1
        return np.maximum(self.adapt - self.response, 0.0)

    def record(self, w: NDArray[np.float64], time_h: float) -> None:
        better = w > self.peak_w
        self.peak_t = np.where(better, time_h, self.peak_t)
        self.peak_w = np.where(better, w, self.peak_w)
        self.day_w = np.maximum(self.day_w, w)

    def metrics(self, hours: int) -> NDArray[np.float64]:
        out = np.zeros((self.adapt.size, N_METRICS))
        e = self.pd.effect
        out[:, Metric.PEAK_WITHDRAWAL_INDEX] = self.peak_w
        out[:, Metric.PEAK_WITHDRAWAL_TIME_H] = self.peak_t
        out[:, Metric.DAYS_WITHDRAWAL_ABOVE_THRESHOLD] = self.days_above
        out[:, Metric.AUC_EFFECT_H] = self.auc_e
        out[:, Metric.CMAX_NG_ML] = self.c_max
        out[:, Metric.CMEAN_NG_ML] = self.c_sum / hours
        out[:, Metric.LAST_DOSE_TIME_H] = self.last_dose
        out[:, Metric.FINAL_ADAPTATION] = self.adapt - self.baseline
        unbound = e.fraction_unbound * self.c_max
        out[:, Metric.MAX_OCCUPANCY] = unbound / (unbound + e.c50_unbound_ng_ml)
        return out


def simulate_paced(
    pk: SubjectPK,
    taper: PacedTaper,
    dosing: Dosing,
    pd: PopulationPD,
    policy: PacingPolicy,
    *,
    days: int,
) -> ReferenceRun:
    """Every subject of ``pk`` for ``days`` days on ``taper``, paced by ``policy`` through ``decide``."""
    ids = pk.subject_id
    n, steps = ids.size, taper.step_days.size
    last_step = steps - 1
    hours = days * 24
    subjects = _Subjects(pk, pd)
    occasion = np.exp(
        dosing.bioavailability_iov_sd * normals(dosing.seed, OCCASION_STREAM, ids, days)
    )
    observation = normals(dosing.seed, OBSERVATION_STREAM, ids, days)
    adherence = uniforms(dosing.seed, ADHERENCE_STREAM, ids, hours)
    p_miss, p_double = dosing.missed_fraction, dosing.doubled_fraction
    states = [PacerState() for _ in range(n)]
    step = np.zeros(n, dtype=np.int64)
    step_start = np.full((n, steps), -1, dtype=np.int64)
    step_start[:, 0] = 0
    doses_due = np.zeros(n, dtype=np.int64)
    last_due = np.full(n, -10 * FINE_HOURS, dtype=np.int64)
    rows = np.arange(n)
    for hour in range(hours):
        day, hour_of_day = divmod(hour, 24)
        amount = taper.step_pattern_mg[step, hour_of_day]
        due = amount > 0.0
        u = adherence[rows, doses_due]
        taken = np.where(u < p_miss, 0.0, np.where(u > 1.0 - p_double, 2.0, 1.0))
        taken = np.where(due, taken, 0.0)
        subjects.amounts += (amount * taken * occasion[:, day])[:, None]
        subjects.last_dose = np.where(taken > 0.0, float(hour), subjects.last_dose)
        doses_due += due
        last_due = np.where(due, hour, last_due)
        if subjects.feedback:
            w = subjects.feedback_hour()
        else:
            w = subjects.moderator_hour(hour - last_due < FINE_HOURS)
        subjects.record(w, hour + 1.0)
        if hour_of_day == 23:
            if not policy.adaptive or policy.is_checkin_day(day):
                for i in range(n):
                    if step[i] == last_step:
                        continue
                    measure = subjects.day_w[i] + policy.observation_noise_sd * observation[i, day]
                    planned = int(taper.step_days[step[i]])
                    _, states[i] = decide(policy, states[i], day, float(measure), planned)
                    if states[i].step != step[i]:
                        step[i] = states[i].step
                        step_start[i, step[i]] = states[i].step_start_day
            subjects.days_above += subjects.day_w > pd.withdrawal_threshold
            subjects.day_w = np.zeros(n)
    pacing = np.zeros((n, N_PACING_METRICS))
    completed = step == last_step
    pacing[:, PacingMetric.TAPER_DAYS] = np.where(completed, step_start[:, last_step], days)
    pacing[:, PacingMetric.TAPER_COMPLETED] = completed
    pacing[:, PacingMetric.HOLDS] = [s.holds for s in states]
    pacing[:, PacingMetric.SLOWDOWNS] = [s.slowdowns for s in states]
    pacing[:, PacingMetric.REFERRALS] = [s.referrals for s in states]
    return ReferenceRun(subjects.metrics(hours), pacing, step_start, states)
