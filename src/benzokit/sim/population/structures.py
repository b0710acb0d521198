"""The population kernel's named inputs and outputs (numba-compatible NamedTuples and IntEnums).

One definition of every output column: :class:`Metric` (per-subject summaries) and :class:`BandSeries`
(daily series of the band subjects) give the column's index in the kernel's arrays and, through
``.column``, its name in the results files; the kernel writes and every reader reads through them.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from benzokit.types import FloatArray


class Metric(IntEnum):
    """Per-subject summaries: the columns of the kernel's ``metrics`` array, in this order."""

    PEAK_WITHDRAWAL_INDEX = 0
    PEAK_WITHDRAWAL_TIME_H = 1
    DAYS_WITHDRAWAL_ABOVE_THRESHOLD = 2
    AUC_EFFECT_H = 3
    CMAX_NG_ML = 4
    CMEAN_NG_ML = 5
    LAST_DOSE_TIME_H = 6
    FINAL_ADAPTATION = 7
    MAX_OCCUPANCY = 8

    @property
    def column(self) -> str:
        """The column's name in the results files, e.g. ``peak_withdrawal_index``."""
        return self.name.lower()


class BandSeries(IntEnum):
    """Daily series of the band subjects: the last axis of the kernel's ``band`` array."""

    DAILY_MEAN_CONC_NG_ML = 0
    DAILY_MAX_WITHDRAWAL_INDEX = 1

    @property
    def column(self) -> str:
        """The column's name in the results files, e.g. ``daily_mean_conc_ng_ml``."""
        return self.name.lower()


METRICS = tuple(metric.column for metric in Metric)
"""The per-subject summary column names, in kernel order."""
BAND_SERIES = tuple(series.column for series in BandSeries)
"""The band series column names, in kernel order."""
N_METRICS = len(Metric)
N_BAND_SERIES = len(BandSeries)

STEP_H = 1.0
"""The kernel's step: PK and PD states advance exactly from one whole hour to the next."""
MODERATOR = 0
"""``TolerancePD.model`` for the moderator model (``ModeratorHold`` constants)."""
TURNOVER_FEEDBACK = 1
"""``TolerancePD.model`` for the turnover-feedback model (``FeedbackHold`` constants)."""


class SubjectPK(NamedTuple):
    """Each subject's oral unit-dose response C(t) = Σ_j coef[:, j]·exp(−rate_per_h[:, j]·t) per mg."""

    subject_id: NDArray[np.int64]
    coef_ng_ml_per_mg: FloatArray  # (subjects, 3)
    rate_per_h: FloatArray  # (subjects, 3)


class Dosing(NamedTuple):
    """What is taken: the hourly schedule, adherence and day-to-day bioavailability, keyed by ``seed``."""

    schedule_mg: FloatArray  # dose due at each whole hour (0: none)
    seed: int
    missed_fraction: float
    doubled_fraction: float
    bioavailability_iov_sd: float  # SD of log relative bioavailability between days (occasions)


class EffectConstants(NamedTuple):
    """Occupancy = fu·C/(fu·C + c50u); effect = emax·occupancy/(o50 + occupancy)."""

    fraction_unbound: float
    c50_unbound_ng_ml: float
    emax: float
    occupancy_at_half_effect: float


class ModeratorHold(NamedTuple):
    """The moderator's exact hold update over one kernel step (see ``pd_constants.moderator_hold``).

    Scalars only, like every structure the hourly updates receive: a shared array passed on every hour
    would have its reference count updated by all threads at once.
    """

    decay_per_step: float
    start3: float  # 3-node hold weights: start, midpoint and end of the step
    mid3: float
    end3: float
    start5: float  # 5-node hold weights (quarter steps), for the hours just after a dose
    quarter5: float
    mid5: float
    three_quarters5: float
    end5: float

    @property
    def weights3(self) -> FloatArray:
        """The 3-node weights as an array (start, midpoint, end)."""
        return np.array([self.start3, self.mid3, self.end3])

    @property
    def weights5(self) -> FloatArray:
        """The 5-node weights as an array (quarter steps)."""
        return np.array([self.start5, self.quarter5, self.mid5, self.three_quarters5, self.end5])


