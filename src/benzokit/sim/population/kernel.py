"""The compiled population kernel: exact PK and PD state updates on an hourly grid, streamed summaries.

PK: per subject three exponential states decay exactly between hours (doses fall on whole hours).
PD (moderator tolerance): A(t+h) = a·A(t) + w0·E(t) + wm·E(t+h/2) + w1·E(t+h), the exact convolution of
the first-order adaptation with the quadratic interpolant of the effect through the hour's ends and its
midpoint (PK is exact at the midpoint too). Summaries are accumulated as the hours pass, so memory grows
with subjects, never with subjects × hours.

Inputs and outputs are the named structures of :mod:`benzokit.sim.population.structures`; the output
columns are indexed by :class:`Metric` and :class:`BandSeries` only.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

from benzokit.errors import InputError
from benzokit.sim.population.rng import ADHERENCE_STREAM, OCCASION_STREAM, normal, uniform
from benzokit.sim.population.structures import (
    N_BAND_SERIES,
    N_METRICS,
    STEP_H,
    TURNOVER_FEEDBACK,
    BandSelection,
    BandSeries,
    Dosing,
    EffectConstants,
    FeedbackHold,
    KernelOutput,
    Metric,
    ModeratorHold,
    PopulationPD,
    SubjectPK,
)
from benzokit.types import FloatArray
from benzokit.units import HOURS_PER_DAY

BLOCK = 64
"""Subjects advanced together (the vectorised inner loop)."""
FINE_HOURS_AFTER_DOSE = 3
"""Hours after a dose stepped with the 5-node hold (the effect bends most there)."""

# The hourly updates (``_hour``, ``_hour_fine``, ``_hour_feedback``) are inlined into each kernel (numba IR),
# never called compiled on their own: in place, LLVM sees the block's arrays as the kernel's own allocations
# and vectorises the loop across subjects, whether the kernel was compiled afresh or loaded from the cache,
# and without fast-math reassociation every kernel that inlines them rounds alike (so the paced kernel
# reproduces the fixed one bit for bit, in any process). Called on their own, compiled apart, they were
# scalar and several times slower, and rounded differently.
# Per-block layout: one flat parameter array and one flat state array, rows of BLOCK subjects each, so
# that LLVM sees constant offsets between rows and vectorises the hourly loop across subjects.
# Parameters, per exponential term j (three consecutive rows each): C coefficient, decay over the step,
# over half, a quarter and three quarters of it, the step's integral, the decay over one feedback sub-step.
(_P_C0, _P_D0, _P_H0, _P_Q0, _P_T0, _P_G0, _P_U0) = range(0, 21, 3)  # fmt: skip
_N_PAR = 21
(_S0, _S1, _S2, _ADAPT, _E_PREV, _W_PEAK, _W_PEAK_T, _DAY_W, _DAY_C, _DAYS_ABOVE, _AUC_E,
 _C_SUM, _C_MAX, _LAST_DOSE, _RESPONSE) = range(15)  # fmt: skip
_N_STATE = 15


@numba.njit(inline="always")
def _terms(par: FloatArray, row: int, i: int, k0: float, k1: float, k2: float) -> float:
    """Σ_j k_j·par[row + j]: the concentration (or its integral) from the three terms' amounts."""
    return float(
        k0 * par[row * BLOCK + i]
        + k1 * par[(row + 1) * BLOCK + i]
        + k2 * par[(row + 2) * BLOCK + i]
    )


@numba.njit(inline="always")
def _amounts(par: FloatArray, st: FloatArray, i: int) -> tuple[float, float, float]:
    """Subject ``i``'s three terms of the concentration now: coefficient × state."""
    return (
        par[_P_C0 * BLOCK + i] * st[_S0 * BLOCK + i],
        par[(_P_C0 + 1) * BLOCK + i] * st[_S1 * BLOCK + i],
        par[(_P_C0 + 2) * BLOCK + i] * st[_S2 * BLOCK + i],
    )


