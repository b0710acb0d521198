"""The paced population kernel: each subject's taper advances by a pacing policy, decided from its own
simulated withdrawal.

The PK/PD hours are the fixed kernel's (:mod:`benzokit.sim.population.kernel`), on the same block layout;
what differs is where the doses come from. Each subject is on a step of a :class:`PacedTaper`; at each
hour it is due ``step_pattern_mg[step, hour % 24]``, and at the end of a check-in day (every day for a
fixed calendar) the step is decided by exactly the arithmetic of ``benzokit.plan.pacing.decide`` (tested
decision for decision against it): the watched measure is the day's peak withdrawal index plus
``observation_noise_sd`` times a standard normal from the keyed ``OBSERVATION_STREAM`` (subject, plan day),
so a subject's pace does not depend on the chunking, the workers or the order of evaluation.

A policy never raises a dose: a hold, a slowdown, a referral to the clinician (in silico: the clinician
keeps the dose) and a pace past the policy's maximum duration (the subject stays on its dose) all keep
the current step.
"""

from __future__ import annotations

from typing import Protocol

import numba
import numpy as np
from numpy.typing import NDArray

from benzokit.errors import InputError
from benzokit.sim.population.kernel import (
    _DAY_W,
    _N_PAR,
    _N_STATE,
    BLOCK,
    FINE_HOURS_AFTER_DOSE,
    _end_day,
    _hour,
    _hour_feedback,
    _hour_fine,
    _load_block,
    _occasion_factors,
    _take_dose,
    _write_metrics,
    effect_terms,
    is_fine_hour,
)
from benzokit.sim.population.rng import OBSERVATION_STREAM, normal
from benzokit.sim.population.structures import (
    N_BAND_SERIES,
    N_METRICS,
    N_PACING_METRICS,
    STEP_H,
    TURNOVER_FEEDBACK,
    BandSelection,
    Dosing,
    EffectConstants,
    FeedbackHold,
    ModeratorHold,
    PacedOutput,
    PacedTaper,
    PacingConstants,
    PacingMetric,
    PopulationPD,
    SubjectPK,
)
from benzokit.types import FloatArray
from benzokit.units import HOURS_PER_DAY

# The decisions, coded as ``benzokit.plan.pacing.Pace`` (the engine does not import the planner).
_WAIT, _ADVANCE, _HOLD, _SLOW, _REFER, _OVERDUE = range(6)

# Per-block pacing state: integer rows and float rows of BLOCK subjects each.
(_STEP, _STEP_START, _HOLDS_SINCE_SLOW, _HOLDS, _SLOWDOWNS, _REFERRALS, _TAPER_DAY, _DOSES_DUE,
 _LAST_DUE) = range(9)  # fmt: skip
_N_INT = 9
_BASELINE, _STRETCH = range(2)
_N_FLOAT = 2
_NOT_YET = -1  # _TAPER_DAY before the 0 mg step starts
_NO_DOSE_YET = (
    -HOURS_PER_DAY
)  # _LAST_DUE before the first due dose: far enough back for no fine hour


class PolicyRules(Protocol):
    """What the kernel reads of a pacing policy (``benzokit.plan.pacing.PacingPolicy`` has it)."""

    @property
    def adaptive(self) -> bool: ...
    @property
    def checkin_interval_days(self) -> int: ...
    @property
    def settle_days(self) -> int: ...
    @property
    def hold_rise(self) -> float: ...
    @property
    def slow_after_holds(self) -> int: ...
    @property
    def slow_factor(self) -> float: ...
    @property
    def ask_clinician_at(self) -> float: ...
    @property
    def max_duration_days(self) -> int: ...
    @property
    def observation_noise_sd(self) -> float: ...


