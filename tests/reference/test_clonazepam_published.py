"""Clonazepam default model against published human PK observations.

Sources (see also src/benzokit/drugs/data/clonazepam.toml):
- Crevoisier C et al., Eur Neurol 2003;49:173-177 (n = 12, 2 mg p.o.): Cmax 14.9 ng/mL, tmax 1.7 h,
  AUC0-inf 561 ng·h/mL, t½ 39.0 h.
- Chauhan BL et al., J Assoc Physicians India 2000;48:985 (n = 12, 2 mg): Cmax 16.3 ± 3.1 and
  19.8 ± 6.0 ng/mL, tmax 1.4-1.6 h.
- Kaplan SA et al., J Pharm Sci 1974: Cmax 6.5-13.5 ng/mL, tmax 1-2 h after 2 mg.
- Klonopin US label (2023): tmax 1-4 h; t½ typically 30-40 h.
- Greenblatt DJ et al., J Clin Pharmacol 2005;45:1288 (n = 9, 0.5 mg tid x 7 d): accumulation at
  steady state relative to day 1 averaged 3.3-fold; CL/F 72 mL/min.
"""

from __future__ import annotations

import numpy as np
import pytest

from benzokit import TimeGrid, load_drug, parse_regimen, simulate
from benzokit.pk import PKModel, SpectralSolution
from benzokit.pk.closed_form import integrate
from benzokit.regimen import Route, expand_events

PUBLISHED_SINGLE_2MG_CMAX_RANGE = (6.5, 19.8 + 6.0)  # Kaplan 1974 low end .. Chauhan 2000 mean + SD
CREVOISIER_CMAX, CREVOISIER_AUC_INF = 14.9, 561.0
LABEL_TMAX_H = (1.0, 4.0)
LABEL_HALF_LIFE_H = (30.0, 40.0)
GREENBLATT_ACCUMULATION = 3.3
GREENBLATT_CL_F_L_H = 72.0 * 60 / 1000


@pytest.fixture(scope="module")
def single_dose() -> object:
    return simulate("clonazepam", parse_regimen("2 mg once"), grid=TimeGrid.days(5, 0.01))


def test_single_2mg_cmax_is_in_the_published_range(single_dose: object) -> None:
    cmax = single_dose.summary.cmax_ng_ml  # type: ignore[attr-defined]
    low, high = PUBLISHED_SINGLE_2MG_CMAX_RANGE
    assert low <= cmax <= high
    assert cmax == pytest.approx(CREVOISIER_CMAX, rel=0.10)


def test_single_2mg_tmax_is_in_the_label_range(single_dose: object) -> None:
    tmax = single_dose.summary.tmax_h  # type: ignore[attr-defined]
    assert LABEL_TMAX_H[0] <= tmax <= LABEL_TMAX_H[1]
    assert 1.0 <= tmax <= 2.0  # Kaplan 1974 1-2 h; Chauhan 1.4-1.6 h; Crevoisier 1.7 h


def test_terminal_half_life_of_the_model_and_of_the_curve_is_in_the_label_range(
    single_dose: object,
) -> None:
    summary = single_dose.summary  # type: ignore[attr-defined]
    assert LABEL_HALF_LIFE_H[0] <= summary.terminal_half_life_h <= LABEL_HALF_LIFE_H[1]
    t, c = single_dose.time_h, single_dose.conc_ng_ml  # type: ignore[attr-defined]
    tail = (t >= 48) & (t <= 120)
    slope = np.polyfit(t[tail], np.log(c[tail]), 1)[0]
    assert LABEL_HALF_LIFE_H[0] <= np.log(2) / -slope <= LABEL_HALF_LIFE_H[1]


def test_auc_to_infinity_matches_crevoisier() -> None:
    model = PKModel.from_parameters(load_drug("clonazepam").pk)
    response = SpectralSolution.of(model).unit_response(Route.ORAL)
    auc_mg_h_l = (
        integrate(response, np.array([0.0]), np.array([2.0]), 1e5)[1] / model.central_volume_l
    )
    assert auc_mg_h_l * 1000 == pytest.approx(CREVOISIER_AUC_INF, rel=0.05)


