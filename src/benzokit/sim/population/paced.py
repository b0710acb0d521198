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

from collections.abc import Sequence
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
    _take_dose,
    _write_metrics,
    checked_occasions,
    day_occasions,
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


@numba.njit(inline="always")
def _paced_hour(
    par: FloatArray, st: FloatArray, scratch: FloatArray, ist: NDArray[np.int64],
    ids: NDArray[np.int64], lo: int, m: int, pattern: FloatArray, hour: int,
    due_hour: NDArray[np.bool_], fine_hour: NDArray[np.bool_], feedback: bool, dosing: Dosing,
    occasion: FloatArray, effect: tuple[float, float, float], moderator: ModeratorHold,
    feedback_hold: FeedbackHold,
) -> None:  # fmt: skip
    """The block's doses due at ``hour`` and its PK/PD over the hour."""
    hour_of_day = hour % HOURS_PER_DAY
    effect_num, effect_a, effect_b = effect
    if due_hour[hour_of_day]:
        _dose_steps(
            st, ist, ids, lo, m, pattern, hour, dosing.seed, dosing.missed_fraction,
            dosing.doubled_fraction, occasion,
        )  # fmt: skip
    if feedback:
        _hour_feedback(par, st, hour + STEP_H, effect_num, effect_a, effect_b, feedback_hold)
    elif fine_hour[hour_of_day]:
        _paced_moderator_hour(
            par, st, scratch, ist, m, hour, effect_num, effect_a, effect_b, moderator
        )
    else:
        _hour(par, st, hour + STEP_H, effect_num, effect_a, effect_b, moderator)


def _policy_table(policies: Sequence[PacingConstants]) -> tuple[NDArray[np.int64], FloatArray]:
    """Policies as two arrays (a parallel kernel cannot take a tuple of named tuples): per policy its
    integer rules and its fractional ones, read back by ``_policy``."""
    ints = np.array(
        [
            [p.adaptive, p.checkin_interval_days, p.settle_days, p.slow_after_holds,
             p.max_duration_days]
            for p in policies
        ],
        dtype=np.int64,
    )  # fmt: skip
    floats = np.array(
        [
            [p.hold_rise, p.slow_factor, p.ask_clinician_at, p.observation_noise_sd]
            for p in policies
        ],
        dtype=np.float64,
    )
    return ints.reshape(-1, 5), floats.reshape(-1, 4)


@numba.njit(inline="always")
def _policy(ints: NDArray[np.int64], floats: FloatArray, k: int) -> PacingConstants:
    """Policy ``k`` of a ``_policy_table``."""
    return PacingConstants(
        adaptive=ints[k, 0] != 0,
        checkin_interval_days=ints[k, 1],
        settle_days=ints[k, 2],
        hold_rise=floats[k, 0],
        slow_after_holds=ints[k, 3],
        slow_factor=floats[k, 1],
        ask_clinician_at=floats[k, 2],
        max_duration_days=ints[k, 4],
        observation_noise_sd=floats[k, 3],
    )


@numba.njit(inline="always")
def _checks_in(pacing: PacingConstants, day: int) -> bool:
    """Whether the policy decides at the end of plan day ``day`` (a fixed calendar: every day)."""
    return not pacing.adaptive or (day + 1) % pacing.checkin_interval_days == 0


@numba.njit(cache=True, error_model="numpy")
def _part_ways(
    st: FloatArray, ist: NDArray[np.int64], ist_f: NDArray[np.int64], fst_f: FloatArray, lo: int,
    m: int, day: int, parted: NDArray[np.int64], snap_st: FloatArray, snap_int: NDArray[np.int64],
    snap_float: FloatArray,
) -> None:  # fmt: skip
    """After plan day ``day``: each subject a follower policy now has on another step than the leader's
    parts on that day; its state (the shared PK/PD, the follower's pacing) is kept to resume from."""
    for i in range(m):
        row = lo + i
        if parted[row] >= 0 or ist_f[_STEP * BLOCK + i] == ist[_STEP * BLOCK + i]:
            continue
        parted[row] = day
        for r in range(_N_STATE):
            snap_st[row, r] = st[r * BLOCK + i]
        for r in range(_N_INT):
            snap_int[row, r] = ist_f[r * BLOCK + i]
        # the doses so far were the leader's (the follower does not count them while it follows)
        snap_int[row, _DOSES_DUE] = ist[_DOSES_DUE * BLOCK + i]
        snap_int[row, _LAST_DUE] = ist[_LAST_DUE * BLOCK + i]
        for r in range(_N_FLOAT):
            snap_float[row, r] = fst_f[r * BLOCK + i]