@numba.njit(inline="always")
def _decay_states(par: FloatArray, st: FloatArray, row: int, i: int) -> tuple[float, float, float]:
    """Decay the three PK states of subject ``i`` by the factors in parameter rows ``row``..``row+2``."""
    s0 = st[_S0 * BLOCK + i] * par[row * BLOCK + i]
    s1 = st[_S1 * BLOCK + i] * par[(row + 1) * BLOCK + i]
    s2 = st[_S2 * BLOCK + i] * par[(row + 2) * BLOCK + i]
    st[_S0 * BLOCK + i] = s0
    st[_S1 * BLOCK + i] = s1
    st[_S2 * BLOCK + i] = s2
    return s0, s1, s2


@numba.njit(inline="always")
def _effect(c: float, effect_num: float, effect_a: float, effect_b: float) -> float:
    """E = emax·occ/(o50 + occ), occ = fu·C/(fu·C + c50u), folded into one division."""
    return effect_num * c / (effect_a * c + effect_b)


@numba.njit(inline="always")
def _add_concentration(st: FloatArray, i: int, hour_c: float) -> None:
    """Add the hour's concentration integral to the run's and the day's sums."""
    st[_C_SUM * BLOCK + i] += hour_c
    st[_DAY_C * BLOCK + i] += hour_c


@numba.njit(inline="always")
def _record_withdrawal(st: FloatArray, i: int, w: float, time_h: float) -> None:
    """Track the peak withdrawal index (and its first time) of the run and the day's peak."""
    better = w > st[_W_PEAK * BLOCK + i]
    st[_W_PEAK_T * BLOCK + i] = time_h if better else st[_W_PEAK_T * BLOCK + i]
    st[_W_PEAK * BLOCK + i] = w if better else st[_W_PEAK * BLOCK + i]
    st[_DAY_W * BLOCK + i] = max(st[_DAY_W * BLOCK + i], w)


@numba.njit(inline="always")
def _end_moderator_hour(
    st: FloatArray, i: int, time_h: float, adapt: float, e_end: float, auc_e: float,
    hour_c: float, c_max: float,
) -> None:  # fmt: skip
    """The summaries every moderator hour updates, whichever hold stepped it."""
    st[_ADAPT * BLOCK + i] = adapt
    _record_withdrawal(st, i, max(adapt - e_end, 0.0), time_h)
    st[_AUC_E * BLOCK + i] += auc_e
    _add_concentration(st, i, hour_c)
    st[_C_MAX * BLOCK + i] = max(st[_C_MAX * BLOCK + i], c_max)
    st[_E_PREV * BLOCK + i] = e_end


@numba.njit(inline="always")
def _hour(
    par: FloatArray, st: FloatArray, time_h: float, effect_num: float, effect_a: float,
    effect_b: float, hold: ModeratorHold,
) -> None:  # fmt: skip
    """Advance BLOCK subjects by one hour, 3-node hold (vectorised across subjects)."""
    a = hold.decay_per_step
    w0, wm, w1 = hold.start3, hold.mid3, hold.end3
    for i in range(BLOCK):
        k0, k1, k2 = _amounts(par, st, i)
        c_mid = _terms(par, _P_H0, i, k0, k1, k2)
        hour_c = _terms(par, _P_G0, i, k0, k1, k2)  # exact integral of the concentration
        s0, s1, s2 = _decay_states(par, st, _P_D0, i)
        c_end = _terms(par, _P_C0, i, s0, s1, s2)
        e_mid = _effect(c_mid, effect_num, effect_a, effect_b)
        e_end = _effect(c_end, effect_num, effect_a, effect_b)
        e_prev = st[_E_PREV * BLOCK + i]
        adapt = a * st[_ADAPT * BLOCK + i] + w0 * e_prev + wm * e_mid + w1 * e_end
        auc_e = (e_prev + 4.0 * e_mid + e_end) * (STEP_H / 6.0)  # Simpson's rule over the hour
        _end_moderator_hour(st, i, time_h, adapt, e_end, auc_e, hour_c, max(c_mid, c_end))


