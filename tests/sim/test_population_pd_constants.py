"""The population kernel's PD constants come from the same tolerance-model objects as simulate_pd."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from benzokit import load_drug
from benzokit.errors import ModelError, UnknownNameError
from benzokit.pd.params import load_pd_parameters
from benzokit.pd.tolerance import (
    Moderator,
    ToleranceModelName,
    TurnoverFeedback,
    hold_weights,
    tolerance_model,
)
from benzokit.sim.population.pd_constants import (
    FEEDBACK_SUBSTEPS,
    feedback_hold,
    moderator_hold,
    polynomial_hold_weights,
    population_pd,
    tolerance_pd,
)
from benzokit.sim.population.structures import (
    BAND_SERIES,
    METRICS,
    MODERATOR,
    TURNOVER_FEEDBACK,
    BandSeries,
    Metric,
)
from benzokit.sim.trial import load_trial_spec
from benzokit.sim.trial.plan import plan_trial
from benzokit.sim.trial.spec import parse_trial_spec

EXAMPLES = Path(__file__).parents[2] / "examples"

PARAMS = load_pd_parameters()
DRUG = load_drug("clonazepam")


@pytest.mark.parametrize("name", list(ToleranceModelName))
def test_the_trial_plan_packs_the_model_the_single_subject_path_runs(
    name: ToleranceModelName,
) -> None:
    data = load_trial_spec(EXAMPLES / "trial-taper.toml").model_dump(by_alias=True)
    data["pd"]["tolerance_model"] = name.value
    plan = plan_trial(parse_trial_spec(data, source="test"))
    expected = tolerance_pd(tolerance_model(name, PARAMS))
    assert plan.pd.tolerance.model == expected.model
    np.testing.assert_equal(plan.pd.tolerance, expected)


def test_moderator_constants_are_the_exact_decay_and_weights_of_its_half_life() -> None:
    model = tolerance_model(ToleranceModelName.MODERATOR, PARAMS)
    assert isinstance(model, Moderator)
    hold = moderator_hold(model)
    assert hold.decay_per_step == pytest.approx(math.exp(-math.log(2) / model.half_life_h))
    # the weights integrate a constant effect exactly: A(1 h) = 1 - decay
    assert hold.weights3.sum() == pytest.approx(1.0 - hold.decay_per_step, rel=1e-12)
    assert hold.weights5.sum() == pytest.approx(1.0 - hold.decay_per_step, rel=1e-12)
    # 3-node weights are exact for a quadratic effect: compare with the first-order hold on a line
    linear = polynomial_hold_weights(model.half_life_h, 2)
    _, w_new, w_old = hold_weights(math.log(2) / model.half_life_h, np.array(1.0))
    np.testing.assert_allclose(linear, [w_old, w_new], rtol=1e-10)


def test_feedback_constants_are_first_order_holds_per_sub_step() -> None:
    model = tolerance_model(ToleranceModelName.TURNOVER_FEEDBACK, PARAMS)
    assert isinstance(model, TurnoverFeedback)
    hold = feedback_hold(model)
    assert hold.substeps == FEEDBACK_SUBSTEPS
    step_h = 1.0 / FEEDBACK_SUBSTEPS
    assert hold.response_decay == pytest.approx(
        math.exp(-math.log(2) / model.response_half_life_h * step_h)
    )
    assert hold.moderator_decay == pytest.approx(
        math.exp(-math.log(2) / model.half_life_h * step_h)
    )


def test_the_kernel_refuses_a_feedback_exponent_it_does_not_implement() -> None:
    with pytest.raises(ModelError, match="feedback exponent of 1 only"):
        tolerance_pd(TurnoverFeedback(120.0, 6.0, 2.0))


def test_population_pd_takes_the_threshold_from_the_pd_parameters_by_default() -> None:
    pd = population_pd(
        DRUG, PARAMS, occupancy_set=None, tolerance=ToleranceModelName.MODERATOR,
        withdrawal_threshold=None,
    )  # fmt: skip
    assert pd.withdrawal_threshold == PARAMS.analysis.withdrawal_threshold.value
    assert pd.tolerance.model == MODERATOR
    feedback = population_pd(
        DRUG, PARAMS, occupancy_set=None, tolerance=ToleranceModelName.TURNOVER_FEEDBACK,
        withdrawal_threshold=0.2,
    )  # fmt: skip
    assert feedback.withdrawal_threshold == 0.2 and feedback.tolerance.model == TURNOVER_FEEDBACK


def test_an_unknown_tolerance_model_names_the_known_ones() -> None:
    with pytest.raises(UnknownNameError, match="moderator, turnover_feedback") as caught:
        tolerance_model("hysteresis", PARAMS)  # type: ignore[arg-type]
    assert caught.value.field == "tolerance model"


def test_column_names_have_one_definition() -> None:
    assert tuple(m.column for m in Metric) == METRICS
    assert METRICS[Metric.PEAK_WITHDRAWAL_INDEX] == "peak_withdrawal_index"
    assert BAND_SERIES == ("daily_mean_conc_ng_ml", "daily_max_withdrawal_index")
    assert [int(s) for s in BandSeries] == list(range(len(BAND_SERIES)))