@numba.njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def _run_paced(
    pk: SubjectPK, pattern: FloatArray, step_days: NDArray[np.int64], dosing: Dosing,
    effect: EffectConstants, model: int, moderator: ModeratorHold, feedback_hold: FeedbackHold,
    threshold: float, bands: BandSelection, policy_ints: NDArray[np.int64], policy_floats: FloatArray,
    days: int, step_start: NDArray[np.int64], occasions: FloatArray,
) -> tuple[
    FloatArray, FloatArray, FloatArray, NDArray[np.int64], FloatArray, NDArray[np.int64], FloatArray
]:  # fmt: skip
    """Per-subject summaries, pacing columns (policies × subjects × PacingMetric) and band series of
    policy 0 of the ``_policy_table`` (the leader); and where each other policy (a follower) parted
    from it.

    A follower's decisions are taken alongside the leader's on the same simulated subject; while they
    keep the subject on the leader's step, its doses and so its PK/PD are the leader's. The day they
    first do not (−1: never) and the state then are returned per follower, to resume from
    (``_resume_paced``); until then the follower's rows are the leader's.
    """
    feedback = model == TURNOVER_FEEDBACK
    n_sub = feedback_hold.substeps if feedback else 1
    baseline = 1.0 if feedback else 0.0  # adaptation state of the drug-naive subject
    n = pk.subject_id.size
    n_follow = policy_ints.shape[0] - 1
    hours = days * HOURS_PER_DAY
    last_step = step_days.size - 1
    metrics = np.zeros((n, N_METRICS))
    pacing_out = np.zeros((n_follow + 1, n, N_PACING_METRICS))
    band_out = np.zeros((max(bands.rows, 1), days, N_BAND_SERIES))
    parted = np.full((n_follow, n), -1, dtype=np.int64)
    snap_st = np.zeros((n_follow, n, _N_STATE))
    snap_int = np.zeros((n_follow, n, _N_INT), dtype=np.int64)
    snap_float = np.zeros((n_follow, n, _N_FLOAT))
    no_step_start = np.zeros((0, 0), dtype=np.int64)
    due_hour, fine_hour = _dose_hours(pattern)
    effect_terms_ = effect_terms(effect)
    iov_sd = dosing.bioavailability_iov_sd
    n_blocks = (n + BLOCK - 1) // BLOCK
    for b in numba.prange(n_blocks):
        lo = b * BLOCK
        m = min(n, lo + BLOCK) - lo
        par = np.zeros(_N_PAR * BLOCK)
        st = np.zeros(_N_STATE * BLOCK)
        scratch = np.zeros(_N_STATE * BLOCK)
        ist = np.zeros((n_follow + 1, _N_INT * BLOCK), dtype=np.int64)
        fst = np.zeros((n_follow + 1, _N_FLOAT * BLOCK))
        _load_block(par, st, pk, lo, m, n_sub, baseline)
        for k in range(n_follow + 1):
            _start_pacing(ist[k], fst[k], last_step)
        occasion = np.ones(BLOCK)
        for hour in range(hours):
            if iov_sd > 0.0 and hour % HOURS_PER_DAY == 0:
                day_occasions(
                    occasion, occasions, pk.subject_id, lo, m, hour // HOURS_PER_DAY, dosing.seed,
                    iov_sd,
                )  # fmt: skip
            _paced_hour(
                par, st, scratch, ist[0], pk.subject_id, lo, m, pattern, hour, due_hour,
                fine_hour, feedback, dosing, occasion, effect_terms_, moderator, feedback_hold,
            )  # fmt: skip
            if hour % HOURS_PER_DAY == HOURS_PER_DAY - 1:
                day = hour // HOURS_PER_DAY
                for k in range(n_follow + 1):
                    rules = _policy(policy_ints, policy_floats, k)
                    if _checks_in(rules, day):
                        _decide(
                            st, ist[k], fst[k], pk.subject_id, lo, m, day, step_days, rules,
                            dosing.seed, step_start if k == 0 else no_step_start,
                        )  # fmt: skip
                _end_day(st, band_out, bands, lo, m, day, threshold)
                for k in range(n_follow):
                    _part_ways(
                        st, ist[0], ist[k + 1], fst[k + 1], lo, m, day, parted[k], snap_st[k],
                        snap_int[k], snap_float[k],
                    )  # fmt: skip
        _write_metrics(metrics, st, lo, m, hours, baseline, effect)
        for k in range(n_follow + 1):
            _write_pacing(pacing_out[k], ist[k], lo, m, days)
    return metrics, pacing_out, band_out, parted, snap_st, snap_int, snap_float