def pacing_constants(policy: PolicyRules) -> PacingConstants:
    """The kernel's scalars for a pacing policy (a ``PacingPolicy``)."""
    return PacingConstants(
        adaptive=bool(policy.adaptive),
        checkin_interval_days=int(policy.checkin_interval_days),
        settle_days=int(policy.settle_days),
        hold_rise=float(policy.hold_rise),
        slow_after_holds=int(policy.slow_after_holds),
        slow_factor=float(policy.slow_factor),
        ask_clinician_at=float(policy.ask_clinician_at),
        max_duration_days=int(policy.max_duration_days),
        observation_noise_sd=float(policy.observation_noise_sd),
    )


def paced_taper_from_schedule(schedule_mg: FloatArray) -> PacedTaper:
    """The taper an hourly schedule (whole days) follows: each run of days with the same 24-hour pattern
    is a step of that many days; a 0 mg step is added at the end unless the schedule ends on one.

    With the ``fixed`` policy the paced kernel gives this taper exactly the schedule's doses.
    """
    hours = schedule_mg.size
    if hours == 0 or hours % HOURS_PER_DAY:
        raise InputError("schedule_mg", f"{hours} hours", "a whole number of days (at least one)")
    daily = np.asarray(schedule_mg, dtype=np.float64).reshape(-1, HOURS_PER_DAY)
    changes = np.flatnonzero(np.any(daily[1:] != daily[:-1], axis=1)) + 1
    starts = np.concatenate([[0], changes]).astype(np.int64)
    patterns = daily[starts]
    step_days = np.diff(np.append(starts, daily.shape[0])).astype(np.int64)
    if patterns[-1].any():
        patterns = np.vstack([patterns, np.zeros(HOURS_PER_DAY)])
        step_days = np.append(step_days, 0).astype(np.int64)
    return PacedTaper(np.ascontiguousarray(patterns), step_days)


@numba.njit(cache=True, error_model="numpy")
def _dose_steps(
    st: FloatArray, ist: NDArray[np.int64], ids: NDArray[np.int64], lo: int, m: int,
    pattern: FloatArray, hour: int, seed: int, p_miss: float, p_double: float, occasion: FloatArray,
) -> None:  # fmt: skip
    """Give each subject the dose its step has due at ``hour`` (its own count of due doses keys the
    adherence draw, as the fixed kernel's count of the schedule's doses does)."""
    hour_of_day = hour % HOURS_PER_DAY
    for i in range(m):
        amount = pattern[ist[_STEP * BLOCK + i], hour_of_day]
        if amount > 0.0:
            k = ist[_DOSES_DUE * BLOCK + i]
            _take_dose(st, i, ids[lo + i], amount, hour, k, seed, p_miss, p_double, occasion[i])
            ist[_DOSES_DUE * BLOCK + i] = k + 1
            ist[_LAST_DUE * BLOCK + i] = hour


@numba.njit(inline="always")
def _paced_moderator_hour(
    par: FloatArray, st: FloatArray, scratch: FloatArray, ist: NDArray[np.int64], m: int, hour: int,
    effect_num: float, effect_a: float, effect_b: float, hold: ModeratorHold,
) -> None:  # fmt: skip
    """One moderator hour when some subjects may be just after a dose: the 5-node hold for those that
    are, the 3-node one for the rest. A block that disagrees is stepped both ways and each subject keeps
    its own, so a subject's result never depends on the subjects it shares a block with."""
    fine = 0
    for i in range(m):
        fine += is_fine_hour(hour, ist[_LAST_DUE * BLOCK + i])
    time_h = hour + STEP_H
    if fine == 0:
        _hour(par, st, time_h, effect_num, effect_a, effect_b, hold)
        return
    if fine < m:
        scratch[:] = st
        _hour(par, scratch, time_h, effect_num, effect_a, effect_b, hold)
    _hour_fine(par, st, time_h, effect_num, effect_a, effect_b, hold)
    if fine < m:
        for i in range(m):
            if not is_fine_hour(hour, ist[_LAST_DUE * BLOCK + i]):
                for row in range(_N_STATE):
                    st[row * BLOCK + i] = scratch[row * BLOCK + i]