def _daily_auc(result: object, day: int) -> float:
    t, c = result.time_h, result.conc_ng_ml  # type: ignore[attr-defined]
    window = (t >= 24 * day) & (t <= 24 * (day + 1))
    return float(np.trapezoid(c[window], t[window]))


def test_half_life_based_accumulation_matches_greenblatt_2005() -> None:
    """Greenblatt 2005 observed 3.3-fold accumulation from day 1 to steady state on 0.5 mg tid and
    found it consistent with the half-life-based prediction 1/(1 - exp(-k·24 h)). The abstract does
    not define the day-1 metric further, so we check the model's terminal half-life makes the same
    prediction (within 20 %), not a particular AUC window."""
    result = simulate("clonazepam", parse_regimen("0.5 mg tid"), grid=TimeGrid.days(1))
    k = np.log(2) / result.summary.terminal_half_life_h
    assert 1 / (1 - np.exp(-k * 24)) == pytest.approx(GREENBLATT_ACCUMULATION, rel=0.20)


def test_steady_state_is_reached_after_about_five_label_half_lives() -> None:
    """97 % of steady state takes 5 half-lives: 150-200 h for the label's 30-40 h."""
    result = simulate("clonazepam", parse_regimen("0.5 mg bid"), grid=TimeGrid.days(40, 0.25))
    steady = simulate(
        "clonazepam", parse_regimen("0.5 mg bid", steady_state=True), grid=TimeGrid.days(1, 0.25)
    )
    target = 0.97 * steady.summary.cavg_last_24h_ng_ml
    daily = np.array([_daily_auc(result, d) / 24 for d in range(39)])
    first_day = int(np.argmax(daily >= target))
    assert 5 * LABEL_HALF_LIFE_H[0] - 24 <= 24 * (first_day + 1) <= 5 * LABEL_HALF_LIFE_H[1] + 24


@pytest.mark.parametrize("daily_mg", [0.5, 1.0, 2.0, 4.0])
def test_average_steady_state_level_is_dose_over_apparent_clearance(daily_mg: float) -> None:
    """Cavg,ss = F·dose/(CL·τ); between the two published CL/F values, and proportional to dose."""
    half = daily_mg / 2
    result = simulate(
        "clonazepam", parse_regimen(f"{half} mg bid", steady_state=True), grid=TimeGrid.days(1, 0.1)
    )
    cavg = result.summary.cavg_last_24h_ng_ml
    model = result.model
    assert cavg == pytest.approx(
        model.bioavailability * daily_mg * 1000 / (model.clearance_l_h * 24), rel=1e-9
    )
    crevoisier_cl_f = model.clearance_l_h / model.bioavailability
    assert daily_mg * 1000 / (GREENBLATT_CL_F_L_H * 24) <= cavg * (1 + 1e-9)
    assert cavg <= daily_mg * 1000 / (crevoisier_cl_f * 24) * (1 + 1e-9)


def test_steady_state_start_equals_a_long_run_in() -> None:
    run_in = simulate("clonazepam", parse_regimen("1 mg bid"), grid=TimeGrid.days(60, 0.5))
    steady = simulate(
        "clonazepam", parse_regimen("1 mg bid", steady_state=True), grid=TimeGrid.days(60, 0.5)
    )
    last_day = run_in.time_h >= 59 * 24
    np.testing.assert_allclose(run_in.conc_ng_ml[last_day], steady.conc_ng_ml[last_day], rtol=2e-6)


def test_event_table_of_the_issue_regimen() -> None:
    regimen = parse_regimen("0.5 mg bid x 14 days, then 0.25 mg bid x 7 days")
    table = expand_events(regimen.to_events(24 * 30))
    totals = table.daily_totals_mg(30)
    np.testing.assert_allclose(totals[:14], 1.0)
    np.testing.assert_allclose(totals[14:21], 0.5)
    np.testing.assert_allclose(totals[21:], 0.0)