class FeedbackHold(NamedTuple):
    """The turnover-feedback model's first-order-hold weights per sub-step (feedback exponent 1)."""

    response_decay: float
    response_new: float
    response_old: float
    moderator_decay: float
    moderator_new: float
    moderator_old: float
    substeps: int  # sub-steps per kernel step


class TolerancePD(NamedTuple):
    """The tolerance model the kernel runs (``model``) and its constants; the other model's are unused."""

    model: int  # MODERATOR or TURNOVER_FEEDBACK
    moderator: ModeratorHold
    feedback: FeedbackHold


class PopulationPD(NamedTuple):
    """Occupancy, effect and tolerance constants shared by all subjects of a run."""

    effect: EffectConstants
    tolerance: TolerancePD
    withdrawal_threshold: float  # a day counts when its peak withdrawal index exceeds this


class BandSelection(NamedTuple):
    """Which subjects' daily series are kept: ``slot[i]`` is subject i's row, or −1."""

    slot: NDArray[np.int64]
    rows: int  # band subjects kept

    @classmethod
    def none(cls, subjects: int) -> BandSelection:
        """No band subjects."""
        return cls(np.full(subjects, -1, dtype=np.int64), 0)


class KernelOutput(NamedTuple):
    """Per-subject summaries (subjects × :class:`Metric`) and band series (band subjects × days ×
    :class:`BandSeries`)."""

    metrics: FloatArray
    band: FloatArray

    def metric(self, metric: Metric) -> FloatArray:
        """One summary for every subject."""
        return self.metrics[:, metric]


class PacedTaper(NamedTuple):
    """A taper as steps: what is due at each hour of the day on each step, and each step's planned days.

    Step 0 is the first step (the run-in at the starting dose, if any); the last step is 0 mg (the taper
    is complete on the day it starts) and its planned days are unused.
    """

    step_pattern_mg: FloatArray  # (steps, 24): mg due at each whole hour of the day on each step
    step_days: NDArray[np.int64]  # (steps,): planned days of each step


class PacingConstants(NamedTuple):
    """A pacing policy's rules as numba-friendly scalars (see ``benzokit.plan.pacing.PacingPolicy``).

    Days are whole days; ``hold_rise``, ``ask_clinician_at`` and ``observation_noise_sd`` are fractions of
    the watched measure's range (in silico: the withdrawal index, 0..1). Unused when not ``adaptive``.
    """

    adaptive: bool
    checkin_interval_days: int
    settle_days: int
    hold_rise: float
    slow_after_holds: int
    slow_factor: float
    ask_clinician_at: float
    max_duration_days: int
    observation_noise_sd: float


class PacingMetric(IntEnum):
    """The paced kernel's extra per-subject columns (the ``pacing`` array), in this order."""

    TAPER_DAYS = (
        0  # the day the 0 mg step starts (from day 0 of the run); the run's days if censored
    )
    TAPER_COMPLETED = 1  # 1 if the 0 mg step started within the run, else 0 (censored)
    HOLDS = 2  # check-ins that held the dose (slowdowns included)
    SLOWDOWNS = 3  # holds that also lengthened the remaining steps
    REFERRALS = 4  # check-ins handed to the clinician (the dose kept)

    @property
    def column(self) -> str:
        """The column's name in the results files, e.g. ``taper_days``."""
        return self.name.lower()


PACING_METRICS = tuple(metric.column for metric in PacingMetric)
"""The paced kernel's extra column names, in kernel order."""
N_PACING_METRICS = len(PacingMetric)


class PacedOutput(NamedTuple):
    """The paced kernel's output: ``metrics`` and ``band`` as :class:`KernelOutput`'s, and ``pacing``
    (subjects × :class:`PacingMetric`)."""

    metrics: FloatArray
    pacing: FloatArray
    band: FloatArray
