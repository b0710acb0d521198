"""The exact (spectral, superposition) solution against an independent numerical ODE solution.

Tolerance: 1e-6 relative (issue 2), on concentrations above 1e-6 of the peak.
"""

from __future__ import annotations

import numpy as np
import pytest

from benzokit.pk import PKModel, SpectralSolution, superpose
from benzokit.pk.closed_form import integrate
from benzokit.pk.ode import solve_amounts_ode
from benzokit.regimen import DoseEvent, Route, expand_events, parse_regimen

RTOL = 1e-6

ONE_COMPARTMENT = PKModel(0.8, 1.2, 5.0, 60.0)
TWO_COMPARTMENT = PKModel(0.9, 1.733, 3.3, 90.3, 19.4, 85.7)
FAST_TWO_COMPARTMENT = PKModel(1.0, 3.0, 40.0, 20.0, 15.0, 80.0)
MODELS = {"one": ONE_COMPARTMENT, "two": TWO_COMPARTMENT, "fast-two": FAST_TWO_COMPARTMENT}


def _assert_close(exact: np.ndarray, reference: np.ndarray) -> None:
    significant = np.abs(reference) > 1e-6 * np.abs(reference).max()
    relative = np.abs(exact[significant] - reference[significant]) / np.abs(reference[significant])
    assert relative.max() < RTOL, f"max relative error {relative.max():.2e}"


def _closed_form(model: PKModel, events: tuple[DoseEvent, ...], grid: np.ndarray) -> np.ndarray:
    table = expand_events(events)
    solution = SpectralSolution.of(model)
    total = np.zeros((model.n_states, grid.size))
    for route in (Route.ORAL, Route.IV_BOLUS):
        times, amounts = table.for_route(route)
        total += superpose(solution.unit_response(route), times, amounts, grid)
    return total


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize(
    "regimen",
    [
        "2 mg once",
        "0.5 mg tid x 5 days",
        "1 mg at 08:00 and 2 mg at 22:00 x 3 days, then 0.5 mg q6h",
    ],
)
def test_closed_form_matches_ode_for_oral_regimens(name: str, regimen: str) -> None:
    model = MODELS[name]
    grid = np.arange(0.0, 24 * 7 + 0.01, 0.25)
    events = parse_regimen(regimen).to_events(grid[-1])
    exact = _closed_form(model, events, grid)
    reference = solve_amounts_ode(model, expand_events(events), grid)
    for compartment in range(model.n_states):
        _assert_close(exact[compartment], reference[compartment])


@pytest.mark.parametrize("name", MODELS)
def test_closed_form_matches_ode_for_mixed_iv_and_oral(name: str) -> None:
    model = MODELS[name]
    events = (
        DoseEvent(0.0, 1.0, Route.IV_BOLUS),
        DoseEvent(3.3, 2.0, Route.ORAL, interval_h=12.0, additional=6),
        DoseEvent(50.0, 0.5, Route.IV_BOLUS),
    )
    grid = np.linspace(0.0, 120.0, 1201)
    exact = _closed_form(model, events, grid)
    reference = solve_amounts_ode(model, expand_events(events), grid)
    for compartment in range(model.n_states):
        _assert_close(exact[compartment], reference[compartment])


def test_two_compartment_oral_matches_textbook_formula() -> None:
    """C(t) = F·D·ka/Vc · Σ over α, β, ka (Gibaldi & Perrier, Pharmacokinetics, 2nd ed., ch. 2)."""
    m = TWO_COMPARTMENT
    k10, k12 = (
        m.clearance_l_h / m.central_volume_l,
        m.intercompartmental_clearance_l_h / m.central_volume_l,
    )
    k21 = m.intercompartmental_clearance_l_h / m.peripheral_volume_l
    alpha, beta = m.disposition_rates_per_h()
    assert alpha * beta == pytest.approx(k10 * k21, rel=1e-12)
    assert alpha + beta == pytest.approx(k10 + k12 + k21, rel=1e-12)
    ka, dose = m.absorption_rate_per_h, 2.0
    t = np.linspace(0, 96, 500)
    textbook = (m.bioavailability * dose * ka / m.central_volume_l) * (
        (k21 - alpha) / ((ka - alpha) * (beta - alpha)) * np.exp(-alpha * t)
        + (k21 - beta) / ((ka - beta) * (alpha - beta)) * np.exp(-beta * t)
        + (k21 - ka) / ((alpha - ka) * (beta - ka)) * np.exp(-ka * t)
    )
    exact = _closed_form(m, (DoseEvent(0.0, dose),), t)[1] / m.central_volume_l
    np.testing.assert_allclose(exact, textbook, rtol=1e-9, atol=1e-15)


def test_one_compartment_oral_matches_bateman_function() -> None:
    m = ONE_COMPARTMENT
    k, ka = m.clearance_l_h / m.central_volume_l, m.absorption_rate_per_h
    t = np.linspace(0, 48, 300)
    bateman = (
        m.bioavailability
        * 3.0
        * ka
        / (m.central_volume_l * (ka - k))
        * (np.exp(-k * t) - np.exp(-ka * t))
    )
    exact = _closed_form(m, (DoseEvent(0.0, 3.0),), t)[1] / m.central_volume_l
    np.testing.assert_allclose(exact, bateman, rtol=1e-9, atol=1e-15)


def test_coincident_absorption_and_elimination_rates_stay_finite() -> None:
    """ka = k is a removable singularity: C = F·D·k/V · t·e^(−kt)."""
    k = 5.0 / 60.0
    model = PKModel(1.0, k, 5.0, 60.0)
    t = np.linspace(0, 48, 97)
    limit = 1.0 * k / 60.0 * t * np.exp(-k * t)
    exact = _closed_form(model, (DoseEvent(0.0, 1.0),), t)[1] / 60.0
    np.testing.assert_allclose(exact, limit, rtol=1e-5, atol=1e-12)


@pytest.mark.parametrize("name", MODELS)
def test_exact_auc_equals_dose_over_clearance_in_the_limit(name: str) -> None:
    model = MODELS[name]
    response = SpectralSolution.of(model).unit_response(Route.ORAL)
    auc = integrate(response, np.array([0.0]), np.array([2.0]), 1e5)[1] / model.central_volume_l
    assert auc == pytest.approx(model.bioavailability * 2.0 / model.clearance_l_h, rel=1e-9)


def test_exact_auc_matches_fine_trapezoid() -> None:
    model = TWO_COMPARTMENT
    events = parse_regimen("0.5 mg bid x 3 days").to_events(96.0)
    table = expand_events(events)
    response = SpectralSolution.of(model).unit_response(Route.ORAL)
    grid = np.linspace(0, 96, 400_001)
    amounts = superpose(response, table.time_h, table.amount_mg, grid)[1]
    exact = integrate(response, table.time_h, table.amount_mg, 96.0)[1]
    assert exact == pytest.approx(np.trapezoid(amounts, grid), rel=1e-8)