@numba.njit(inline="always")
def _hour_fine(
    par: FloatArray, st: FloatArray, time_h: float, effect_num: float, effect_a: float,
    effect_b: float, hold: ModeratorHold,
) -> None:  # fmt: skip
    """Like ``_hour`` with a five-node hold (quarter hours), for the hours just after a dose."""
    a = hold.decay_per_step
    v0, v1, v2 = hold.start5, hold.quarter5, hold.mid5
    v3, v4 = hold.three_quarters5, hold.end5
    for i in range(BLOCK):
        k0, k1, k2 = _amounts(par, st, i)
        c_q1 = _terms(par, _P_Q0, i, k0, k1, k2)
        c_mid = _terms(par, _P_H0, i, k0, k1, k2)
        c_q3 = _terms(par, _P_T0, i, k0, k1, k2)
        hour_c = _terms(par, _P_G0, i, k0, k1, k2)
        s0, s1, s2 = _decay_states(par, st, _P_D0, i)
        c_end = _terms(par, _P_C0, i, s0, s1, s2)
        e_q1 = _effect(c_q1, effect_num, effect_a, effect_b)
        e_mid = _effect(c_mid, effect_num, effect_a, effect_b)
        e_q3 = _effect(c_q3, effect_num, effect_a, effect_b)
        e_end = _effect(c_end, effect_num, effect_a, effect_b)
        e_prev = st[_E_PREV * BLOCK + i]
        adapt = (
            a * st[_ADAPT * BLOCK + i]
            + v0 * e_prev
            + v1 * e_q1
            + v2 * e_mid
            + v3 * e_q3
            + v4 * e_end
        )
        # Boole's rule over the hour
        auc_e = (7.0 * (e_prev + e_end) + 32.0 * (e_q1 + e_q3) + 12.0 * e_mid) * (STEP_H / 90.0)
        c_max = max(max(c_q1, c_mid), max(c_q3, c_end))
        _end_moderator_hour(st, i, time_h, adapt, e_end, auc_e, hour_c, c_max)


@numba.njit(inline="always")
def _hour_feedback(
    par: FloatArray, st: FloatArray, time_h: float, effect_num: float, effect_a: float,
    effect_b: float, hold: FeedbackHold,
) -> None:  # fmt: skip
    """One hour of the turnover-feedback model in ``hold.substeps`` sub-steps (first-order hold,
    predictor step; feedback exponent 1). The sub-step loop is outside the subject loop so that the
    update vectorises across subjects."""
    r_decay, r_new, r_old = hold.response_decay, hold.response_new, hold.response_old
    m_decay, m_new, m_old = hold.moderator_decay, hold.moderator_new, hold.moderator_old
    n_sub = hold.substeps
    half_sub = STEP_H / n_sub / 2.0
    for i in range(BLOCK):
        k0, k1, k2 = _amounts(par, st, i)
        _add_concentration(st, i, _terms(par, _P_G0, i, k0, k1, k2))
    for _ in range(n_sub):
        for i in range(BLOCK):
            s0, s1, s2 = _decay_states(par, st, _P_U0, i)
            c = _terms(par, _P_C0, i, s0, s1, s2)
            e0 = st[_E_PREV * BLOCK + i]
            e1 = _effect(c, effect_num, effect_a, effect_b)
            r = st[_RESPONSE * BLOCK + i]
            mod = st[_ADAPT * BLOCK + i]
            m_pred = m_decay * mod + (1.0 - m_decay) * r
            r1 = r_decay * r + r_new * (1.0 + e1) / m_pred + r_old * (1.0 + e0) / mod
            st[_ADAPT * BLOCK + i] = m_decay * mod + m_new * r1 + m_old * r
            st[_RESPONSE * BLOCK + i] = r1
            st[_AUC_E * BLOCK + i] += (e0 + e1) * half_sub
            st[_C_MAX * BLOCK + i] = max(st[_C_MAX * BLOCK + i], c)
            st[_E_PREV * BLOCK + i] = e1
    for i in range(BLOCK):
        w = max(st[_ADAPT * BLOCK + i] - st[_RESPONSE * BLOCK + i], 0.0)
        _record_withdrawal(st, i, w, time_h)


@numba.njit(inline="always")
def is_fine_hour(hour: int, last_due_hour: int) -> bool:
    """Whether ``hour`` is stepped with the 5-node hold: a dose was due in it or the hours just before."""
    return hour - last_due_hour < FINE_HOURS_AFTER_DOSE


