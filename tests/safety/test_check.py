"""check_prescription: label maxima, paediatric mg/kg, co-medication, Beers 2023, conditions."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

import pytest
import tomli_w

from benzokit.drugs import load_drug
from benzokit.drugs.models import Population
from benzokit.errors import InputError, UnknownNameError
from benzokit.knowledge import Knowledge
from benzokit.safety import (
    Finding,
    PatientContext,
    Severity,
    check_prescription,
    load_rules,
    population,
)
from benzokit.safety.interactions import exposure_ratio

RULES_FILE = Path(str(resources.files("benzokit.safety").joinpath("data", "rules.toml")))
ISSUE_CONTEXT = PatientContext.create(
    age_y=72, comedications=["oxycodone", "gabapentin"], indication="panic"
)


def _codes(findings: tuple[Finding, ...], severity: Severity | None = None) -> set[str]:
    return {f.code for f in findings if severity is None or f.severity is severity}


def _one(findings: tuple[Finding, ...], code: str) -> Finding:
    matches = [f for f in findings if f.code == code]
    assert len(matches) == 1, (code, [f.code for f in findings])
    return matches[0]


def test_the_issue_example_raises_the_critical_and_warning_findings_with_sources() -> None:
    findings = check_prescription("clonazepam", 6.0, ISSUE_CONTEXT)
    assert _codes(findings, Severity.CRITICAL) == {"BZK-DOSE-ABOVE-LABEL-MAX", "BZK-OPIOID-COUSE"}
    assert _codes(findings, Severity.WARNING) == {
        "BZK-BEERS-BENZODIAZEPINE",
        "BZK-BEERS-CNS-ACTIVE-3",
        "BZK-BEERS-OPIOID-GABAPENTINOID",
        "BZK-GABAPENTINOID-COUSE",
    }
    assert [f.severity for f in findings][:2] == [Severity.CRITICAL, Severity.CRITICAL]
    assert all(f.source and f.message and f.action for f in findings)
    dose = _one(findings, "BZK-DOSE-ABOVE-LABEL-MAX")
    assert "6 mg/day" in dose.message and "4 mg/day" in dose.message and "panic" in dose.message
    assert "Klonopin" in dose.source
    opioid = _one(findings, "BZK-OPIOID-COUSE")
    assert "oxycodone" in opioid.message and "Boxed warning" in opioid.message
    assert "FDA" in opioid.source and "2016" in opioid.source
    for code in (
        "BZK-BEERS-BENZODIAZEPINE",
        "BZK-BEERS-CNS-ACTIVE-3",
        "BZK-BEERS-OPIOID-GABAPENTINOID",
    ):
        assert "10.1111/jgs.18372" in _one(findings, code).source
    assert "takes 3" in _one(findings, "BZK-BEERS-CNS-ACTIVE-3").message
    assert "2019" in _one(findings, "BZK-GABAPENTINOID-COUSE").source


@pytest.mark.parametrize("age", [None, 40.0])
def test_a_labelled_adult_panic_dose_without_comedication_has_no_warnings(
    age: float | None,
) -> None:
    findings = check_prescription("clonazepam", 1.0, PatientContext(age_y=age, indication="panic"))
    assert not _codes(findings, Severity.CRITICAL) | _codes(findings, Severity.WARNING)


def test_the_label_maximum_is_inclusive() -> None:
    context = PatientContext(age_y=40, indication="panic")
    assert "BZK-DOSE-ABOVE-LABEL-MAX" not in _codes(check_prescription("clonazepam", 4.0, context))
    assert "BZK-DOSE-ABOVE-LABEL-MAX" in _codes(check_prescription("clonazepam", 4.5, context))
    seizure = PatientContext(age_y=40, indication="seizure")
    assert "BZK-DOSE-ABOVE-LABEL-MAX" not in _codes(check_prescription("clonazepam", 6.0, seizure))


def test_without_an_indication_the_highest_labelled_maximum_is_used_and_said() -> None:
    findings = check_prescription("clonazepam", 25.0, PatientContext(age_y=40))
    assert "20 mg/day" in _one(findings, "BZK-INDICATION-NOT-GIVEN").message
    assert _one(findings, "BZK-DOSE-ABOVE-LABEL-MAX").severity is Severity.CRITICAL


def test_carbamazepine_states_the_exposure_fall_predicted_by_the_pk_engine() -> None:
    context = PatientContext.create(age_y=40, comedications=["carbamazepine"], indication="seizure")
    finding = _one(check_prescription("clonazepam", 2.0, context), "BZK-PK-EXPOSURE-CHANGE")
    assert "30 % lower" in finding.message and "0.70" in finding.message
    assert "PK engine" in finding.message and "Klonopin" in finding.source
    assert exposure_ratio(load_drug("clonazepam"), context) == pytest.approx(0.70, rel=1e-9)


@pytest.mark.parametrize("inhibitor", ["ketoconazole", "clarithromycin", "fluconazole"])
def test_cyp3a_inhibitors_are_reported_as_unquantified(inhibitor: str) -> None:
    context = PatientContext.create(comedications=[inhibitor], indication="panic")
    finding = _one(check_prescription("clonazepam", 1.0, context), "BZK-CYP3A-INHIBITOR")
    assert finding.severity is Severity.WARNING
    for phrase in ("not studied", "magnitude unknown", "not modelled", inhibitor):
        assert phrase in finding.message
    assert "BZK-PK-EXPOSURE-CHANGE" not in _codes(check_prescription("clonazepam", 1.0, context))


def test_an_unquantified_inducer_is_said_to_be_unquantified() -> None:
    context = PatientContext.create(comedications=["rifampin"], indication="panic")
    finding = _one(check_prescription("clonazepam", 1.0, context), "BZK-PK-INDUCER-UNQUANTIFIED")
    assert "not quantified" in finding.message and "not modelled" in finding.message


def test_valproate_with_clonazepam_warns_of_absence_status() -> None:
    context = PatientContext.create(comedications=["divalproex"], indication="seizure")
    finding = _one(check_prescription("clonazepam", 2.0, context), "BZK-VALPROATE-ABSENCE-STATUS")
    assert finding.severity is Severity.WARNING and "absence status" in finding.message
    assert "valproate" in finding.source.lower()
    other = check_prescription("diazepam", 10.0, PatientContext.create(comedications=["valproate"]))
    assert "BZK-VALPROATE-ABSENCE-STATUS" not in _codes(other)


def test_alcohol_and_other_cns_depressants_are_warnings_and_opioids_are_not_double_counted() -> (
    None
):
    context = PatientContext.create(
        comedications=["ethanol", "quetiapine", "morphine"], indication="panic"
    )
    findings = check_prescription("clonazepam", 1.0, context)
    assert _one(findings, "BZK-ALCOHOL").severity is Severity.WARNING
    depressants = _one(findings, "BZK-CNS-DEPRESSANT")
    assert "quetiapine" in depressants.message
    assert "morphine" not in depressants.message and "alcohol" not in depressants.message
    assert _one(findings, "BZK-OPIOID-COUSE").severity is Severity.CRITICAL


@pytest.mark.parametrize(("age", "expected"), [(64.9, False), (65.0, True), (90.0, True)])
def test_beers_applies_from_age_65(age: float, expected: bool) -> None:
    findings = check_prescription("clonazepam", 1.0, PatientContext(age_y=age, indication="panic"))
    assert ("BZK-BEERS-BENZODIAZEPINE" in _codes(findings)) is expected


def test_beers_counts_three_cns_active_drugs_including_the_benzodiazepine() -> None:
    two = PatientContext.create(age_y=70, comedications=["sertraline"], indication="panic")
    three = PatientContext.create(
        age_y=70, comedications=["sertraline", "zolpidem"], indication="panic"
    )
    assert "BZK-BEERS-CNS-ACTIVE-3" not in _codes(check_prescription("clonazepam", 1.0, two))
    assert "BZK-BEERS-CNS-ACTIVE-3" in _codes(check_prescription("clonazepam", 1.0, three))
    younger = PatientContext.create(
        age_y=50, comedications=["oxycodone", "gabapentin"], indication="panic"
    )
    codes = _codes(check_prescription("clonazepam", 1.0, younger))
    assert not {c for c in codes if c.startswith("BZK-BEERS")}
    assert "BZK-OPIOID-COUSE" in codes


def test_a_paediatric_start_above_the_mg_per_kg_limit_is_critical() -> None:
    child = PatientContext(age_y=6, weight_kg=20, indication="seizure")
    findings = check_prescription("clonazepam", 0.1 * 20, child, starting=True)
    finding = _one(findings, "BZK-PAED-START-ABOVE-MAX")
    assert finding.severity is Severity.CRITICAL
    assert "0.1 mg/kg/day" in finding.message and "0.05 mg/kg/day" in finding.message
    assert finding.action is not None and "0.01-0.03 mg/kg/day" in finding.action
    ok = check_prescription("clonazepam", 0.03 * 20, child, starting=True)
    assert not _codes(ok, Severity.CRITICAL) | _codes(ok, Severity.WARNING)


def test_a_paediatric_maintenance_dose_above_the_labelled_range_is_a_warning() -> None:
    child = PatientContext(age_y=8, weight_kg=25, indication="seizure")
    assert not _codes(check_prescription("clonazepam", 0.2 * 25, child), Severity.WARNING)
    finding = _one(check_prescription("clonazepam", 0.3 * 25, child), "BZK-PAED-ABOVE-MAINTENANCE")
    assert finding.severity is Severity.WARNING and "0.1-0.2 mg/kg/day" in finding.message


def test_a_child_without_a_weight_is_told_the_mg_per_kg_limits_were_not_checked() -> None:
    findings = check_prescription("clonazepam", 0.5, PatientContext(age_y=6, indication="seizure"))
    assert "--weight" in (_one(findings, "BZK-WEIGHT-NEEDED").action or "")


@pytest.mark.parametrize(
    ("age", "weight", "expected"),
    [
        (10, None, Population.PAEDIATRIC),
        (11, 30, Population.PAEDIATRIC),
        (None, 12, Population.PAEDIATRIC),
        (11, 31, Population.ADULT),
        (16, None, Population.ADULT),
        (80, 60, Population.ADULT),  # no elderly dosing in the clonazepam label
    ],
)
def test_the_population_follows_the_label_bounds(
    age: float | None, weight: float | None, expected: Population
) -> None:
    context = PatientContext(age_y=age, weight_kg=weight, indication="seizure")
    assert population(load_drug("clonazepam"), context) is expected


def test_elderly_dosing_is_used_where_the_label_has_it() -> None:
    zolpidem = load_drug("zolpidem")
    old = PatientContext(age_y=72, indication="insomnia")
    assert population(zolpidem, old) is Population.ELDERLY
    finding = _one(check_prescription(zolpidem, 10.0, old), "BZK-DOSE-ABOVE-LABEL-MAX")
    assert "5 mg/day" in finding.message and "elderly" in finding.message


@pytest.mark.parametrize(("age", "weight"), [(14, 50), (8, 25)])
def test_panic_in_a_minor_has_no_labelled_dosing(age: float, weight: float) -> None:
    context = PatientContext(age_y=age, weight_kg=weight, indication="panic")
    finding = _one(check_prescription("clonazepam", 0.5, context), "BZK-NO-LABELLED-DOSING")
    assert finding.severity is Severity.WARNING and f"age {age:g} y" in finding.message


def test_a_starting_dose_above_the_labelled_start_is_a_warning() -> None:
    context = PatientContext(age_y=40, indication="panic")
    finding = _one(
        check_prescription("clonazepam", 1.0, context, starting=True), "BZK-START-ABOVE-LABEL"
    )
    assert "0.5 mg/day" in finding.message
    assert "BZK-START-ABOVE-LABEL" not in _codes(
        check_prescription("clonazepam", 0.5, context, starting=True)
    )


@pytest.mark.parametrize(
    ("condition", "code", "severity"),
    [
        ("pregnancy", "BZK-PREGNANCY", Severity.WARNING),
        ("hepatic_impairment", "BZK-CONTRAINDICATED-LIVER", Severity.CRITICAL),
        ("narrow_angle_glaucoma", "BZK-CONTRAINDICATED-GLAUCOMA", Severity.CRITICAL),
        ("copd", "BZK-RESPIRATORY", Severity.WARNING),
        ("sleep_apnoea", "BZK-SLEEP-APNOEA", Severity.WARNING),
        ("myasthenia_gravis", "BZK-MYASTHENIA-GRAVIS", Severity.WARNING),
        ("substance_use_history", "BZK-SUBSTANCE-USE", Severity.WARNING),
        ("suicidality", "BZK-SUICIDALITY", Severity.WARNING),
        ("falls_history", "BZK-BEERS-FALLS", Severity.WARNING),
        ("dementia", "BZK-BEERS-DEMENTIA", Severity.WARNING),
        ("delirium", "BZK-BEERS-DELIRIUM", Severity.WARNING),
    ],
)
def test_each_condition_raises_its_finding_with_a_source(
    condition: str, code: str, severity: Severity
) -> None:
    context = PatientContext(age_y=40, conditions=(condition,), indication="panic")
    finding = _one(check_prescription("clonazepam", 1.0, context), code)
    assert finding.severity is severity and finding.source and finding.action


def test_hepatic_impairment_is_a_contraindication_for_clonazepam_only() -> None:
    context = PatientContext(conditions=("liver disease",))
    finding = _one(check_prescription("lorazepam", 2.0, context), "BZK-HEPATIC-IMPAIRMENT")
    assert finding.severity is Severity.WARNING and "unverified" in finding.source


def test_the_pregnant_flag_and_the_condition_are_the_same() -> None:
    flagged = PatientContext(pregnant=True)
    assert flagged.conditions == ("pregnancy",)
    # an alias is named as the rule set of the check names it
    assert PatientContext(conditions=("pregnant",)).resolved(load_rules()).pregnant


def test_unknown_values_are_input_errors_naming_the_field_and_what_is_allowed() -> None:
    with pytest.raises(UnknownNameError) as info:  # judged by the rule set the check uses
        check_prescription("clonazepam", 1.0, PatientContext(conditions=("gout",)))
    assert "condition" in str(info.value) and "sleep_apnoea" in str(info.value)
    with pytest.raises(InputError, match=r"indication.*seizure, panic"):
        check_prescription("clonazepam", 1.0, PatientContext(indication="insomnia"))
    with pytest.raises(InputError, match="daily dose"):
        check_prescription("clonazepam", -1.0)
    with pytest.raises(InputError, match="age"):
        PatientContext(age_y=-3)
    with pytest.raises(InputError, match="weight"):
        PatientContext(weight_kg=0)
    with pytest.raises(UnknownNameError, match="co-medication"):
        PatientContext.create(comedications=["unobtainium"])


def test_the_rules_of_a_clinic_overlay_are_the_ones_checked(tmp_path: Path) -> None:
    """``knowledge=`` reaches every part of the check: here an overlay's elderly age of 60 (Beers
    finding and elderly labelled dosing alike)."""
    data = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))
    data["parameters"]["elderly_age_y"]["value"] = 60
    (tmp_path / "rules.toml").write_text(tomli_w.dumps(data), encoding="utf-8")
    clinic = Knowledge.with_overlay(tmp_path)
    context = PatientContext(age_y=62, indication="insomnia")
    shipped = check_prescription("zolpidem", 10.0, context)
    adjusted = check_prescription("zolpidem", 10.0, context, knowledge=clinic)
    assert "BZK-BEERS-BENZODIAZEPINE" not in _codes(shipped)
    assert "BZK-DOSE-ABOVE-LABEL-MAX" not in _codes(shipped)
    assert {"BZK-BEERS-BENZODIAZEPINE", "BZK-DOSE-ABOVE-LABEL-MAX"} <= _codes(adjusted)
    assert population(load_drug("zolpidem"), context, load_rules(clinic)) is Population.ELDERLY
