"""The compiled population kernel: exact PK and PD state updates on an hourly grid, streamed summaries.

PK: per subject three exponential states decay exactly between hours (doses fall on whole hours).
PD (moderator tolerance): A(t+h) = a·A(t) + w0·E(t) + wm·E(t+h/2) + w1·E(t+h), the exact convolution of
the first-order adaptation with the quadratic interpolant of the effect through the hour's ends and its
midpoint (PK is exact at the midpoint too). Summaries are accumulated as the hours pass, so memory grows
with subjects, never with subjects × hours.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

from benzokit.errors import ModelError
from benzokit.sim.population.rng import ADHERENCE_STREAM, OCCASION_STREAM, normal, uniform
from benzokit.types import FloatArray

METRICS = (
    "peak_withdrawal_index",
    "peak_withdrawal_time_h",
    "days_withdrawal_above_threshold",
    "auc_effect_h",
    "cmax_ng_ml",
    "cmean_ng_ml",
    "last_dose_time_h",
    "final_adaptation",
    "max_occupancy",
)
BAND_SERIES = ("daily_mean_conc_ng_ml", "daily_max_withdrawal_index")
BLOCK = 64
STEP_H = 1.0


def hold_weights(half_life_h: float, nodes: int, step_h: float = STEP_H) -> FloatArray:
    """Weights w_j so that ∫ k·exp(−k(h − s))·E(s) ds over one step = Σ w_j E(j·h/(nodes − 1)),
    exact when E is the polynomial through the equally spaced nodes (3: Simpson-like, 5: Boole-like)."""
    k = math.log(2.0) / half_life_h
    gauss_x, gauss_w = np.polynomial.legendre.leggauss(32)
    s = (gauss_x + 1.0) * step_h / 2.0
    kernel = k * np.exp(-k * (step_h - s)) * gauss_w * step_h / 2.0
    grid = np.linspace(0.0, step_h, nodes)
    weights = np.empty(nodes)
    for j in range(nodes):
        others = np.delete(grid, j)
        basis = np.prod([(s - o) / (grid[j] - o) for o in others], axis=0)
        weights[j] = float(np.sum(kernel * basis))
    return weights


def moderator_weights(
    half_life_h: float, step_h: float = STEP_H
) -> tuple[float, FloatArray, FloatArray]:
    """(decay per step, 3-node weights, 5-node weights) of the moderator's exact hold update."""
    decay = math.exp(-math.log(2.0) / half_life_h * step_h)
    return decay, hold_weights(half_life_h, 3, step_h), hold_weights(half_life_h, 5, step_h)


# Per-block layout: one flat parameter array and one flat state array, rows of BLOCK subjects each, so
# that LLVM sees constant offsets between rows and vectorises the hourly loop across subjects.
(_P_C0, _P_C1, _P_C2, _P_D0, _P_D1, _P_D2, _P_H0, _P_H1, _P_H2, _P_Q0, _P_Q1, _P_Q2, _P_T0, _P_T1,
 _P_T2, _P_G0, _P_G1, _P_G2, _P_U0, _P_U1, _P_U2) = range(21)  # fmt: skip
_N_PAR = 21
MODERATOR = 0
TURNOVER_FEEDBACK = 1
FEEDBACK_SUBSTEPS = (
    16  # sub-steps per hour: peak withdrawal index within 1e-4 of a tight ODE reference
)
FINE_HOURS_AFTER_DOSE = 3
(_S0, _S1, _S2, _ADAPT, _E_PREV, _W_PEAK, _W_PEAK_T, _DAY_W, _DAY_C, _DAYS_ABOVE, _AUC_E,
 _C_SUM, _C_MAX, _LAST_DOSE, _RESPONSE) = range(15)  # fmt: skip
_N_STATE = 15


