"""Kaplan–Meier and quantile intervals: a textbook example by hand, and properties on random data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benzokit.sim.trial.survival import kaplan_meier, quantile_interval

# The 6-MP arm of the Freireich et al. (1963) leukaemia remission trial, weeks in remission, "+" censored:
# 6 6 6 6+ 7 9+ 10 10+ 11+ 13 16 17+ 19+ 20+ 22 23 25+ 32+ 32+ 34+ 35+ (21 patients). The product-limit
# estimate and Greenwood standard errors are Table 4.1A of Klein JP, Moeschberger ML, Survival Analysis:
# Techniques for Censored and Truncated Data, 2nd ed., Springer 2003 (also Kleinbaum & Klein, Survival
# Analysis: A Self-Learning Text, ch. 2). Computed by hand: at week 6, 3 events among 21 at risk (the
# patient censored at 6 is at risk at 6): 18/21 = 0.8571; week 7, 1 of 17: 0.8571 x 16/17 = 0.8067; ...
WEEKS = np.array([6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35.0])
RELAPSED = np.array([1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0], dtype=bool)
TABLE_TIMES = [6, 7, 10, 13, 16, 22, 23]
TABLE_AT_RISK = [21, 17, 15, 12, 11, 7, 6]
TABLE_SURVIVAL = [0.857, 0.807, 0.753, 0.690, 0.627, 0.538, 0.448]
TABLE_SE = [0.076, 0.087, 0.096, 0.107, 0.114, 0.128, 0.135]


def test_the_product_limit_estimate_of_the_six_mp_arm() -> None:
    km = kaplan_meier(WEEKS, RELAPSED)
    np.testing.assert_array_equal(km.time, TABLE_TIMES)
    np.testing.assert_array_equal(km.at_risk, TABLE_AT_RISK)
    np.testing.assert_array_equal(km.events, [3, 1, 1, 1, 1, 1, 1])
    np.testing.assert_allclose(km.survival, TABLE_SURVIVAL, atol=5e-4)
    np.testing.assert_allclose(km.standard_error, TABLE_SE, atol=5e-4)
    assert km.survival[0] == pytest.approx(18 / 21)
    assert km.survival[1] == pytest.approx(18 / 21 * 16 / 17)
    # a step function: S between event times is the last value, 1 before the first
    assert km.at(5.9) == 1.0 and km.at(6) == pytest.approx(18 / 21) and km.at(12) == km.survival[2]
    # the median is the first time S <= 0.5: week 23 (0.448); its upper limit is never reached
    median, low, high = km.time_to(0.5)
    assert median == 23 and low is not None and low < 23 and high is None


def test_tied_censoring_counts_as_at_risk_at_the_event_time() -> None:
    # two events and one censoring at t = 2 among 4: S(2) = 1 - 2/4 (the censored one is at risk)
    km = kaplan_meier(np.array([1.0, 2, 2, 2]), np.array([False, True, True, False]))
    np.testing.assert_array_equal(km.time, [2.0])
    assert km.survival[0] == pytest.approx(1 - 2 / 3)  # after t = 1 (censored) 3 are at risk


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=200))
def test_without_censoring_it_is_the_empirical_survival(durations: list[int]) -> None:
    values = np.array(durations, dtype=float)
    km = kaplan_meier(values, np.ones(values.size, dtype=bool))
    for t in range(-1, 42):
        assert km.at(t) == pytest.approx(float((values > t).mean()), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=150),
    st.lists(st.booleans(), min_size=150, max_size=150),
)
def test_the_curve_never_rises_and_censoring_never_lowers_it(
    durations: list[int], observed: list[bool]
) -> None:
    values = np.array(durations, dtype=float)
    events = np.array(observed[: values.size])
    km = kaplan_meier(values, events)
    assert np.all(np.diff(km.survival) <= 1e-15)
    everyone = kaplan_meier(values, np.ones(values.size, dtype=bool))
    for t in range(32):  # treating a censored subject as an event can only lower S
        assert km.at(t) >= everyone.at(t) - 1e-12


def test_a_quantile_interval_brackets_the_estimate_and_narrows_with_n() -> None:
    rng = np.random.default_rng(3)
    small = quantile_interval(rng.standard_normal(400), 0.95)
    large = quantile_interval(rng.standard_normal(40_000), 0.95)
    for estimate, low, high in (small, large):
        assert low <= estimate <= high
        assert low < 1.6449 < high  # the normal's 95th percentile
    assert large[2] - large[1] < (small[2] - small[1]) / 5