@numba.njit(cache=True, error_model="numpy")
def effect_terms(effect: EffectConstants) -> tuple[float, float, float]:
    """The effect E = num·C/(a·C + b) folded into three constants (see ``_effect``)."""
    effect_num = effect.emax * effect.fraction_unbound
    effect_a = (1.0 + effect.occupancy_at_half_effect) * effect.fraction_unbound
    effect_b = effect.occupancy_at_half_effect * effect.c50_unbound_ng_ml
    return effect_num, effect_a, effect_b


@numba.njit(cache=True, error_model="numpy")
def _occasion_factors(
    factors: FloatArray, ids: NDArray[np.int64], lo: int, m: int, day: int, seed: int, iov_sd: float
) -> None:
    """Relative bioavailability of each subject on ``day`` (one occasion per day), exp(σ·z)."""
    for i in range(m):
        factors[i] = math.exp(iov_sd * normal(seed, OCCASION_STREAM, ids[lo + i], day))


@numba.njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def _occasion_table(ids: NDArray[np.int64], days: int, seed: int, iov_sd: float) -> FloatArray:
    table = np.empty((days, ids.size))
    n_blocks = (ids.size + BLOCK - 1) // BLOCK
    for b in numba.prange(n_blocks):
        lo = b * BLOCK
        m = min(ids.size, lo + BLOCK) - lo
        for day in range(days):
            _occasion_factors(table[day, lo : lo + m], ids, lo, m, day, seed, iov_sd)
    return table


def occasion_table(subject_id: NDArray[np.int64], days: int, dosing: Dosing) -> FloatArray:
    """Each subject's relative bioavailability on each day (days × subjects), the draws the kernels
    make: drawn once, they are shared by the kernels that run the same subjects (``occasions=``)."""
    if days < 0:
        raise InputError("days", days, "a whole number of days >= 0")
    return _occasion_table(
        np.ascontiguousarray(subject_id, dtype=np.int64), days, dosing.seed,
        dosing.bioavailability_iov_sd,
    )  # fmt: skip


def checked_occasions(occasions: FloatArray | None, days: int, subjects: int) -> FloatArray:
    """``occasions`` as the kernels read it (none given: an empty table, the kernel draws)."""
    if occasions is None:
        return np.zeros((0, 0))
    if occasions.shape != (days, subjects) or occasions.dtype != np.float64:
        raise InputError("occasions", occasions.shape, f"float64 of shape ({days}, {subjects})")
    return np.ascontiguousarray(occasions)


@numba.njit(inline="always")
def day_occasions(
    occasion: FloatArray, occasions: FloatArray, ids: NDArray[np.int64], lo: int, m: int, day: int,
    seed: int, iov_sd: float,
) -> None:  # fmt: skip
    """The block's relative bioavailability on ``day``: read from ``occasions`` (days × subjects) if
    given (not empty), else drawn (the same numbers)."""
    if occasions.shape[0]:
        for i in range(m):
            occasion[i] = occasions[day, lo + i]
    else:
        _occasion_factors(occasion, ids, lo, m, day, seed, iov_sd)


@numba.njit(inline="always")
def _take_dose(
    st: FloatArray, i: int, subject: int, amount: float, hour: int, k: int, seed: int,
    p_miss: float, p_double: float, occasion: float,
) -> None:  # fmt: skip
    """Subject ``i`` (id ``subject``) takes its ``k``-th due dose, ``amount`` mg at ``hour``: missed,
    doubled or taken by its keyed adherence draw, scaled by the day's relative bioavailability."""
    taken = 1.0
    if p_miss > 0.0 or p_double > 0.0:
        u = uniform(seed, ADHERENCE_STREAM, subject, k)
        taken = 0.0 if u < p_miss else (2.0 if u > 1.0 - p_double else 1.0)
    if taken > 0.0:
        dose = amount * taken * occasion
        st[_S0 * BLOCK + i] += dose
        st[_S1 * BLOCK + i] += dose
        st[_S2 * BLOCK + i] += dose
        st[_LAST_DOSE * BLOCK + i] = hour


