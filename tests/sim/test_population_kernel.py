"""The compiled population kernel against the reference PK+PD ODE, subject by subject.

Targets (issue 3): PK within 1e-6 relative, PD states (peak withdrawal index, adaptation) within 1e-4.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benzokit import load_drug, parse_regimen
from benzokit.pd.occupancy import occupancy_c50_unbound_ng_ml
from benzokit.pd.params import load_pd_parameters
from benzokit.pd.reference import solve_pkpd_ode
from benzokit.pd.tolerance import Moderator, ToleranceModel, TurnoverFeedback
from benzokit.pk import PKModel, SpectralSolution
from benzokit.pk.closed_form import integrate
from benzokit.regimen import Route, expand_events
from benzokit.sim.population.kernel import run_kernel
from benzokit.sim.population.pd_constants import tolerance_pd
from benzokit.sim.population.sample import Subjects, sample_subjects
from benzokit.sim.population.schedule import hourly_schedule
from benzokit.sim.population.settings import build_settings
from benzokit.sim.population.structures import (
    BandSelection,
    Dosing,
    EffectConstants,
    Metric,
    PopulationPD,
)
from benzokit.sim.population.terms import oral_pk
from benzokit.sim.trial import load_trial_spec, run_trial
from benzokit.sim.trial.spec import parse_trial_spec

DRUG = load_drug("clonazepam")
REGIMEN = parse_regimen("1 mg bid x 28 days, then 0.5 mg bid x 14 days, then 0.25 mg bid x 14 days")
DAYS = 70
HALF_LIFE_H = 120.0
FU, EMAX, O50 = 0.15, 1.0, 0.5
MODERATOR = Moderator(HALF_LIFE_H, 0.47)


def _run(
    occupancy_set: str, n: int = 4, tolerance: ToleranceModel = MODERATOR
) -> tuple[np.ndarray, Subjects, float]:
    """The kernel on ``n`` subjects, with its constants derived from the ``tolerance`` model object."""
    settings = build_settings(DRUG)
    ids = np.arange(n, dtype=np.int64)
    subjects = sample_subjects(DRUG, settings, 3, ids)
    c50 = occupancy_c50_unbound_ng_ml(DRUG, load_pd_parameters().occupancy_set(occupancy_set))
    pd = PopulationPD(EffectConstants(FU, c50, EMAX, O50), tolerance_pd(tolerance), 0.05)
    dosing = Dosing(hourly_schedule(REGIMEN, DAYS * 24), 3, 0.0, 0.0, 0.0)
    output = run_kernel(oral_pk(subjects), dosing, pd, BandSelection.none(n))
    return output.metrics, subjects, c50


def _model(subjects: Subjects, i: int) -> PKModel:
    s = subjects
    return PKModel(
        s.bioavailability[i], s.absorption_rate_per_h[i], s.clearance_l_h[i],
        s.central_volume_l[i], s.intercompartmental_clearance_l_h[i], s.peripheral_volume_l[i],
    )  # fmt: skip


@pytest.mark.parametrize("occupancy_set", ["fujita1999", "horowitz_maudsley"])
def test_pd_summaries_match_the_reference_ode_within_1e_4(occupancy_set: str) -> None:
    metrics, subjects, c50 = _run(occupancy_set)
    grid = np.arange(0.0, DAYS * 24 + 1.0)
    events = expand_events(REGIMEN.to_events(DAYS * 24.0))
    for i in range(metrics.shape[0]):
        ref = solve_pkpd_ode(
            _model(subjects, i), events, grid, fraction_unbound=FU, c50_unbound_ng_ml=c50, emax=EMAX, o50=O50,
            tolerance=MODERATOR, rtol=1e-11, atol=1e-14,
        )  # fmt: skip
        adaptation = ref["tolerance_states"][0]
        withdrawal = np.maximum(0.0, adaptation - ref["effect"])
        assert metrics[i, Metric.PEAK_WITHDRAWAL_INDEX] == pytest.approx(withdrawal.max(), rel=1e-4)
        assert metrics[i, Metric.PEAK_WITHDRAWAL_TIME_H] == grid[np.argmax(withdrawal)]
        assert metrics[i, Metric.FINAL_ADAPTATION] == pytest.approx(adaptation[-1], rel=1e-4)


def test_mean_concentration_matches_the_exact_integral_within_1e_6() -> None:
    metrics, subjects, _ = _run("fujita1999")
    events = expand_events(REGIMEN.to_events(DAYS * 24.0))
    for i in range(metrics.shape[0]):
        model = _model(subjects, i)
        response = SpectralSolution.of(model).unit_response(Route.ORAL)
        auc = (
            integrate(response, events.time_h, events.amount_mg, DAYS * 24.0)[1]
            / model.central_volume_l
        )
        assert metrics[i, Metric.CMEAN_NG_ML] == pytest.approx(auc * 1000 / (DAYS * 24), rel=1e-6)


def test_last_dose_time_is_that_of_the_schedule() -> None:
    metrics, _, _ = _run("fujita1999", n=2)
    last_dose_h = (28 + 14 + 14 - 1) * 24 + 20
    np.testing.assert_array_equal(metrics[:, Metric.LAST_DOSE_TIME_H], last_dose_h)


@pytest.mark.parametrize("occupancy_set", ["fujita1999", "horowitz_maudsley"])
def test_turnover_feedback_summaries_match_the_reference_ode_within_1e_4(
    occupancy_set: str,
) -> None:
    n = 3
    tolerance = TurnoverFeedback(HALF_LIFE_H, 6.0, 1.0)
    metrics, subjects, c50 = _run(occupancy_set, n, tolerance)
    grid = np.arange(0.0, DAYS * 24 + 1.0)
    events = expand_events(REGIMEN.to_events(DAYS * 24.0))
    for i in range(n):
        ref = solve_pkpd_ode(
            _model(subjects, i), events, grid, fraction_unbound=FU, c50_unbound_ng_ml=c50, emax=EMAX, o50=O50,
            tolerance=tolerance, rtol=1e-11, atol=1e-14,
        )  # fmt: skip
        response, moderator = ref["tolerance_states"]
        withdrawal = np.maximum(0.0, moderator - response)
        assert metrics[i, Metric.PEAK_WITHDRAWAL_INDEX] == pytest.approx(withdrawal.max(), rel=1e-4)
        assert metrics[i, Metric.FINAL_ADAPTATION] == pytest.approx(moderator[-1] - 1.0, rel=1e-4)
        assert metrics[i, Metric.AUC_EFFECT_H] == pytest.approx(ref["auc_effect"][-1], rel=1e-4)


def test_the_trial_runs_the_turnover_feedback_model(tmp_path: Path) -> None:
    data = load_trial_spec(Path(__file__).parents[2] / "examples" / "trial-taper.toml").model_dump(
        by_alias=True
    )
    data["trial"].update(subjects=300, days=120)
    data["outputs"]["plots"] = False
    moderator = run_trial(parse_trial_spec(data, source="t"), tmp_path / "m")
    data["pd"]["tolerance_model"] = "turnover_feedback"
    feedback = run_trial(parse_trial_spec(data, source="t"), tmp_path / "f")
    peak_m = moderator.summary["strategies"]["taper"]["metrics"]["peak_withdrawal_index"]["median"]
    peak_f = feedback.summary["strategies"]["taper"]["metrics"]["peak_withdrawal_index"]["median"]
    assert peak_m > 0 and peak_f > 0 and peak_m != peak_f