@numba.njit(cache=True, fastmath=True, error_model="numpy")
def _hour(
    par: FloatArray, st: FloatArray, next_t: float, effect_num: float, effect_a: float, effect_b: float,
    a: float, w0: float, wm: float, w1: float,
) -> None:  # fmt: skip
    """Advance BLOCK subjects by one hour (vectorised across subjects)."""
    for i in range(BLOCK):
        s0 = st[_S0 * BLOCK + i]
        s1 = st[_S1 * BLOCK + i]
        s2 = st[_S2 * BLOCK + i]
        c0 = par[_P_C0 * BLOCK + i]
        c1 = par[_P_C1 * BLOCK + i]
        c2 = par[_P_C2 * BLOCK + i]
        c_mid = (
            c0 * s0 * par[_P_H0 * BLOCK + i]
            + c1 * s1 * par[_P_H1 * BLOCK + i]
            + c2 * s2 * par[_P_H2 * BLOCK + i]
        )
        # exact integral of the concentration over the hour
        hour_c = (
            c0 * s0 * par[_P_G0 * BLOCK + i]
            + c1 * s1 * par[_P_G1 * BLOCK + i]
            + c2 * s2 * par[_P_G2 * BLOCK + i]
        )
        s0 *= par[_P_D0 * BLOCK + i]
        s1 *= par[_P_D1 * BLOCK + i]
        s2 *= par[_P_D2 * BLOCK + i]
        st[_S0 * BLOCK + i] = s0
        st[_S1 * BLOCK + i] = s1
        st[_S2 * BLOCK + i] = s2
        c_end = c0 * s0 + c1 * s1 + c2 * s2
        # E = emax·occ/(o50 + occ), occ = fu·C/(fu·C + c50u), folded into one division
        e_mid = effect_num * c_mid / (effect_a * c_mid + effect_b)
        e_end = effect_num * c_end / (effect_a * c_end + effect_b)
        e_prev = st[_E_PREV * BLOCK + i]
        adapt = a * st[_ADAPT * BLOCK + i] + w0 * e_prev + wm * e_mid + w1 * e_end
        st[_ADAPT * BLOCK + i] = adapt
        w = max(adapt - e_end, 0.0)
        better = w > st[_W_PEAK * BLOCK + i]
        st[_W_PEAK_T * BLOCK + i] = next_t if better else st[_W_PEAK_T * BLOCK + i]
        st[_W_PEAK * BLOCK + i] = w if better else st[_W_PEAK * BLOCK + i]
        st[_DAY_W * BLOCK + i] = max(st[_DAY_W * BLOCK + i], w)
        st[_AUC_E * BLOCK + i] += (e_prev + 4.0 * e_mid + e_end) * (STEP_H / 6.0)
        st[_C_SUM * BLOCK + i] += hour_c
        st[_DAY_C * BLOCK + i] += hour_c
        st[_C_MAX * BLOCK + i] = max(st[_C_MAX * BLOCK + i], max(c_mid, c_end))
        st[_E_PREV * BLOCK + i] = e_end


@numba.njit(cache=True, fastmath=True, error_model="numpy")
def _hour_fine(
    par: FloatArray, st: FloatArray, next_t: float, effect_num: float, effect_a: float, effect_b: float,
    a: float, v0: float, v1: float, v2: float, v3: float, v4: float,
) -> None:  # fmt: skip
    """Like ``_hour`` with a five-node hold (quarter hours), for the hours just after a dose."""
    for i in range(BLOCK):
        s0 = st[_S0 * BLOCK + i]
        s1 = st[_S1 * BLOCK + i]
        s2 = st[_S2 * BLOCK + i]
        k0 = par[_P_C0 * BLOCK + i] * s0
        k1 = par[_P_C1 * BLOCK + i] * s1
        k2 = par[_P_C2 * BLOCK + i] * s2
        c_q1 = (
            k0 * par[_P_Q0 * BLOCK + i] + k1 * par[_P_Q1 * BLOCK + i] + k2 * par[_P_Q2 * BLOCK + i]
        )
        c_mid = (
            k0 * par[_P_H0 * BLOCK + i] + k1 * par[_P_H1 * BLOCK + i] + k2 * par[_P_H2 * BLOCK + i]
        )
        c_q3 = (
            k0 * par[_P_T0 * BLOCK + i] + k1 * par[_P_T1 * BLOCK + i] + k2 * par[_P_T2 * BLOCK + i]
        )
        hour_c = (
            k0 * par[_P_G0 * BLOCK + i] + k1 * par[_P_G1 * BLOCK + i] + k2 * par[_P_G2 * BLOCK + i]
        )
        s0 *= par[_P_D0 * BLOCK + i]
        s1 *= par[_P_D1 * BLOCK + i]
        s2 *= par[_P_D2 * BLOCK + i]
        st[_S0 * BLOCK + i] = s0
        st[_S1 * BLOCK + i] = s1
        st[_S2 * BLOCK + i] = s2
        c_end = (
            par[_P_C0 * BLOCK + i] * s0 + par[_P_C1 * BLOCK + i] * s1 + par[_P_C2 * BLOCK + i] * s2
        )
        e_q1 = effect_num * c_q1 / (effect_a * c_q1 + effect_b)
        e_mid = effect_num * c_mid / (effect_a * c_mid + effect_b)
        e_q3 = effect_num * c_q3 / (effect_a * c_q3 + effect_b)
        e_end = effect_num * c_end / (effect_a * c_end + effect_b)
        e_prev = st[_E_PREV * BLOCK + i]
        adapt = (
            a * st[_ADAPT * BLOCK + i]
            + v0 * e_prev
            + v1 * e_q1
            + v2 * e_mid
            + v3 * e_q3
            + v4 * e_end
        )
        st[_ADAPT * BLOCK + i] = adapt
        w = max(adapt - e_end, 0.0)
        better = w > st[_W_PEAK * BLOCK + i]
        st[_W_PEAK_T * BLOCK + i] = next_t if better else st[_W_PEAK_T * BLOCK + i]
        st[_W_PEAK * BLOCK + i] = w if better else st[_W_PEAK * BLOCK + i]
        st[_DAY_W * BLOCK + i] = max(st[_DAY_W * BLOCK + i], w)
        # Boole's rule over the hour
        st[_AUC_E * BLOCK + i] += (7.0 * (e_prev + e_end) + 32.0 * (e_q1 + e_q3) + 12.0 * e_mid) * (
            STEP_H / 90.0
        )
        st[_C_SUM * BLOCK + i] += hour_c
        st[_DAY_C * BLOCK + i] += hour_c
        st[_C_MAX * BLOCK + i] = max(
            st[_C_MAX * BLOCK + i], max(max(c_q1, c_mid), max(c_q3, c_end))
        )
        st[_E_PREV * BLOCK + i] = e_end


