"""PD misuse raises inside the exception tree, with messages that name the field and what is allowed."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pytest

from benzokit import BenzokitError, TimeGrid, load_drug, parse_regimen, simulate
from benzokit.errors import ComputeError, InputError, ModelError, UnknownNameError
from benzokit.pd import reference
from benzokit.pd.reference import solve_pkpd_ode
from benzokit.pd.result import describe_pd_model
from benzokit.pd.tolerance import Moderator, ToleranceModel, ToleranceTrajectory
from benzokit.regimen import expand_events
from benzokit.sim.pd import simulate_pd
from benzokit.types import FloatArray

DRUG = load_drug("clonazepam")
REGIMEN = parse_regimen("1 mg bid x 3 days")
PK = simulate(DRUG, REGIMEN, grid=TimeGrid.days(4, 1.0))
EVENTS = expand_events(REGIMEN.to_events(4 * 24.0))
CONSTANTS = {"fraction_unbound": 0.15, "c50_unbound_ng_ml": 1.0, "emax": 1.0, "o50": 0.5}


@dataclass(frozen=True, slots=True)
class _Hysteresis(ToleranceModel):
    """A tolerance model the reference has no equations for."""

    name: str = "hysteresis"

    def run(self, time_h: FloatArray, effect: FloatArray) -> ToleranceTrajectory:
        zero = np.zeros_like(effect)
        return ToleranceTrajectory(zero, effect, zero)


def test_an_unknown_tolerance_model_is_an_input_error_listing_the_known() -> None:
    with pytest.raises(UnknownNameError) as caught:
        simulate_pd(PK, DRUG, tolerance="hysteresis")  # type: ignore[arg-type]
    assert caught.value.field == "tolerance model"
    assert "moderator" in str(caught.value) and "turnover_feedback" in str(caught.value)
    with pytest.raises(UnknownNameError):
        describe_pd_model(None, "hysteresis")  # type: ignore[arg-type]


def test_an_unknown_occupancy_set_names_the_known_sets() -> None:
    with pytest.raises(UnknownNameError, match="fujita1999"):
        simulate_pd(PK, DRUG, occupancy_set="nosuchset")


@pytest.mark.parametrize(
    "grid",
    [np.array([]), np.array([0.0, 2.0, 1.0]), np.array([-1.0, 0.0]), np.array([0.0, np.nan])],
)
def test_the_reference_refuses_a_grid_that_is_not_increasing_from_0_h(grid: FloatArray) -> None:
    with pytest.raises(InputError) as caught:
        solve_pkpd_ode(PK.model, EVENTS, grid, tolerance=Moderator(120.0, 0.47), **CONSTANTS)
    assert caught.value.field == "grid_h"
    assert isinstance(caught.value, BenzokitError)


def test_the_reference_has_no_equations_for_a_model_it_does_not_know() -> None:
    with pytest.raises(ModelError, match="'hysteresis' tolerance model"):
        solve_pkpd_ode(PK.model, EVENTS, PK.time_h, tolerance=_Hysteresis(), **CONSTANTS)


def test_a_failed_reference_solve_is_a_compute_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_solver(*_args: object, **_kwargs: object) -> SimpleNamespace:
        return SimpleNamespace(success=False, message="Required step size is less than spacing")

    monkeypatch.setattr(reference, "solve_ivp", failing_solver)
    with pytest.raises(ComputeError, match=r"between 0 h and 8 h .*step size"):
        solve_pkpd_ode(PK.model, EVENTS, PK.time_h, tolerance=Moderator(120.0, 0.47), **CONSTANTS)
