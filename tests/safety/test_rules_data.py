"""The rule file: it validates, every rule and number cites a defined source, bad files fail clearly."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from benzokit.drugs.models import SourceKind
from benzokit.errors import DataError
from benzokit.safety import Severity, load_rule_file, load_rules
from benzokit.safety.rules import DRUG_LABEL, REQUIRED_RULES

RULES_FILE = Path(str(resources.files("benzokit.safety").joinpath("data", "rules.toml")))
REQUIRED_CONDITIONS = {
    "pregnancy", "hepatic_impairment", "narrow_angle_glaucoma", "respiratory_disease",
    "sleep_apnoea", "myasthenia_gravis", "substance_use_history", "suicidality", "falls_history",
    "dementia", "delirium",
}  # fmt: skip


def test_the_shipped_rule_file_validates_and_is_versioned() -> None:
    rules = load_rules()
    assert rules.schema_version == 1
    assert rules.data_version
    assert set(rules.rules) >= REQUIRED_RULES
    assert set(rules.conditions) >= REQUIRED_CONDITIONS


def test_every_rule_and_every_number_cites_a_defined_source() -> None:
    rules = load_rules()
    for where, rule in rules.all_rules():
        assert rule.source == DRUG_LABEL or rule.source in rules.sources, where
        for name, figure in rule.parameters.items():
            assert figure.source == DRUG_LABEL or figure.source in rules.sources, (where, name)
    for name, figure in rules.parameters.items():
        assert figure.source == DRUG_LABEL or figure.source in rules.sources, name
    for figure in (rules.taper_pace.max_reduction_fraction, rules.taper_pace.window_days):
        assert figure.source in rules.sources
    for key, source in rules.sources.items():
        assert source.citation, key


def test_codes_are_stable_unique_and_uppercase() -> None:
    codes = [rule.code for _, rule in load_rules().all_rules()]
    assert len(codes) == len(set(codes))
    assert all(code.startswith("BZK-") and code == code.upper() for code in codes)


def test_the_guideline_numbers_live_in_the_data_with_their_sources() -> None:
    rules = load_rules()
    assert rules.parameters["elderly_age_y"].value == 65
    assert rules.parameters["elderly_age_y"].source == "beers2023"
    assert rules.sources["beers2023"].doi == "10.1111/jgs.18372"
    assert rules.rules["beers_cns_active"].parameters["min_count"].value == 3
    pace = rules.taper_pace  # the one entry the planner and both pace checks read
    assert pace.max_reduction_fraction.value == 0.25
    assert pace.window_days.value == 14
    assert pace.window_days.source == "asam2025"
    assert not rules.rules["taper_rate"].parameters  # no copy beside the one entry
    assert rules.sources["asam2025"].doi == "10.1007/s11606-025-09499-2"
    assert {"fda_boxed_2016", "fda_boxed_2020"} <= set(rules.sources)
    assert rules.sources["fda_boxed_2016"].kind is SourceKind.GUIDELINE


def test_severities_match_the_label_wording() -> None:
    rules = load_rules()
    assert rules.rules["opioid"].severity is Severity.CRITICAL  # boxed warning
    assert rules.rules["alcohol"].severity is Severity.WARNING  # label warning, not boxed
    assert rules.rules["abrupt_stop"].severity is Severity.CRITICAL
    liver = rules.conditions["hepatic_impairment"].rule_for("clonazepam")
    assert liver is not None and liver.severity is Severity.CRITICAL  # contraindication
    generic = rules.conditions["hepatic_impairment"].rule_for("lorazepam")
    assert generic is not None and generic.severity is Severity.WARNING


def test_condition_aliases_resolve() -> None:
    rules = load_rules()
    assert rules.resolve_condition("COPD") == "respiratory_disease"
    assert rules.resolve_condition("sleep apnea") == "sleep_apnoea"
    assert rules.resolve_condition("narrow-angle glaucoma") == "narrow_angle_glaucoma"


def _write_modified(tmp_path: Path, edit: Callable[[dict[str, Any]], object]) -> Path:
    data = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "rules.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("edit", "field", "problem"),
    [
        (
            lambda d: d["rules"]["opioid"].update(severity="fatal"),
            "rules.opioid.severity",
            "critical",
        ),
        (lambda d: d["rules"]["opioid"].pop("code"), "rules.opioid.code", "Field required"),
        (lambda d: d["rules"]["opioid"].update(code="opioid"), "rules.opioid.code", "pattern"),
        (lambda d: d["rules"].pop("taper_rate"), "(top level)", "taper_rate"),
        (lambda d: d["rules"]["alcohol"].update(source="nobody2099"), "(top level)", "nobody2099"),
        (
            lambda d: d["taper_pace"]["window_days"].update(value="two weeks"),
            "taper_pace.window_days.value",
            "number",
        ),
        (
            lambda d: d["taper_pace"]["max_reduction_fraction"].update(value=25),
            "taper_pace",
            "not a fraction",
        ),
        (lambda d: d["taper_pace"]["window_days"].update(value=10.5), "taper_pace", "whole"),
        (lambda d: d.pop("taper_pace"), "taper_pace", "Field required"),
        (lambda d: d["rules"].pop("change_pace"), "(top level)", "change_pace"),
        (
            lambda d: d["rules"]["alcohol"].update(code="BZK-OPIOID-COUSE"),
            "(top level)",
            "BZK-OPIOID-COUSE",
        ),
        (lambda d: d["rules"]["alcohol"].update(message="Alcohol {drug"), "rules.alcohol", "parse"),
        (lambda d: d.update(schema_version=2), "schema_version", "1"),
        (lambda d: d.update(surprise=1), "surprise", "Extra inputs"),
        (
            lambda d: d["conditions"]["pregnancy"].update(rules=[]),
            "conditions.pregnancy.rules",
            "at least 1",
        ),
    ],
)
def test_a_malformed_rule_file_names_the_file_the_field_and_the_problem(
    tmp_path: Path, edit: Callable[[dict[str, Any]], object], field: str, problem: str
) -> None:
    path = _write_modified(tmp_path, edit)
    with pytest.raises(DataError) as info:
        load_rule_file(path)
    message = str(info.value)
    assert str(path) in message
    assert f"field '{field}'" in message
    assert problem in message


def test_a_rule_file_that_is_not_toml_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text("schema_version = 'x\n", encoding="utf-8")
    with pytest.raises(DataError, match="not valid TOML"):
        load_rule_file(path)
