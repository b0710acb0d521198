"""The model's view of a course: predicted GABA-A occupancy and withdrawal index, day by day.

The typical patient (with their weight and co-medications) is simulated on the doses of the course as
planned (pauses included) with exact PK and the PD model (occupancy, moderator tolerance). Before the
course the patient is taken to have been on the first dose long enough to be adapted: a run-in of six
adaptation half-lives (``drugs/data/pd.toml``). Plans that switch drug are not predicted (the PD model is
one drug at a time), and say so.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from benzokit.drugs.loader import load_drug
from benzokit.knowledge import Knowledge
from benzokit.monitor.course import Course
from benzokit.patient import Patient
from benzokit.pd.params import load_pd_parameters
from benzokit.plan.model import Administration, regimen_of_days
from benzokit.regimen.regimen import Regimen
from benzokit.sim.grid import TimeGrid
from benzokit.sim.pd import simulate_pd
from benzokit.sim.simulate import simulate

RUN_IN_HALF_LIVES = 6  # adaptation within 2^-6 (under 2 %) of its steady state


@dataclass(frozen=True, slots=True)
class CoursePrediction:
    """Daily series from ``first_day``: planned mg/day, mean occupancy, peak withdrawal index."""

    first_day: date
    daily_dose_mg: tuple[float, ...]
    occupancy: tuple[float, ...] | None
    withdrawal_index: tuple[float, ...] | None
    note: str = ""

    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range(len(self.daily_dose_mg))]


def _regimen(patterns: list[tuple[Administration, ...]], drug: str) -> Regimen:
    """Consecutive days of the same doses as phases (days without doses at the end are left out)."""
    runs = [(doses, len(list(run))) for doses, run in itertools.groupby(patterns)]
    return regimen_of_days(runs, drug)


def run_in_days(knowledge: Knowledge | None = None) -> int:
    """Days on the first dose before the course: six moderator half-lives (``pd.toml``)."""
    half_life = load_pd_parameters(knowledge).tolerance.moderator.half_life_days.require()
    return math.ceil(RUN_IN_HALF_LIVES * half_life)


def predict_course(
    course: Course,
    first_day: date,
    last_day: date,
    patient: Patient,
    knowledge: Knowledge | None = None,
) -> CoursePrediction:
    """Daily predictions for ``first_day`` … ``last_day`` (inclusive)."""
    days = [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    patterns = [course.doses_on(d) for d in days]
    daily = tuple(sum(a.dose_mg for a in p) for p in patterns)
    drugs = {a.drug for p in patterns for a in p}
    if len(drugs) != 1:
        note = "no prediction: the plan switches drug" if drugs else "no doses to predict"
        return CoursePrediction(first_day, daily, None, None, note)
    drug = load_drug(drugs.pop(), knowledge)
    first = next(p for p in patterns if p)
    dosed = [i for i, p in enumerate(patterns) if p]
    if len(dosed) != dosed[-1] - dosed[0] + 1:
        return CoursePrediction(
            first_day, daily, None, None, "no prediction: days without doses mid-course"
        )
    patterns = [first] * dosed[0] + patterns[dosed[0] :]
    lead = run_in_days(knowledge)
    regimen = _regimen([first] * lead + patterns, drug.name)
    hours = (lead + len(days)) * 24.0
    pk = simulate(drug, regimen, grid=TimeGrid(hours, 1.0), patient=patient)
    pd = simulate_pd(pk, drug)
    start = lead * 24
    occupancy = pd.occupancy[start : start + len(days) * 24].reshape(len(days), 24).mean(axis=1)
    withdrawal = (
        pd.withdrawal_index[start : start + len(days) * 24].reshape(len(days), 24).max(axis=1)
    )
    return CoursePrediction(
        first_day,
        daily,
        tuple(float(x) for x in np.round(occupancy, 6)),
        tuple(float(x) for x in np.round(withdrawal, 6)),
        "typical patient: exact PK, GABA-A occupancy and moderator tolerance (pd.toml); "
        "a model to compare with, not a symptom forecast",
    )