@numba.njit(cache=True, error_model="numpy")
def _dose(
    st: FloatArray, ids: NDArray[np.int64], lo: int, m: int, amount: float, hour: int, k: int,
    seed: int, p_miss: float, p_double: float, occasion: FloatArray,
) -> None:  # fmt: skip
    """Give the dose due at ``hour`` (the ``k``-th of the schedule) to each subject."""
    for i in range(m):
        _take_dose(st, i, ids[lo + i], amount, hour, k, seed, p_miss, p_double, occasion[i])


@numba.njit(cache=True, error_model="numpy")
def _load_block(
    par: FloatArray, st: FloatArray, pk: SubjectPK, lo: int, m: int, n_sub: int, baseline: float
) -> None:
    """The block's per-subject step factors, and its states at the drug-naive start."""
    for i in range(m):
        for j in range(3):
            lam = pk.rate_per_h[lo + i, j]
            par[(_P_C0 + j) * BLOCK + i] = pk.coef_ng_ml_per_mg[lo + i, j]
            par[(_P_D0 + j) * BLOCK + i] = math.exp(-lam * STEP_H)
            par[(_P_H0 + j) * BLOCK + i] = math.exp(-lam * STEP_H / 2.0)
            par[(_P_Q0 + j) * BLOCK + i] = math.exp(-lam * STEP_H / 4.0)
            par[(_P_T0 + j) * BLOCK + i] = math.exp(-lam * STEP_H * 0.75)
            par[(_P_G0 + j) * BLOCK + i] = -math.expm1(-lam * STEP_H) / lam if lam > 0.0 else STEP_H
            par[(_P_U0 + j) * BLOCK + i] = math.exp(-lam * STEP_H / n_sub)
        st[_LAST_DOSE * BLOCK + i] = -1.0
        st[_ADAPT * BLOCK + i] = baseline
        st[_RESPONSE * BLOCK + i] = baseline


@numba.njit(cache=True, error_model="numpy")
def _end_day(
    st: FloatArray, band_out: FloatArray, bands: BandSelection, lo: int, m: int, day: int,
    threshold: float,
) -> None:  # fmt: skip
    """Count the day if its peak withdrawal exceeded ``threshold``, keep the band rows, reset the day."""
    for i in range(m):
        if st[_DAY_W * BLOCK + i] > threshold:
            st[_DAYS_ABOVE * BLOCK + i] += 1.0
        slot = bands.slot[lo + i]
        if slot >= 0:
            band_out[slot, day, BandSeries.DAILY_MEAN_CONC_NG_ML] = (
                st[_DAY_C * BLOCK + i] / HOURS_PER_DAY
            )
            band_out[slot, day, BandSeries.DAILY_MAX_WITHDRAWAL_INDEX] = st[_DAY_W * BLOCK + i]
        st[_DAY_W * BLOCK + i] = 0.0
        st[_DAY_C * BLOCK + i] = 0.0


@numba.njit(cache=True, error_model="numpy")
def _write_metrics(
    metrics: FloatArray, st: FloatArray, lo: int, m: int, hours: int, baseline: float,
    effect: EffectConstants,
) -> None:  # fmt: skip
    """The block's per-subject summaries, by :class:`Metric`."""
    for i in range(m):
        row = lo + i
        metrics[row, Metric.PEAK_WITHDRAWAL_INDEX] = st[_W_PEAK * BLOCK + i]
        metrics[row, Metric.PEAK_WITHDRAWAL_TIME_H] = st[_W_PEAK_T * BLOCK + i]
        metrics[row, Metric.DAYS_WITHDRAWAL_ABOVE_THRESHOLD] = st[_DAYS_ABOVE * BLOCK + i]
        metrics[row, Metric.AUC_EFFECT_H] = st[_AUC_E * BLOCK + i]
        metrics[row, Metric.CMAX_NG_ML] = st[_C_MAX * BLOCK + i]
        metrics[row, Metric.CMEAN_NG_ML] = st[_C_SUM * BLOCK + i] / (hours * STEP_H)
        metrics[row, Metric.LAST_DOSE_TIME_H] = st[_LAST_DOSE * BLOCK + i]
        metrics[row, Metric.FINAL_ADAPTATION] = st[_ADAPT * BLOCK + i] - baseline
        unbound_max = effect.fraction_unbound * st[_C_MAX * BLOCK + i]
        metrics[row, Metric.MAX_OCCUPANCY] = unbound_max / (unbound_max + effect.c50_unbound_ng_ml)


