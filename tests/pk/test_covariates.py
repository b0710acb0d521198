"""Covariates: weight scaling, the labelled inducer effect, Yukawa 2002, unquantified inhibitors."""

from __future__ import annotations

import pytest

from benzokit import Patient, TimeGrid, load_drug, parse_regimen, simulate
from benzokit.errors import InputError
from benzokit.patient import ComedicationModel
from benzokit.pk import PKModel, individualize

CLONAZEPAM = load_drug("clonazepam")
TYPICAL = PKModel.from_parameters(CLONAZEPAM.pk)


def _steady_cavg(patient: Patient) -> float:
    result = simulate(
        CLONAZEPAM,
        parse_regimen("0.5 mg bid", steady_state=True),
        grid=TimeGrid.days(1),
        patient=patient,
    )
    return result.summary.cavg_last_24h_ng_ml


def test_no_covariates_gives_the_typical_adult() -> None:
    individual = individualize(CLONAZEPAM, Patient())
    assert individual.model == TYPICAL
    assert "70 kg" in individual.covariates[0].message


@pytest.mark.parametrize("inducer", ["carbamazepine", "phenytoin", "phenobarbital"])
def test_labelled_inducers_lower_steady_state_levels_by_30_percent(inducer: str) -> None:
    """Klonopin label: phenytoin, carbamazepine, phenobarbital decrease clonazepam levels by ≈30 %."""
    ratio = _steady_cavg(Patient(comedications=(inducer,))) / _steady_cavg(Patient())
    assert ratio == pytest.approx(0.70, rel=1e-9)


def test_two_labelled_inducers_do_not_stack_an_invented_effect() -> None:
    ratio = _steady_cavg(Patient(comedications=("carbamazepine", "phenytoin"))) / _steady_cavg(
        Patient()
    )
    assert ratio == pytest.approx(0.70, rel=1e-9)


@pytest.mark.parametrize("inhibitor", ["ketoconazole", "clarithromycin", "fluconazole"])
def test_cyp3a_inhibitors_are_reported_unquantified_and_change_nothing(inhibitor: str) -> None:
    individual = individualize(CLONAZEPAM, Patient(comedications=(inhibitor,)))
    assert individual.model == TYPICAL
    (note,) = individual.interactions
    assert note.exposure_ratio is None and not note.modelled
    assert "unknown" in note.message


def test_no_effect_agents_change_nothing() -> None:
    individual = individualize(CLONAZEPAM, Patient(comedications=("fluoxetine",)))
    assert individual.model == TYPICAL
    assert individual.interactions[0].effect == "none"


def test_weight_scales_clearance_by_yukawa_exponent_and_volumes_linearly() -> None:
    """Yukawa 2002: CL/F per kg ∝ WT^−0.181, so CL ∝ WT^0.819."""
    model = individualize(CLONAZEPAM, Patient(weight_kg=35.0)).model
    assert model.clearance_l_h / TYPICAL.clearance_l_h == pytest.approx(0.5**0.819)
    assert model.central_volume_l / TYPICAL.central_volume_l == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("comeds", "weight_kg", "factor"),
    [
        (("carbamazepine",), 30.0, 1.18),
        (("valproate",), 30.0, 1.18),
        (("carbamazepine", "valproate"), 30.0, 2.12 * 30.0**-0.119),
    ],
)
def test_yukawa_comedication_factors(
    comeds: tuple[str, ...], weight_kg: float, factor: float
) -> None:
    """Yukawa 2002: × 1.18 with one antiepileptic; × 2.12·WT^−0.119 with two or more."""
    alone = individualize(
        CLONAZEPAM, Patient(weight_kg=weight_kg, comedication_model=ComedicationModel.YUKAWA2002)
    )
    with_aed = individualize(
        CLONAZEPAM,
        Patient(
            weight_kg=weight_kg,
            comedications=comeds,
            comedication_model=ComedicationModel.YUKAWA2002,
        ),
    )
    assert with_aed.model.clearance_l_h / alone.model.clearance_l_h == pytest.approx(factor)


def test_yukawa_with_two_antiepileptics_needs_weight() -> None:
    patient = Patient(
        comedications=("carbamazepine", "valproate"),
        comedication_model=ComedicationModel.YUKAWA2002,
    )
    with pytest.raises(InputError, match="body weight"):
        individualize(CLONAZEPAM, patient)


@pytest.mark.parametrize(
    ("weight", "age"), [(0.1, None), (400.0, None), (None, -1.0), (None, 130.0)]
)
def test_patient_bounds(weight: float | None, age: float | None) -> None:
    with pytest.raises(InputError):
        Patient(weight_kg=weight, age_y=age)
