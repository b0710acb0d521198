"""PD behaviour the literature describes (issue 3, "done when"):

- tolerance develops over days to weeks on steady dosing (Fujita 1999: changes over 1-2 weeks;
  clinical-facts.md section 4);
- a faster taper (the same dose steps, each held for less time) gives a larger peak withdrawal index;
- withdrawal after a cut starts later for long-acting clonazepam than for lorazepam (ASAM patient guide:
  withdrawal may appear up to a week after a reduction of a long-acting drug).
"""

from __future__ import annotations

import numpy as np
import pytest

from benzokit import TimeGrid, load_drug, parse_regimen, simulate
from benzokit.pd import ToleranceModelName
from benzokit.pd.occupancy import half_occupancy_daily_dose_mg
from benzokit.pd.params import load_pd_parameters
from benzokit.sim.pd import simulate_pd

TOLERANCE_MODELS = list(ToleranceModelName)
OCCUPANCY_SETS = ["fujita1999", "horowitz_maudsley"]


def _pd(
    drug: str, regimen: str, days: float, tolerance: ToleranceModelName, occupancy_set: str
) -> object:
    entry = load_drug(drug)
    pk = simulate(entry, parse_regimen(regimen), grid=TimeGrid.days(days, 0.25))
    return pk, simulate_pd(pk, entry, occupancy_set=occupancy_set, tolerance=tolerance)


def test_the_two_occupancy_anchors_disagree_by_about_a_hundredfold() -> None:
    """clinical-facts.md section 3: Fujita 1999 vs the Maudsley claim differ by ~100-fold."""
    drug, params = load_drug("clonazepam"), load_pd_parameters()
    fujita = half_occupancy_daily_dose_mg(drug, params.occupancy_sets["fujita1999"])
    horowitz = half_occupancy_daily_dose_mg(drug, params.occupancy_sets["horowitz_maudsley"])
    assert 50 <= fujita / horowitz <= 300


@pytest.mark.parametrize("tolerance", TOLERANCE_MODELS)
@pytest.mark.parametrize("occupancy_set", OCCUPANCY_SETS)
def test_tolerance_develops_over_days_to_weeks(
    tolerance: ToleranceModelName, occupancy_set: str
) -> None:
    pk, pd = _pd("clonazepam", "1 mg bid", 42, tolerance, occupancy_set)
    t_days = pk.time_h / 24  # type: ignore[attr-defined]
    adaptation = pd.adaptation  # type: ignore[attr-defined]
    final = adaptation[-1]
    assert final > 0
    assert adaptation[np.searchsorted(t_days, 1.0)] < 0.35 * final
    assert adaptation[np.searchsorted(t_days, 28.0)] > 0.85 * final


@pytest.mark.parametrize("tolerance", TOLERANCE_MODELS)
@pytest.mark.parametrize("occupancy_set", OCCUPANCY_SETS)
def test_a_faster_taper_of_the_same_length_gives_more_withdrawal(
    tolerance: ToleranceModelName, occupancy_set: str
) -> None:
    """The same dose steps (0.75, 0.5, 0.25, 0.125 mg bid, then none) every 3 vs every 14 days."""

    def taper(step_days: int) -> str:
        steps = ", then ".join(
            f"{dose} mg bid x {step_days} days" for dose in (0.75, 0.5, 0.25, 0.125)
        )
        return f"1 mg bid x 42 days, then {steps}"

    _, fast = _pd("clonazepam", taper(3), 42 + 4 * 14 + 21, tolerance, occupancy_set)
    _, slow = _pd("clonazepam", taper(14), 42 + 4 * 14 + 21, tolerance, occupancy_set)
    assert fast.withdrawal_index.max() > slow.withdrawal_index.max()  # type: ignore[attr-defined]


@pytest.mark.parametrize("tolerance", TOLERANCE_MODELS)
def test_withdrawal_peaks_later_for_clonazepam_than_for_lorazepam(
    tolerance: ToleranceModelName,
) -> None:
    stop_day = 30.0
    peaks = {}
    for drug, dose in (("clonazepam", "1 mg bid"), ("lorazepam", "2 mg bid")):
        pk, pd = _pd(drug, f"{dose} x {stop_day:g} days", 45, tolerance, "fujita1999")
        t_days = pk.time_h / 24  # type: ignore[attr-defined]
        peaks[drug] = t_days[np.argmax(pd.withdrawal_index)] - stop_day  # type: ignore[attr-defined]
    assert peaks["clonazepam"] > peaks["lorazepam"] + 1.0