@numba.njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def _run(
    pk: SubjectPK, dosing: Dosing, effect: EffectConstants, model: int, moderator: ModeratorHold,
    feedback_hold: FeedbackHold, threshold: float, bands: BandSelection, occasions: FloatArray,
) -> tuple[FloatArray, FloatArray]:  # fmt: skip
    """Per-subject summaries (subjects × Metric) and band series (band subjects × days × BandSeries).

    The structures arrive flat: numba cannot capture a nested tuple in a parallel loop.
    """
    feedback = model == TURNOVER_FEEDBACK
    n_sub = feedback_hold.substeps if feedback else 1
    baseline = 1.0 if feedback else 0.0  # adaptation state of the drug-naive subject
    schedule = dosing.schedule_mg
    n = pk.subject_id.size
    hours = schedule.size
    days = hours // HOURS_PER_DAY
    metrics = np.zeros((n, N_METRICS))
    band_out = np.zeros((max(bands.rows, 1), days, N_BAND_SERIES))
    dose_index = np.cumsum(schedule > 0.0) - 1
    fine = np.zeros(hours, dtype=np.bool_)
    for hour in range(hours):
        if schedule[hour] > 0.0:
            fine[hour : min(hours, hour + FINE_HOURS_AFTER_DOSE)] = True  # see ``is_fine_hour``
    effect_num, effect_a, effect_b = effect_terms(effect)
    seed, iov_sd = dosing.seed, dosing.bioavailability_iov_sd
    p_miss, p_double = dosing.missed_fraction, dosing.doubled_fraction
    n_blocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(n_blocks):
        lo = b * BLOCK
        m = min(n, lo + BLOCK) - lo
        par = np.zeros(_N_PAR * BLOCK)
        st = np.zeros(_N_STATE * BLOCK)
        _load_block(par, st, pk, lo, m, n_sub, baseline)
        occasion = np.ones(BLOCK)
        for hour in range(hours):
            if iov_sd > 0.0 and hour % HOURS_PER_DAY == 0:
                day_occasions(
                    occasion, occasions, pk.subject_id, lo, m, hour // HOURS_PER_DAY, seed, iov_sd
                )
            if schedule[hour] > 0.0:
                _dose(
                    st, pk.subject_id, lo, m, schedule[hour], hour, dose_index[hour], seed,
                    p_miss, p_double, occasion,
                )  # fmt: skip
            time_h = hour + STEP_H
            if feedback:
                _hour_feedback(par, st, time_h, effect_num, effect_a, effect_b, feedback_hold)
            elif fine[hour]:
                _hour_fine(par, st, time_h, effect_num, effect_a, effect_b, moderator)
            else:
                _hour(par, st, time_h, effect_num, effect_a, effect_b, moderator)
            if (hour + 1) % HOURS_PER_DAY == 0:
                _end_day(st, band_out, bands, lo, m, hour // HOURS_PER_DAY, threshold)
        _write_metrics(metrics, st, lo, m, hours, baseline, effect)
    return metrics, band_out


def run_kernel(
    pk: SubjectPK, dosing: Dosing, pd: PopulationPD, bands: BandSelection, *,
    occasions: FloatArray | None = None,
) -> KernelOutput:  # fmt: skip
    """Simulate every subject of ``pk`` under ``dosing``: per-subject summaries and band series.

    ``occasions``: the subjects' :func:`occasion_table`, if already drawn."""
    tolerance = pd.tolerance
    days = dosing.schedule_mg.size // HOURS_PER_DAY
    metrics, band = _run(
        pk, dosing, pd.effect, tolerance.model, tolerance.moderator, tolerance.feedback,
        pd.withdrawal_threshold, bands, checked_occasions(occasions, days, pk.subject_id.size),
    )  # fmt: skip
    return KernelOutput(metrics, band[: bands.rows])