@numba.njit(cache=True, fastmath=True, error_model="numpy")
def _hour_feedback(
    par: FloatArray, st: FloatArray, next_t: float, effect_num: float, effect_a: float, effect_b: float,
    tol: FloatArray,
) -> None:  # fmt: skip
    """One hour of the turnover-feedback model in ``tol[7]`` sub-steps (first-order hold, predictor step).

    tol = (r_decay, r_new, r_old, m_decay, m_new, m_old, feedback_exponent, n_sub) per sub-step; the
    kernel implements feedback exponent 1 (``feedback_constants`` refuses others). The sub-step loop is
    outside the subject loop so that the update vectorises across subjects.
    """
    r_decay, r_new, r_old = tol[0], tol[1], tol[2]
    m_decay, m_new, m_old = tol[3], tol[4], tol[5]
    n_sub = int(tol[7])
    half_sub = STEP_H / n_sub / 2.0
    for i in range(BLOCK):
        st[_C_SUM * BLOCK + i] += (
            par[_P_C0 * BLOCK + i] * st[_S0 * BLOCK + i] * par[_P_G0 * BLOCK + i]
            + par[_P_C1 * BLOCK + i] * st[_S1 * BLOCK + i] * par[_P_G1 * BLOCK + i]
            + par[_P_C2 * BLOCK + i] * st[_S2 * BLOCK + i] * par[_P_G2 * BLOCK + i]
        )
        st[_DAY_C * BLOCK + i] = st[_DAY_C * BLOCK + i] + (
            par[_P_C0 * BLOCK + i] * st[_S0 * BLOCK + i] * par[_P_G0 * BLOCK + i]
            + par[_P_C1 * BLOCK + i] * st[_S1 * BLOCK + i] * par[_P_G1 * BLOCK + i]
            + par[_P_C2 * BLOCK + i] * st[_S2 * BLOCK + i] * par[_P_G2 * BLOCK + i]
        )
    for _ in range(n_sub):
        for i in range(BLOCK):
            s0 = st[_S0 * BLOCK + i] * par[_P_U0 * BLOCK + i]
            s1 = st[_S1 * BLOCK + i] * par[_P_U1 * BLOCK + i]
            s2 = st[_S2 * BLOCK + i] * par[_P_U2 * BLOCK + i]
            st[_S0 * BLOCK + i] = s0
            st[_S1 * BLOCK + i] = s1
            st[_S2 * BLOCK + i] = s2
            c = (
                par[_P_C0 * BLOCK + i] * s0
                + par[_P_C1 * BLOCK + i] * s1
                + par[_P_C2 * BLOCK + i] * s2
            )
            e0 = st[_E_PREV * BLOCK + i]
            e1 = effect_num * c / (effect_a * c + effect_b)
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
        better = w > st[_W_PEAK * BLOCK + i]
        st[_W_PEAK_T * BLOCK + i] = next_t if better else st[_W_PEAK_T * BLOCK + i]
        st[_W_PEAK * BLOCK + i] = w if better else st[_W_PEAK * BLOCK + i]
        st[_DAY_W * BLOCK + i] = max(st[_DAY_W * BLOCK + i], w)