@numba.njit(cache=True, error_model="numpy")
def _rejoin(
    st: FloatArray, ist: NDArray[np.int64], fst: FloatArray, lo: int, m: int, day: int,
    resume_day: NDArray[np.int64], snap_st: FloatArray, snap_int: NDArray[np.int64],
    snap_float: FloatArray, live_slot: NDArray[np.int64], slot: NDArray[np.int64],
) -> None:  # fmt: skip
    """At the start of plan day ``day``: the subjects resuming then take their kept state (and their
    band rows are written from then on)."""
    for i in range(m):
        row = lo + i
        if resume_day[row] != day:
            continue
        for r in range(_N_STATE):
            st[r * BLOCK + i] = snap_st[row, r]
        for r in range(_N_INT):
            ist[r * BLOCK + i] = snap_int[row, r]
        for r in range(_N_FLOAT):
            fst[r * BLOCK + i] = snap_float[row, r]
        live_slot[row] = slot[row]


@numba.njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def _resume_paced(
    pk: SubjectPK, pattern: FloatArray, step_days: NDArray[np.int64], dosing: Dosing,
    effect: EffectConstants, model: int, moderator: ModeratorHold, feedback_hold: FeedbackHold,
    threshold: float, slot: NDArray[np.int64], band_out: FloatArray, pacing: PacingConstants,
    days: int, resume_day: NDArray[np.int64], snap_st: FloatArray, snap_int: NDArray[np.int64],
    snap_float: FloatArray, occasions: FloatArray,
) -> tuple[FloatArray, FloatArray]:  # fmt: skip
    """``_run_paced`` for subjects resuming on their own from kept states, each on its ``resume_day``
    (ascending): the summaries and pacing columns, and ``band_out`` written from each one's resume day.

    A block starts on its first subject's resume day; a subject not yet resumed is stepped on a
    placeholder state that is overwritten when it resumes (a subject's hours never depend on the
    others' in its block).
    """
    feedback = model == TURNOVER_FEEDBACK
    n_sub = feedback_hold.substeps if feedback else 1
    baseline = 1.0 if feedback else 0.0
    n = pk.subject_id.size
    hours = days * HOURS_PER_DAY
    metrics = np.zeros((n, N_METRICS))
    pacing_out = np.zeros((n, N_PACING_METRICS))
    live_slot = np.full(n, -1, dtype=np.int64)
    live = BandSelection(live_slot, band_out.shape[0])
    no_step_start = np.zeros((0, 0), dtype=np.int64)
    due_hour, fine_hour = _dose_hours(pattern)
    effect_terms_ = effect_terms(effect)
    iov_sd = dosing.bioavailability_iov_sd
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
        for hour in range(resume_day[lo] * HOURS_PER_DAY, hours):
            if hour % HOURS_PER_DAY == 0:
                _rejoin(
                    st, ist, fst, lo, m, hour // HOURS_PER_DAY, resume_day, snap_st, snap_int,
                    snap_float, live_slot, slot,
                )  # fmt: skip
                if iov_sd > 0.0:
                    day_occasions(
                        occasion, occasions, pk.subject_id, lo, m, hour // HOURS_PER_DAY,
                        dosing.seed, iov_sd,
                    )  # fmt: skip
            _paced_hour(
                par, st, scratch, ist, pk.subject_id, lo, m, pattern, hour, due_hour, fine_hour,
                feedback, dosing, occasion, effect_terms_, moderator, feedback_hold,
            )  # fmt: skip
            if hour % HOURS_PER_DAY == HOURS_PER_DAY - 1:
                day = hour // HOURS_PER_DAY
                if _checks_in(pacing, day):
                    _decide(
                        st, ist, fst, pk.subject_id, lo, m, day, step_days, pacing, dosing.seed,
                        no_step_start,
                    )  # fmt: skip
                _end_day(st, band_out, live, lo, m, day, threshold)
        # parted on the run's last day: nothing left to simulate
        _rejoin(
            st, ist, fst, lo, m, days, resume_day, snap_st, snap_int, snap_float, live_slot, slot
        )
        _write_metrics(metrics, st, lo, m, hours, baseline, effect)
        _write_pacing(pacing_out, ist, lo, m, days)
    return metrics, pacing_out


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