@numba.njit(inline="always")
def _symptom_pace(
    pacing: PacingConstants, day: int, measure: float, days_on_step: int, planned_days: int,
    has_baseline: bool, baseline: float, holds_since_slow: int, stretch: float,
) -> int:  # fmt: skip
    """``benzokit.plan.pacing._symptom_pace``, rule for rule and in the same order."""
    if day + 1 > pacing.max_duration_days:
        return _OVERDUE
    if measure >= pacing.ask_clinician_at:
        return _REFER
    if days_on_step < pacing.settle_days:
        return _WAIT
    if has_baseline and measure - baseline >= pacing.hold_rise:
        return _SLOW if holds_since_slow + 1 >= pacing.slow_after_holds else _HOLD
    # np.ceil keeps a float: a stretch slowed many times overflows an integer (Python's does not)
    due = days_on_step >= np.ceil(planned_days * stretch)
    return _ADVANCE if due else _WAIT


@numba.njit(cache=True, error_model="numpy")
def _decide(
    st: FloatArray, ist: NDArray[np.int64], fst: FloatArray, ids: NDArray[np.int64], lo: int,
    m: int, day: int, step_days: NDArray[np.int64], pacing: PacingConstants, seed: int,
    step_start: NDArray[np.int64],
) -> None:  # fmt: skip
    """The decisions at the end of plan day ``day`` (a check-in day; every day for a fixed calendar)."""
    last_step = step_days.size - 1
    for i in range(m):
        step = ist[_STEP * BLOCK + i]
        if step == last_step:
            continue
        days_on_step = day + 1 - ist[_STEP_START * BLOCK + i]
        planned_days = step_days[step]
        measure = st[_DAY_W * BLOCK + i]
        if pacing.adaptive:
            z = normal(seed, OBSERVATION_STREAM, ids[lo + i], day)
            measure += pacing.observation_noise_sd * z
            pace = _symptom_pace(
                pacing, day, measure, days_on_step, planned_days, step > 0,
                fst[_BASELINE * BLOCK + i], ist[_HOLDS_SINCE_SLOW * BLOCK + i],
                fst[_STRETCH * BLOCK + i],
            )  # fmt: skip
        else:
            pace = _ADVANCE if days_on_step >= planned_days else _WAIT
        if pace == _ADVANCE:
            ist[_STEP * BLOCK + i] = step + 1
            ist[_STEP_START * BLOCK + i] = day + 1
            fst[_BASELINE * BLOCK + i] = measure
            ist[_HOLDS_SINCE_SLOW * BLOCK + i] = 0
            if step + 1 == last_step:
                ist[_TAPER_DAY * BLOCK + i] = day + 1
            if step_start.shape[0]:
                step_start[lo + i, step + 1] = day + 1
        elif pace == _HOLD:
            ist[_HOLDS * BLOCK + i] += 1
            ist[_HOLDS_SINCE_SLOW * BLOCK + i] += 1
        elif pace == _SLOW:
            ist[_HOLDS * BLOCK + i] += 1
            ist[_HOLDS_SINCE_SLOW * BLOCK + i] = 0
            fst[_STRETCH * BLOCK + i] *= pacing.slow_factor
            ist[_SLOWDOWNS * BLOCK + i] += 1
        elif pace == _REFER:
            ist[_REFERRALS * BLOCK + i] += 1


@numba.njit(cache=True, error_model="numpy")
def _start_pacing(ist: NDArray[np.int64], fst: FloatArray, last_step: int) -> None:
    """Every subject on step 0 from day 0 (done on day 0 if that is the 0 mg step), no due dose yet,
    nothing to compare with, as planned."""
    ist[:] = 0
    ist[_TAPER_DAY * BLOCK : (_TAPER_DAY + 1) * BLOCK] = 0 if last_step == 0 else _NOT_YET
    ist[_LAST_DUE * BLOCK : (_LAST_DUE + 1) * BLOCK] = _NO_DOSE_YET
    fst[_BASELINE * BLOCK : (_BASELINE + 1) * BLOCK] = np.nan
    fst[_STRETCH * BLOCK : (_STRETCH + 1) * BLOCK] = 1.0