@numba.njit(cache=True, error_model="numpy")
def _occasion_factors(
    factors: FloatArray, ids: NDArray[np.int64], lo: int, m: int, day: int, seed: int, iov_sd: float
) -> None:
    """Relative bioavailability of each subject on ``day`` (one occasion per day), exp(σ·z)."""
    for i in range(m):
        factors[i] = math.exp(iov_sd * normal(seed, OCCASION_STREAM, ids[lo + i], day))


@numba.njit(cache=True, error_model="numpy")
def _dose(
    st: FloatArray, ids: NDArray[np.int64], lo: int, m: int, amount: float, hour: int, k: int,
    seed: int, p_miss: float, p_double: float, occasion: FloatArray,
) -> None:  # fmt: skip
    """Give the dose due at ``hour`` to each subject, with adherence and inter-occasion variability."""
    check_adherence = p_miss > 0.0 or p_double > 0.0
    for i in range(m):
        taken = 1.0
        if check_adherence:
            u = uniform(seed, ADHERENCE_STREAM, ids[lo + i], k)
            taken = 0.0 if u < p_miss else (2.0 if u > 1.0 - p_double else 1.0)
        if taken > 0.0:
            dose = amount * taken * occasion[i]
            st[_S0 * BLOCK + i] += dose
            st[_S1 * BLOCK + i] += dose
            st[_S2 * BLOCK + i] += dose
            st[_LAST_DOSE * BLOCK + i] = hour


def run_moderator(
    coef: FloatArray, rate: FloatArray, ids: NDArray[np.int64], schedule: FloatArray,
    seed: int, p_miss: float, p_double: float, iov_sd: float,
    fu: float, c50u: float, emax: float, o50: float,
    a: float, w3: FloatArray, w5: FloatArray, threshold: float,
    band_slot: NDArray[np.int64], n_band: int,
) -> tuple[FloatArray, FloatArray]:  # fmt: skip
    """The kernel with the moderator tolerance model (``a``: decay per hour; ``w3``/``w5``: hold weights)."""
    tol = np.array([a])
    return run_kernel(coef, rate, ids, schedule, seed, p_miss, p_double, iov_sd, fu, c50u, emax, o50,
                      MODERATOR, tol, w3, w5, threshold, band_slot, n_band)  # fmt: skip


def run_feedback(
    coef: FloatArray, rate: FloatArray, ids: NDArray[np.int64], schedule: FloatArray,
    seed: int, p_miss: float, p_double: float, iov_sd: float,
    fu: float, c50u: float, emax: float, o50: float,
    tol: FloatArray, threshold: float, band_slot: NDArray[np.int64], n_band: int,
) -> tuple[FloatArray, FloatArray]:  # fmt: skip
    """The kernel with the turnover-feedback tolerance model (``tol``: see ``feedback_constants``)."""
    unused = np.zeros(5)
    return run_kernel(coef, rate, ids, schedule, seed, p_miss, p_double, iov_sd, fu, c50u, emax, o50,
                      TURNOVER_FEEDBACK, tol, unused, unused, threshold, band_slot, n_band)  # fmt: skip


def feedback_constants(
    half_life_h: float, response_half_life_h: float, exponent: float, substeps: int
) -> FloatArray:
    """Per-sub-step hold weights of the turnover-feedback model, packed for ``run_feedback``."""
    if exponent != 1.0:
        raise ModelError(
            "the population kernel implements the turnover-feedback model with exponent 1 only"
        )
    h_sub = STEP_H / substeps
    r = _first_order_hold(math.log(2.0) / response_half_life_h, h_sub)
    m = _first_order_hold(math.log(2.0) / half_life_h, h_sub)
    return np.array([*r, *m, exponent, float(substeps)])


def _first_order_hold(rate_per_h: float, step_h: float) -> tuple[float, float, float]:
    decay = math.exp(-rate_per_h * step_h)
    phi = -math.expm1(-rate_per_h * step_h) / (rate_per_h * step_h)
    return decay, 1.0 - phi, phi - decay


