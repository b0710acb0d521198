"""The paced population kernel: the fixed calendar is the fixed kernel, decision for decision the
symptom-guided policies are ``benzokit.plan.pacing.decide`` (the plain reference in ``paced_reference``),
and properties of any policy."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from paced_reference import ReferenceRun, simulate_paced

from benzokit import load_drug
from benzokit.errors import InputError
from benzokit.pd.params import load_pd_parameters
from benzokit.pd.tolerance import ToleranceModelName
from benzokit.plan.pacing import PacingPolicy, load_pacing
from benzokit.regimen import parse_regimen
from benzokit.sim.population.kernel import occasion_table, run_kernel
from benzokit.sim.population.paced import (
    paced_taper_from_schedule,
    pacing_constants,
    run_paced_kernel,
    run_paced_policies,
)
from benzokit.sim.population.pd_constants import population_pd
from benzokit.sim.population.sample import sample_subjects
from benzokit.sim.population.schedule import hourly_schedule
from benzokit.sim.population.settings import build_settings
from benzokit.sim.population.structures import (
    PACING_METRICS,
    BandSelection,
    Dosing,
    Metric,
    PacedOutput,
    PacedTaper,
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
    # the day-to-day bioavailability drawn once beforehand: the kernel's own draws
    occasions = occasion_table(pk.subject_id, days, dosing)
    shared = run_kernel(pk, dosing, pd, bands, occasions=occasions)
    np.testing.assert_array_equal(shared.metrics, fixed.metrics)
    with pytest.raises(InputError) as caught:
        run_kernel(pk, dosing, pd, bands, occasions=occasions[1:])
    assert caught.value.field == "occasions"
    planned_end = 28 + 28 + 21 + 21 + 14
    np.testing.assert_array_equal(paced.pacing[:, PacingMetric.TAPER_DAYS], planned_end)
    np.testing.assert_array_equal(paced.pacing[:, PacingMetric.TAPER_COMPLETED], 1.0)
    assert not paced.pacing[:, PacingMetric.HOLDS :].any()


DAYS = 200
SUBJECTS = 300
ADVERSARIAL = replace(
    POLICIES.get("maudsley-symptom-guided"),
    name="adversarial",
    checkin_interval_days=3,
    settle_days=2,
    hold_rise=0.02,
    slow_after_holds=1,
    slow_factor=1.1,
    ask_clinician_at=0.05,
    max_duration_days=160,
    observation_noise_sd=0.01,
)

# every check-in slows by 10x: the stretch passes 2**63 within a month (an integer would overflow)
RELENTLESS = replace(
    ADVERSARIAL,
    name="relentless",
    checkin_interval_days=1,
    settle_days=0,
    hold_rise=0.001,
    slow_factor=10.0,
    ask_clinician_at=1.0,
    max_duration_days=36_500,
)


def _policy(name: str) -> PacingPolicy:
    custom = {policy.name: policy for policy in (ADVERSARIAL, RELENTLESS)}
    return custom[name] if name in custom else POLICIES.get(name)


def _both(
    policy: PacingPolicy, tolerance: ToleranceModelName
) -> tuple[PacedOutput, NDArray[np.int64], ReferenceRun]:
    schedule = hourly_schedule(TAPER, DAYS * 24)
    taper = paced_taper_from_schedule(schedule)
    dosing = Dosing(schedule, 5, 0.1, 0.05, 0.15)
    pk, pd = _pk(SUBJECTS), _pd(tolerance)
    starts = np.zeros((SUBJECTS, taper.step_days.size), dtype=np.int64)
    bands = BandSelection.none(SUBJECTS)
    kernel = run_paced_kernel(
        pk, taper, dosing, pd, pacing_constants(policy), bands, DAYS, step_start_day=starts
    )
    return kernel, starts, simulate_paced(pk, taper, dosing, pd, policy, days=DAYS)


def _assert_same_decisions(
    kernel: PacedOutput, starts: NDArray[np.int64], ref: ReferenceRun
) -> None:
    np.testing.assert_array_equal(kernel.pacing, ref.pacing)
    np.testing.assert_array_equal(starts, ref.step_start_day)
    for metric in Metric:
        np.testing.assert_allclose(
            kernel.metrics[:, metric], ref.metrics[:, metric], rtol=1e-11, atol=1e-12,
            err_msg=metric.column,
        )  # fmt: skip


@pytest.mark.parametrize(
    "tolerance",
    [
        ToleranceModelName.MODERATOR,
        pytest.param(ToleranceModelName.TURNOVER_FEEDBACK, marks=pytest.mark.slow),
    ],
)
@pytest.mark.parametrize("name", ["maudsley-symptom-guided", "asam-pause-slow"])
def test_the_kernel_decides_as_the_reference_on_the_presets(
    name: str, tolerance: ToleranceModelName
) -> None:
    kernel, starts, ref = _both(_policy(name), tolerance)
    _assert_same_decisions(kernel, starts, ref)
    # the presets hold some subjects on this taper: the comparison covers holds and slowdowns
    holds = ref.pacing[:, PacingMetric.HOLDS].sum()
    slowdowns = ref.pacing[:, PacingMetric.SLOWDOWNS].sum()
    assert slowdowns > 0
    # Maudsley slows after two holds: some holds are only holds
    assert holds > slowdowns if _policy(name).slow_after_holds > 1 else holds == slowdowns


@pytest.mark.parametrize(
    "tolerance",
    [
        ToleranceModelName.MODERATOR,
        pytest.param(ToleranceModelName.TURNOVER_FEEDBACK, marks=pytest.mark.slow),
    ],
)
def test_the_kernel_decides_as_the_reference_when_every_rule_fires(
    tolerance: ToleranceModelName,
) -> None:
    kernel, starts, ref = _both(ADVERSARIAL, tolerance)
    _assert_same_decisions(kernel, starts, ref)
    pacing = ref.pacing
    assert pacing[:, PacingMetric.HOLDS].sum() > 0
    assert pacing[:, PacingMetric.SLOWDOWNS].sum() > 0
    assert pacing[:, PacingMetric.REFERRALS].sum() > 0
    completed = pacing[:, PacingMetric.TAPER_COMPLETED] == 1
    assert completed.any() and not completed.all()
    # the maximum duration (160 days) censors the subjects not done by then
    assert (pacing[~completed, PacingMetric.TAPER_DAYS] == DAYS).all()
    assert (pacing[completed, PacingMetric.TAPER_DAYS] <= ADVERSARIAL.max_duration_days).all()


def test_a_subjects_pace_does_not_depend_on_the_subjects_run_with_it() -> None:
    """Chunks of any size give the same rows: the blocks' fine-hold choice is per subject."""
    n, days = 200, 160
    schedule = hourly_schedule(TAPER, days * 24)
    taper = paced_taper_from_schedule(schedule)
    dosing = Dosing(schedule, 9, 0.05, 0.05, 0.1)
    pk, pd = _pk(n), _pd(ToleranceModelName.MODERATOR)
    constants = pacing_constants(ADVERSARIAL)
    whole = run_paced_kernel(pk, taper, dosing, pd, constants, BandSelection.none(n), days)
    part = slice(37, 141)
    sub_pk = SubjectPK(pk.subject_id[part], pk.coef_ng_ml_per_mg[part], pk.rate_per_h[part])
    some = run_paced_kernel(sub_pk, taper, dosing, pd, constants, BandSelection.none(104), days)
    np.testing.assert_array_equal(some.metrics, whole.metrics[part])
    np.testing.assert_array_equal(some.pacing, whole.pacing[part])
    # the subjects went out of step (so blocks mixed both holds of the hour after a dose)
    assert np.unique(whole.pacing[:, PacingMetric.TAPER_DAYS]).size > 5