@numba.njit(cache=True, error_model="numpy")
def _write_pacing(out: FloatArray, ist: NDArray[np.int64], lo: int, m: int, days: int) -> None:
    """The block's per-subject pacing columns, by :class:`PacingMetric`."""
    for i in range(m):
        row = lo + i
        taper_day = ist[_TAPER_DAY * BLOCK + i]
        completed = taper_day != _NOT_YET
        out[row, PacingMetric.TAPER_DAYS] = taper_day if completed else days
        out[row, PacingMetric.TAPER_COMPLETED] = 1.0 if completed else 0.0
        out[row, PacingMetric.HOLDS] = ist[_HOLDS * BLOCK + i]
        out[row, PacingMetric.SLOWDOWNS] = ist[_SLOWDOWNS * BLOCK + i]
        out[row, PacingMetric.REFERRALS] = ist[_REFERRALS * BLOCK + i]


@numba.njit(cache=True, error_model="numpy")
def _dose_hours(pattern: FloatArray) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """The hours of the day on which some step has a dose due, and those that may be stepped fine."""
    due = np.zeros(HOURS_PER_DAY, dtype=np.bool_)
    fine = np.zeros(HOURS_PER_DAY, dtype=np.bool_)
    for step in range(pattern.shape[0]):
        for hour in range(HOURS_PER_DAY):
            if pattern[step, hour] > 0.0:
                due[hour] = True
                for after in range(FINE_HOURS_AFTER_DOSE):
                    fine[(hour + after) % HOURS_PER_DAY] = True
    return due, fine


@numba.njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def _run_paced(
    pk: SubjectPK, pattern: FloatArray, step_days: NDArray[np.int64], dosing: Dosing,
    effect: EffectConstants, model: int, moderator: ModeratorHold, feedback_hold: FeedbackHold,
    threshold: float, bands: BandSelection, pacing: PacingConstants, days: int,
    step_start: NDArray[np.int64],
) -> tuple[FloatArray, FloatArray, FloatArray]:  # fmt: skip
    """Per-subject summaries, pacing columns and band series (see :class:`PacedOutput`)."""
    feedback = model == TURNOVER_FEEDBACK
    n_sub = feedback_hold.substeps if feedback else 1
    baseline = 1.0 if feedback else 0.0  # adaptation state of the drug-naive subject
    n = pk.subject_id.size
    hours = days * HOURS_PER_DAY
    metrics = np.zeros((n, N_METRICS))
    pacing_out = np.zeros((n, N_PACING_METRICS))
    band_out = np.zeros((max(bands.rows, 1), days, N_BAND_SERIES))
    due_hour, fine_hour = _dose_hours(pattern)
    effect_num, effect_a, effect_b = effect_terms(effect)
    seed, iov_sd = dosing.seed, dosing.bioavailability_iov_sd
    p_miss, p_double = dosing.missed_fraction, dosing.doubled_fraction
    n_blocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(n_blocks):
        lo = b * BLOCK
        m = min(n, lo + BLOCK) - lo
        par = np.zeros(_N_PAR * BLOCK)
        st = np.zeros(_N_STATE * BLOCK)
        scratch = np.zeros(_N_STATE * BLOCK)
        ist = np.zeros(_N_INT * BLOCK, dtype=np.int64)
        fst = np.zeros(_N_FLOAT * BLOCK)
        _load_block(par, st, pk, lo, m, n_sub, baseline)
        _start_pacing(ist, fst, step_days.size - 1)
        occasion = np.ones(BLOCK)
        for hour in range(hours):
            hour_of_day = hour % HOURS_PER_DAY
            if iov_sd > 0.0 and hour_of_day == 0:
                _occasion_factors(
                    occasion, pk.subject_id, lo, m, hour // HOURS_PER_DAY, seed, iov_sd
                )
            if due_hour[hour_of_day]:
                _dose_steps(
                    st, ist, pk.subject_id, lo, m, pattern, hour, seed, p_miss, p_double, occasion
                )
            if feedback:
                _hour_feedback(
                    par, st, hour + STEP_H, effect_num, effect_a, effect_b, feedback_hold
                )
            elif fine_hour[hour_of_day]:
                _paced_moderator_hour(
                    par, st, scratch, ist, m, hour, effect_num, effect_a, effect_b, moderator
                )
            else:
                _hour(par, st, hour + STEP_H, effect_num, effect_a, effect_b, moderator)
            if hour_of_day == HOURS_PER_DAY - 1:
                day = hour // HOURS_PER_DAY
                if not pacing.adaptive or (day + 1) % pacing.checkin_interval_days == 0:
                    _decide(
                        st, ist, fst, pk.subject_id, lo, m, day, step_days, pacing, seed,
                        step_start,
                    )  # fmt: skip
                _end_day(st, band_out, bands, lo, m, day, threshold)
        _write_metrics(metrics, st, lo, m, hours, baseline, effect)
        _write_pacing(pacing_out, ist, lo, m, days)
    return metrics, pacing_out, band_out


