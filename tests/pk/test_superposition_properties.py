"""Property tests: linearity and superposition of the exact solution (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from benzokit.pk import PKModel, SpectralSolution, superpose
from benzokit.pk.closed_form import steady_state_terms
from benzokit.regimen import Route

positive = st.floats(min_value=0.05, max_value=50.0, allow_nan=False)
models = st.builds(
    PKModel,
    bioavailability=st.floats(min_value=0.1, max_value=1.0),
    absorption_rate_per_h=st.floats(min_value=0.2, max_value=5.0),
    clearance_l_h=st.floats(min_value=0.5, max_value=50.0),
    central_volume_l=st.floats(min_value=5.0, max_value=300.0),
    intercompartmental_clearance_l_h=st.floats(min_value=0.5, max_value=50.0),
    peripheral_volume_l=st.floats(min_value=5.0, max_value=300.0),
)
dose_lists = st.lists(
    st.tuples(st.floats(min_value=0.0, max_value=72.0), positive), min_size=1, max_size=8
).map(sorted)

GRID = np.linspace(0.0, 96.0, 193)


def _conc(model: PKModel, doses: list[tuple[float, float]]) -> np.ndarray:
    response = SpectralSolution.of(model).unit_response(Route.ORAL)
    times = np.array([t for t, _ in doses])
    amounts = np.array([a for _, a in doses])
    return superpose(response, times, amounts, GRID)[1]


@given(models, dose_lists, st.floats(min_value=0.01, max_value=100.0))
def test_scaling_every_dose_scales_the_concentration(
    model: PKModel, doses: list[tuple[float, float]], factor: float
) -> None:
    base = _conc(model, doses)
    scaled = _conc(model, [(t, a * factor) for t, a in doses])
    # Round-off of the sum of exponentials is relative to the profile's scale, not to each point
    # (near a dose time the terms cancel to about 1e-11 of the peak).
    np.testing.assert_allclose(
        scaled, factor * base, rtol=1e-9, atol=1e-9 * factor * np.abs(base).max()
    )


@given(models, dose_lists, dose_lists)
def test_two_histories_add(
    model: PKModel, first: list[tuple[float, float]], second: list[tuple[float, float]]
) -> None:
    together = _conc(model, sorted(first + second))
    apart = _conc(model, first) + _conc(model, second)
    np.testing.assert_allclose(together, apart, rtol=1e-9, atol=1e-9 * np.abs(apart).max())


@given(models, st.floats(min_value=4.0, max_value=48.0), positive)
def test_steady_state_start_is_periodic(model: PKModel, period_h: float, dose_mg: float) -> None:
    """Starting at steady state, the profile repeats exactly every interval."""
    solution = SpectralSolution.of(model)
    response = solution.unit_response(Route.ORAL)
    initial = steady_state_terms(solution.rates_per_h, [0.0], [dose_mg], period_h)
    times = np.arange(0.0, 5 * period_h, period_h)
    grid = np.linspace(0.0, 4 * period_h, 401)
    amounts = superpose(response, times, np.full(times.size, dose_mg), grid, initial)[1]
    first, last = amounts[:101], amounts[300:]
    np.testing.assert_allclose(first, last, rtol=1e-8, atol=1e-12 * amounts.max())


@given(models, dose_lists)
def test_concentration_is_never_negative(model: PKModel, doses: list[tuple[float, float]]) -> None:
    assert (_conc(model, doses) >= -1e-12).all()