def _checked_run(taper: PacedTaper, pacing: Sequence[PacingConstants], days: int) -> PacedTaper:
    if days < 1:
        raise InputError("days", days, "a whole number of days >= 1")
    for rules in pacing:
        if rules.adaptive and rules.checkin_interval_days < 1:
            raise InputError("pacing.checkin_interval_days", rules.checkin_interval_days, ">= 1")
    return _checked_taper(taper)


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
    checked = _checked_run(taper, (pacing,), days)
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
    metrics, paced, band, *_ = _run_paced(
        pk, checked.step_pattern_mg, checked.step_days, dosing, pd.effect, tolerance.model,
        tolerance.moderator, tolerance.feedback, pd.withdrawal_threshold, bands,
        *_policy_table((pacing,)), days, step_start, np.zeros((0, 0)),
    )  # fmt: skip
    return PacedOutput(metrics, paced[0], band[: bands.rows])


def run_paced_policies(
    pk: SubjectPK, taper: PacedTaper, dosing: Dosing, pd: PopulationPD,
    policies: Sequence[PacingConstants], bands: BandSelection, days: int, *,
    occasions: FloatArray | None = None,
) -> tuple[PacedOutput, ...]:  # fmt: skip
    """``run_paced_kernel`` for each of ``policies`` on the same taper and dosing, exactly (every
    column equal), simulating once what the policies share.

    One policy leads (the first fixed calendar, else the first); a subject is simulated once for all
    the policies that keep it on the leader's step, and on its own for a policy only from the day that
    policy's decision first differs. Policies that rarely depart from the leader (a symptom-guided
    policy whose check-ins fall on the plan's step days holds only a few subjects) then cost little more
    than their decisions.

    ``occasions``: the subjects' :func:`~benzokit.sim.population.kernel.occasion_table`, if drawn.
    """
    if not policies:
        return ()
    checked = _checked_run(taper, policies, days)
    table = checked_occasions(occasions, days, pk.subject_id.size)
    order = sorted(range(len(policies)), key=lambda k: (bool(policies[k].adaptive), k))
    ordered = tuple(policies[k] for k in order)
    tolerance = pd.tolerance
    model = (
        pd.effect, tolerance.model, tolerance.moderator, tolerance.feedback, pd.withdrawal_threshold
    )  # fmt: skip
    pattern, step_days = checked.step_pattern_mg, checked.step_days
    metrics, pacing, band, parted, snap_st, snap_int, snap_float = _run_paced(
        pk, pattern, step_days, dosing, *model, bands, *_policy_table(ordered), days,
        np.zeros((0, 0), np.int64), table,
    )  # fmt: skip
    outputs = [PacedOutput(metrics, pacing[0], band[: bands.rows])]
    for k, rules in enumerate(ordered[1:]):
        rows = np.flatnonzero(parted[k] >= 0)
        rows = rows[np.argsort(parted[k][rows], kind="stable")]
        own_metrics, own_pacing, own_band = metrics.copy(), pacing[k + 1], band.copy()
        if rows.size:
            part = SubjectPK(pk.subject_id[rows], pk.coef_ng_ml_per_mg[rows], pk.rate_per_h[rows])
            resumed_metrics, resumed_pacing = _resume_paced(
                part, pattern, step_days, dosing, *model, bands.slot[rows], own_band, rules, days,
                parted[k][rows] + 1, snap_st[k][rows], snap_int[k][rows], snap_float[k][rows],
                table[:, rows] if table.size else table,
            )  # fmt: skip
            own_metrics[rows] = resumed_metrics
            own_pacing[rows] = resumed_pacing
        outputs.append(PacedOutput(own_metrics, own_pacing, own_band[: bands.rows]))
    by_policy: list[PacedOutput | None] = [None] * len(policies)
    for position, k in enumerate(order):
        by_policy[k] = outputs[position]
    return tuple(output for output in by_policy if output is not None)
