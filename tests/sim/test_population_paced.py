"""The paced population kernel: the fixed calendar is the fixed kernel, decision for decision the
symptom-guided policies are ``benzokit.plan.pacing.decide`` (the plain reference in ``paced_reference``),
and properties of any policy."""

from __future__ import annotations

import numpy as np
import pytest

from benzokit import load_drug
from benzokit.pd.params import load_pd_parameters
from benzokit.pd.tolerance import ToleranceModelName
from benzokit.plan.pacing import load_pacing
from benzokit.regimen import parse_regimen
from benzokit.sim.population.kernel import run_kernel
from benzokit.sim.population.paced import (
    paced_taper_from_schedule,
    pacing_constants,
    run_paced_kernel,
)
from benzokit.sim.population.pd_constants import population_pd
from benzokit.sim.population.sample import sample_subjects
from benzokit.sim.population.schedule import hourly_schedule
from benzokit.sim.population.settings import build_settings
from benzokit.sim.population.structures import (
    PACING_METRICS,
    BandSelection,
    Dosing,
    PacingMetric,
    PopulationPD,
    SubjectPK,
)
from benzokit.sim.population.terms import oral_pk

DRUG = load_drug("clonazepam")
POLICIES = load_pacing()
TAPER = parse_regimen(
    "1 mg bid x 28 days, then 0.75 mg bid x 28 days, then 0.5 mg bid x 21 days, "
    "then 0.25 mg bid x 21 days, then 0.125 mg qd x 14 days"
)


def _pk(n: int, seed: int = 11) -> SubjectPK:
    ids = np.arange(n, dtype=np.int64)
    return oral_pk(sample_subjects(DRUG, build_settings(DRUG), seed, ids))


def _pd(tolerance: ToleranceModelName) -> PopulationPD:
    return population_pd(
        DRUG,
        load_pd_parameters(),
        occupancy_set=None,
        tolerance=tolerance,
        withdrawal_threshold=None,
    )


def test_pacing_columns_are_named_in_kernel_order() -> None:
    # the results files' column names (the trial writes them through PACING_METRICS)
    expected = ("taper_days", "taper_completed", "holds", "slowdowns", "referrals")
    assert expected == PACING_METRICS
    assert [PacingMetric(i).column for i in range(len(expected))] == list(expected)


@pytest.mark.parametrize("tolerance", list(ToleranceModelName))
def test_the_fixed_policy_gives_the_fixed_kernels_metrics_exactly(
    tolerance: ToleranceModelName,
) -> None:
    n, days = 150, 140  # 150: two whole blocks and a partial one
    schedule = hourly_schedule(TAPER, days * 24)
    dosing = Dosing(schedule, 5, 0.1, 0.05, 0.15)
    pk, pd = _pk(n), _pd(tolerance)
    bands = BandSelection(np.where(np.arange(n) % 7 == 0, np.arange(n) // 7, -1), (n + 6) // 7)
    fixed = run_kernel(pk, dosing, pd, bands)
    taper = paced_taper_from_schedule(schedule)
    paced = run_paced_kernel(
        pk, taper, dosing, pd, pacing_constants(POLICIES.get("fixed")), bands, days
    )
    np.testing.assert_array_equal(paced.metrics, fixed.metrics)
    np.testing.assert_array_equal(paced.band, fixed.band)
    planned_end = 28 + 28 + 21 + 21 + 14
    np.testing.assert_array_equal(paced.pacing[:, PacingMetric.TAPER_DAYS], planned_end)
    np.testing.assert_array_equal(paced.pacing[:, PacingMetric.TAPER_COMPLETED], 1.0)
    assert not paced.pacing[:, PacingMetric.HOLDS :].any()
