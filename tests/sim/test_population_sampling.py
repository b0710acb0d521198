"""Virtual subjects: reproducible per subject, and distributed as the settings say."""

from __future__ import annotations

import numpy as np
import pytest

from benzokit import load_drug
from benzokit.sim.population.sample import sample_subjects
from benzokit.sim.population.settings import build_settings

DRUG = load_drug("clonazepam")


def test_a_subject_gets_the_same_parameters_whatever_the_chunking() -> None:
    settings = build_settings(
        DRUG, {"covariates": {"comedication_prevalence": {"carbamazepine": 0.3}}}
    )
    whole = sample_subjects(DRUG, settings, 42, np.arange(1000, dtype=np.int64))
    parts = [
        sample_subjects(DRUG, settings, 42, np.arange(a, b, dtype=np.int64))
        for a, b in ((0, 333), (333, 1000))
    ]
    for field in ("clearance_l_h", "central_volume_l", "weight_kg", "absorption_rate_per_h"):
        joined = np.concatenate([getattr(p, field) for p in parts])
        np.testing.assert_array_equal(getattr(whole, field), joined)
    reversed_ids = sample_subjects(DRUG, settings, 42, np.arange(999, -1, -1, dtype=np.int64))
    np.testing.assert_array_equal(whole.clearance_l_h, reversed_ids.clearance_l_h[::-1])


def test_different_seeds_give_different_subjects() -> None:
    settings = build_settings(DRUG)
    ids = np.arange(100, dtype=np.int64)
    assert not np.allclose(sample_subjects(DRUG, settings, 1, ids).clearance_l_h,
                           sample_subjects(DRUG, settings, 2, ids).clearance_l_h)  # fmt: skip


def test_log_normal_variability_and_correlation_follow_the_settings() -> None:
    cv_cl, cv_vc, rho = 0.201, 0.25, 0.3  # clearance CV: Yukawa 2002
    settings = build_settings(DRUG, {"covariates": {"weight_sd_kg": 0.0, "weight_mean_kg": 70.0}})
    assert settings.iiv_cv["clearance"] == pytest.approx(cv_cl)
    s = sample_subjects(DRUG, settings, 5, np.arange(40_000, dtype=np.int64))
    eta_cl = np.log(s.clearance_l_h / np.median(s.clearance_l_h))
    eta_vc = np.log(s.central_volume_l / np.median(s.central_volume_l))
    assert eta_cl.std() == pytest.approx(np.sqrt(np.log1p(cv_cl**2)), rel=0.03)
    assert eta_vc.std() == pytest.approx(np.sqrt(np.log1p(cv_vc**2)), rel=0.03)
    assert np.corrcoef(eta_cl, eta_vc)[0, 1] == pytest.approx(rho, abs=0.02)
    assert np.median(s.clearance_l_h) == pytest.approx(3.3, rel=0.01)


def test_covariates_and_comedication_prevalence() -> None:
    settings = build_settings(
        DRUG, {"covariates": {"comedication_prevalence": {"carbamazepine": 0.2}}}
    )
    s = sample_subjects(DRUG, settings, 9, np.arange(40_000, dtype=np.int64))
    cov = settings.covariates
    assert s.weight_kg.min() >= cov.weight_min_kg and s.weight_kg.max() <= cov.weight_max_kg
    assert s.weight_kg.mean() == pytest.approx(cov.weight_mean_kg, rel=0.02)
    assert cov.age_min_y <= s.age_y.min() and s.age_y.max() <= cov.age_max_y
    assert s.female.mean() == pytest.approx(cov.female_fraction, abs=0.01)
    taking = s.comedication["carbamazepine"]
    assert taking.mean() == pytest.approx(0.2, abs=0.01)
    # label: carbamazepine lowers clonazepam levels by about 30 % -> clearance / 0.7
    ratio = np.median(s.clearance_l_h[taking] / s.weight_kg[taking] ** 0.819) / np.median(
        s.clearance_l_h[~taking] / s.weight_kg[~taking] ** 0.819
    )
    assert ratio == pytest.approx(1 / 0.7, rel=0.03)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"iiv_cv": {"clearence": 0.2}}, "unknown parameter"),
        ({"adherence": {"missed_fraction": 0.8, "doubled_fraction": 0.5}}, "at most 1"),
        ({"covariates": {"weight_min_kg": 100.0, "weight_max_kg": 50.0}}, "weight_min_kg"),
        ({"covariates": {"comedication_prevalence": {"carbamazepine": 1.5}}}, "fraction"),
    ],
)
def test_bad_settings_are_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_settings(DRUG, overrides)