def _checked_taper(taper: PacedTaper) -> PacedTaper:
    pattern = np.ascontiguousarray(taper.step_pattern_mg, dtype=np.float64)
    step_days = np.ascontiguousarray(taper.step_days, dtype=np.int64)
    if pattern.ndim != 2 or pattern.shape[0] < 1 or pattern.shape[1] != HOURS_PER_DAY:
        raise InputError(
            "taper.step_pattern_mg", f"shape {pattern.shape}", "(steps, 24) with at least one step"
        )
    if step_days.shape != (pattern.shape[0],):
        raise InputError(
            "taper.step_days", f"shape {step_days.shape}", f"one per step ({pattern.shape[0]},)"
        )
    if not np.all(np.isfinite(pattern)) or np.any(pattern < 0.0) or np.any(pattern[-1] != 0.0):
        raise InputError(
            "taper.step_pattern_mg", "the given doses", "finite mg >= 0, the last step 0 mg"
        )
    if np.any(step_days < 0):
        raise InputError("taper.step_days", int(step_days.min()), "whole days >= 0")
    return PacedTaper(pattern, step_days)


def run_paced_kernel(
    pk: SubjectPK, taper: PacedTaper, dosing: Dosing, pd: PopulationPD,
    pacing: PacingConstants, bands: BandSelection, days: int, *,
    step_start_day: NDArray[np.int64] | None = None,
) -> PacedOutput:  # fmt: skip
    """Simulate every subject of ``pk`` for ``days`` days on ``taper``, paced by ``pacing``.

    ``dosing.schedule_mg`` is not used (the doses are the taper's); its adherence, day-to-day
    bioavailability and seed are. With the ``fixed`` policy the result is the fixed kernel's on the
    taper's hourly schedule. A subject whose last (0 mg) step is decided at the end of the run's last day
    counts as completed on day ``days``.

    ``step_start_day``, if given (subjects × steps, int64), receives the plan day each subject began each
    step on (−1 for a step not reached).
    """
    if days < 1:
        raise InputError("days", days, "a whole number of days >= 1")
    if pacing.adaptive and pacing.checkin_interval_days < 1:
        raise InputError("pacing.checkin_interval_days", pacing.checkin_interval_days, ">= 1")
    checked = _checked_taper(taper)
    steps = checked.step_days.size
    if step_start_day is None:
        step_start = np.zeros((0, 0), dtype=np.int64)
    elif step_start_day.shape != (pk.subject_id.size, steps) or step_start_day.dtype != np.int64:
        raise InputError(
            "step_start_day", step_start_day.shape, f"int64 of shape (subjects, {steps})"
        )
    else:
        step_start = step_start_day
        step_start[:] = -1
        step_start[:, 0] = 0
    tolerance = pd.tolerance
    metrics, paced, band = _run_paced(
        pk, checked.step_pattern_mg, checked.step_days, dosing, pd.effect, tolerance.model,
        tolerance.moderator, tolerance.feedback, pd.withdrawal_threshold, bands, pacing, days,
        step_start,
    )  # fmt: skip
    return PacedOutput(metrics, paced, band[: bands.rows])