@numba.njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def run_kernel(
    coef: FloatArray, rate: FloatArray, ids: NDArray[np.int64], schedule: FloatArray,
    seed: int, p_miss: float, p_double: float, iov_sd: float,
    fu: float, c50u: float, emax: float, o50: float,
    model: int, tol: FloatArray, w3: FloatArray, w5: FloatArray, threshold: float,
    band_slot: NDArray[np.int64], n_band: int,
) -> tuple[FloatArray, FloatArray]:  # fmt: skip
    """Per-subject summaries (subjects × METRICS) and band series (n_band × days × BAND_SERIES)."""
    a = tol[0]
    n_sub = int(tol[7]) if model == TURNOVER_FEEDBACK else 1
    n = ids.size
    hours = schedule.size
    days = hours // 24
    metrics = np.zeros((n, len(METRICS)))
    band = np.zeros((max(n_band, 1), days, 2))
    dose_index = np.cumsum(schedule > 0.0) - 1
    fine = np.zeros(hours, dtype=np.bool_)
    for hour in range(hours):
        if schedule[hour] > 0.0:
            fine[hour : min(hours, hour + FINE_HOURS_AFTER_DOSE)] = True
    effect_num = emax * fu
    effect_a = (1.0 + o50) * fu
    effect_b = o50 * c50u
    n_blocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(n_blocks):
        lo = b * BLOCK
        m = min(n, lo + BLOCK) - lo
        par = np.zeros(_N_PAR * BLOCK)
        st = np.zeros(_N_STATE * BLOCK)
        for i in range(m):
            for j in range(3):
                par[(_P_C0 + j) * BLOCK + i] = coef[lo + i, j]
                par[(_P_D0 + j) * BLOCK + i] = math.exp(-rate[lo + i, j] * STEP_H)
                par[(_P_H0 + j) * BLOCK + i] = math.exp(-rate[lo + i, j] * STEP_H / 2.0)
                par[(_P_Q0 + j) * BLOCK + i] = math.exp(-rate[lo + i, j] * STEP_H / 4.0)
                par[(_P_T0 + j) * BLOCK + i] = math.exp(-rate[lo + i, j] * STEP_H * 0.75)
                lam = rate[lo + i, j]
                par[(_P_G0 + j) * BLOCK + i] = (
                    -math.expm1(-lam * STEP_H) / lam if lam > 0.0 else STEP_H
                )
                par[(_P_U0 + j) * BLOCK + i] = math.exp(-rate[lo + i, j] * STEP_H / n_sub)
            st[_LAST_DOSE * BLOCK + i] = -1.0
            if model == TURNOVER_FEEDBACK:
                st[_ADAPT * BLOCK + i] = 1.0
                st[_RESPONSE * BLOCK + i] = 1.0
        occasion = np.ones(BLOCK)
        for hour in range(hours):
            if iov_sd > 0.0 and hour % 24 == 0:
                _occasion_factors(occasion, ids, lo, m, hour // 24, seed, iov_sd)
            if schedule[hour] > 0.0:
                _dose(
                    st,
                    ids,
                    lo,
                    m,
                    schedule[hour],
                    hour,
                    dose_index[hour],
                    seed,
                    p_miss,
                    p_double,
                    occasion,
                )
            if model == TURNOVER_FEEDBACK:
                _hour_feedback(par, st, hour + 1.0, effect_num, effect_a, effect_b, tol)
            elif fine[hour]:
                _hour_fine(
                    par,
                    st,
                    hour + 1.0,
                    effect_num,
                    effect_a,
                    effect_b,
                    a,
                    w5[0],
                    w5[1],
                    w5[2],
                    w5[3],
                    w5[4],
                )
            else:
                _hour(par, st, hour + 1.0, effect_num, effect_a, effect_b, a, w3[0], w3[1], w3[2])
            if (hour + 1) % 24 == 0:
                day = hour // 24
                for i in range(m):
                    if st[_DAY_W * BLOCK + i] > threshold:
                        st[_DAYS_ABOVE * BLOCK + i] += 1.0
                    slot = band_slot[lo + i]
                    if slot >= 0:
                        band[slot, day, 0] = st[_DAY_C * BLOCK + i] / 24.0
                        band[slot, day, 1] = st[_DAY_W * BLOCK + i]
                    st[_DAY_W * BLOCK + i] = 0.0
                    st[_DAY_C * BLOCK + i] = 0.0
        for i in range(m):
            row = lo + i
            metrics[row, 0] = st[_W_PEAK * BLOCK + i]
            metrics[row, 1] = st[_W_PEAK_T * BLOCK + i]
            metrics[row, 2] = st[_DAYS_ABOVE * BLOCK + i]
            metrics[row, 3] = st[_AUC_E * BLOCK + i]
            metrics[row, 4] = st[_C_MAX * BLOCK + i]
            metrics[row, 5] = st[_C_SUM * BLOCK + i] / (hours * STEP_H)
            metrics[row, 6] = st[_LAST_DOSE * BLOCK + i]
            metrics[row, 7] = st[_ADAPT * BLOCK + i] - (1.0 if model == TURNOVER_FEEDBACK else 0.0)
            unbound_max = fu * st[_C_MAX * BLOCK + i]
            metrics[row, 8] = unbound_max / (unbound_max + c50u)
    return metrics, band
