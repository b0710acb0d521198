"""PD states from the exact PK + first-order-hold steps against one tight ODE system (scipy).

Target (issue 3): PD states within 1e-4 relative of the reference.
"""

from __future__ import annotations

import numpy as np
import pytest

from benzokit import TimeGrid, load_drug, parse_regimen, simulate
from benzokit.pd.occupancy import effect_of_occupancy
from benzokit.pd.params import load_pd_parameters
from benzokit.pd.reference import solve_pkpd_ode
from benzokit.pd.tolerance import Moderator, ToleranceModel, TurnoverFeedback
from benzokit.regimen import expand_events

C50U = 0.4  # ng/mL unbound, an arbitrary test value inside the range the anchors give
EMAX, O50 = 1.0, 0.5
REGIMEN = "1 mg bid x 20 days, then 0.5 mg bid x 6 days, then 0.25 mg bid x 4 days"
MODELS: dict[str, ToleranceModel] = {
    "moderator": Moderator(half_life_h=120.0, max_fraction_lost=0.47),
    "turnover_feedback": TurnoverFeedback(
        half_life_h=120.0, response_half_life_h=6.0, feedback_exponent=1.0
    ),
}


def _states(model: ToleranceModel, step_h: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    drug = load_drug("clonazepam")
    regimen = parse_regimen(REGIMEN)
    pk = simulate(drug, regimen, grid=TimeGrid.days(36, step_h))
    fu = drug.pk.fraction_unbound.require()
    unbound = pk.conc_ng_ml * fu
    effect = effect_of_occupancy(unbound / (unbound + C50U), load_pd_parameters())
    fast = model.run(pk.time_h, effect)
    reference = solve_pkpd_ode(
        pk.model,
        expand_events(regimen.to_events(pk.time_h[-1] + 1e-9)),
        pk.time_h,
        fraction_unbound=fu,
        c50_unbound_ng_ml=C50U,
        emax=EMAX,
        o50=O50,
        tolerance=model,
    )
    return np.vstack((fast.adaptation, fast.withdrawal_index)), reference


@pytest.mark.parametrize("name", MODELS)
def test_adaptation_and_withdrawal_match_the_reference(name: str) -> None:
    model = MODELS[name]
    fast, reference = _states(model, step_h=0.05)
    states = reference["tolerance_states"]
    if isinstance(model, Moderator):
        ref_adaptation = states[0]
        ref_withdrawal = np.maximum(0.0, states[0] - reference["effect"])
    else:
        ref_adaptation = states[1] - 1.0
        ref_withdrawal = np.maximum(0.0, states[1] - states[0])
    scale = np.abs(ref_adaptation).max()
    assert np.abs(fast[0] - ref_adaptation).max() / scale < 1e-4
    peak_ref = ref_withdrawal.max()
    assert peak_ref > 0
    assert abs(fast[1].max() - peak_ref) / peak_ref < 1e-4


@pytest.mark.parametrize("name", MODELS)
def test_the_hold_error_shrinks_faster_than_the_step(name: str) -> None:
    """Halving the step cuts the error by more than 3x (the first-order hold is ~second order)."""
    fine, _ = _states(MODELS[name], step_h=0.025)
    coarse, _ = _states(MODELS[name], step_h=0.2)
    medium, _ = _states(MODELS[name], step_h=0.1)
    error_coarse = abs(coarse[1].max() - fine[1].max())
    error_medium = abs(medium[1].max() - fine[1].max())
    assert error_medium < error_coarse / 3