@pytest.mark.parametrize(
    "tolerance",
    [
        ToleranceModelName.MODERATOR,
        pytest.param(ToleranceModelName.TURNOVER_FEEDBACK, marks=pytest.mark.slow),
    ],
)
def test_policies_run_together_give_each_policys_own_run_exactly(
    tolerance: ToleranceModelName,
) -> None:
    """The policies' shared days simulated once, then each on its own: every column as its own run,
    band rows included, whichever policy leads and wherever (the last day too) a policy parts."""
    n, days = 150, 112  # two whole blocks and a partial one; the plan's last cut is due on day 111
    schedule = hourly_schedule(TAPER, days * 24)
    taper = paced_taper_from_schedule(schedule)
    dosing = Dosing(schedule, 5, 0.1, 0.05, 0.15)
    pk, pd = _pk(n), _pd(tolerance)
    bands = BandSelection(np.where(np.arange(n) % 5 == 0, np.arange(n) // 5, -1), n // 5)
    weekly = replace(ADVERSARIAL, name="weekly", checkin_interval_days=7, max_duration_days=1000)
    names = ["maudsley-symptom-guided", "fixed", "adversarial", "asam-pause-slow"]
    policies = [pacing_constants(_policy(name)) for name in names]
    policies.append(pacing_constants(weekly))  # parts on many days, the last one too
    occasions = occasion_table(pk.subject_id, days, dosing)  # drawn once: the kernels' own draws
    together = run_paced_policies(pk, taper, dosing, pd, policies, bands, days, occasions=occasions)
    apart = [run_paced_kernel(pk, taper, dosing, pd, rules, bands, days) for rules in policies]
    for one, own in zip(together, apart, strict=True):
        np.testing.assert_array_equal(one.metrics, own.metrics)
        np.testing.assert_array_equal(one.pacing, own.pacing)
        np.testing.assert_array_equal(one.band, own.band)
    # the policies parted from the fixed calendar for all subjects, or some only
    shares = [np.mean((own.metrics != apart[1].metrics).any(axis=1)) for own in apart[2:]]
    assert max(shares) == 1.0 and any(0.0 < share < 1.0 for share in shares)
    # with no fixed calendar among them the first policy leads
    adaptive = run_paced_policies(pk, taper, dosing, pd, policies[2:4], bands, days)
    for one, own in zip(adaptive, apart[2:4], strict=True):
        np.testing.assert_array_equal(one.metrics, own.metrics)
        np.testing.assert_array_equal(one.pacing, own.pacing)


@st.composite
def _policies(draw: st.DrawFn) -> PacingPolicy:
    return replace(
        ADVERSARIAL,
        checkin_interval_days=draw(st.integers(1, 30)),
        settle_days=draw(st.integers(0, 30)),
        hold_rise=draw(st.floats(0.001, 0.2)),
        slow_after_holds=draw(st.integers(1, 4)),
        slow_factor=draw(st.floats(1.01, 3.0)),
        ask_clinician_at=draw(st.floats(0.03, 1.0)),
        max_duration_days=draw(st.integers(1, 400)),
        observation_noise_sd=draw(st.floats(0.0, 0.1)),
    )


_PROPERTY_DAYS = 240
_PROPERTY_SCHEDULE = hourly_schedule(TAPER, _PROPERTY_DAYS * 24)
_PROPERTY_TAPER = paced_taper_from_schedule(_PROPERTY_SCHEDULE)
_PROPERTY_PK = _pk(64, seed=4)
_PROPERTY_PD = _pd(ToleranceModelName.MODERATOR)


@settings(deadline=None, max_examples=25)
@given(policy=_policies(), seed=st.integers(0, 2**31))
def test_any_policy_keeps_the_order_of_steps_and_never_shortens_the_plan(
    policy: PacingPolicy, seed: int
) -> None:
    taper, n, days = _PROPERTY_TAPER, 64, _PROPERTY_DAYS
    starts = np.zeros((n, taper.step_days.size), dtype=np.int64)
    dosing = Dosing(_PROPERTY_SCHEDULE, seed, 0.05, 0.02, 0.1)
    out = run_paced_kernel(
        _PROPERTY_PK, taper, dosing, _PROPERTY_PD, pacing_constants(policy),
        BandSelection.none(n), days, step_start_day=starts,
    )  # fmt: skip
    pacing = out.pacing
    reached = starts >= 0
    # steps are taken in order, never skipped nor gone back to, each at least a day after the last
    assert (reached[:, :-1] >= reached[:, 1:]).all()
    both = reached[:, 1:]  # step j and j + 1 reached (the reached steps are a prefix)
    gaps = np.diff(starts, axis=1)[both]
    assert (gaps >= 1).all()
    # a step lasts at least its planned days, so a completed taper at least the plan's total
    planned = np.broadcast_to(taper.step_days[:-1], both.shape)[both]
    assert (gaps >= planned).all()
    completed = pacing[:, PacingMetric.TAPER_COMPLETED] == 1
    total = taper.step_days[:-1].sum()
    assert (pacing[completed, PacingMetric.TAPER_DAYS] >= total).all()
    assert (pacing[completed, PacingMetric.TAPER_DAYS] <= policy.max_duration_days).all()
    assert (pacing[~completed, PacingMetric.TAPER_DAYS] == days).all()
    np.testing.assert_array_equal(completed, reached[:, -1])
    # every slowdown ends a run of holds as long as the policy's count
    holds, slowdowns = pacing[:, PacingMetric.HOLDS], pacing[:, PacingMetric.SLOWDOWNS]
    assert (holds >= slowdowns * policy.slow_after_holds).all()


@pytest.mark.parametrize(
    ("pattern", "step_days", "field"),
    [
        (np.zeros((3, 12)), np.zeros(3, dtype=np.int64), "taper.step_pattern_mg"),
        (np.ones((2, 24)), np.ones(2, dtype=np.int64), "taper.step_pattern_mg"),  # no 0 mg end
        (np.zeros((2, 24)), np.ones(3, dtype=np.int64), "taper.step_days"),
        (np.zeros((2, 24)), np.array([-1, 0]), "taper.step_days"),
    ],
)
def test_a_malformed_taper_is_refused_naming_the_field(
    pattern: NDArray[np.float64], step_days: NDArray[np.int64], field: str
) -> None:
    pk = _pk(2)
    with pytest.raises(InputError) as caught:
        run_paced_kernel(
            pk, PacedTaper(pattern, step_days), Dosing(np.zeros(24), 1, 0.0, 0.0, 0.0),
            _pd(ToleranceModelName.MODERATOR), pacing_constants(ADVERSARIAL),
            BandSelection.none(2), 10,
        )  # fmt: skip
    assert caught.value.field == field


def test_a_stretch_beyond_any_integer_still_holds_the_taper() -> None:
    kernel, starts, ref = _both(RELENTLESS, ToleranceModelName.MODERATOR)
    _assert_same_decisions(kernel, starts, ref)
    assert max(state.stretch for state in ref.states) > 2.0**63
    assert (ref.pacing[:, PacingMetric.SLOWDOWNS] > 30).any()


def test_a_taper_of_only_the_0_mg_step_is_complete_on_day_0() -> None:
    n, days = 3, 5
    taper = PacedTaper(np.zeros((1, 24)), np.zeros(1, dtype=np.int64))
    dosing = Dosing(np.zeros(days * 24), 1, 0.0, 0.0, 0.0)
    pk, pd = _pk(n), _pd(ToleranceModelName.MODERATOR)
    ref = simulate_paced(pk, taper, dosing, pd, ADVERSARIAL, days=days)
    out = run_paced_kernel(
        pk, taper, dosing, pd, pacing_constants(ADVERSARIAL), BandSelection.none(n), days
    )
    np.testing.assert_array_equal(out.pacing, ref.pacing)
    np.testing.assert_array_equal(out.pacing[:, PacingMetric.TAPER_COMPLETED], 1.0)
    np.testing.assert_array_equal(out.pacing[:, PacingMetric.TAPER_DAYS], 0.0)
