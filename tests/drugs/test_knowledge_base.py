"""The knowledge base: every shipped file validates, every figure is sourced, bad files fail clearly."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import tomli_w
from pydantic import BaseModel

from benzokit.drugs import (
    Figure,
    list_drugs,
    load_agents,
    load_drug,
    load_drug_file,
    resolve_agents,
)
from benzokit.errors import DataError, PlaceholderValueError, UnknownNameError
from benzokit.knowledge import Knowledge

REQUIRED_DRUGS = {
    "clonazepam", "diazepam", "alprazolam", "lorazepam", "oxazepam", "temazepam",
    "chlordiazepoxide", "clobazam", "zolpidem", "zopiclone", "eszopiclone",
}  # fmt: skip
CLONAZEPAM_FILE = Knowledge.shipped().path("clonazepam.toml")


def _figures(value: object) -> list[Figure]:
    if isinstance(value, Figure):
        return [value]
    if isinstance(value, BaseModel):
        return [f for name in type(value).model_fields for f in _figures(getattr(value, name))]
    if isinstance(value, tuple | list):
        return [f for item in value for f in _figures(item)]
    if isinstance(value, dict):
        return [f for item in value.values() for f in _figures(item)]
    return []


@pytest.mark.parametrize("name", list_drugs())
def test_every_shipped_drug_file_loads_and_every_figure_cites_a_defined_source(name: str) -> None:
    drug = load_drug(name)
    figures = _figures(drug)
    assert figures, "a drug file without figures"
    for figure in figures:
        assert figure.source in drug.sources
        assert drug.source_of(figure).citation


def test_the_required_drugs_are_present() -> None:
    missing = REQUIRED_DRUGS - set(list_drugs())
    assert not missing, f"knowledge base lacks {sorted(missing)}"


def test_clonazepam_is_complete() -> None:
    drug = load_drug("clonazepam")
    assert drug.pk.structure == "two_compartment"
    assert {lim.indication for lim in drug.dose_limits} >= {"seizure", "panic"}
    assert {lim.population for lim in drug.dose_limits} >= {"adult", "paediatric"}
    assert drug.equivalence.range_mg == (0.5, 1.0)  # Ashton 0.5 mg, VA/DoD 1 mg (ASAM 2025 Table 7)
    assert drug.strengths_mg() == (0.125, 0.25, 0.5, 1.0, 2.0)
    assert any(p.concentration_mg_ml == 2.5 for p in drug.products)
    assert drug.yukawa2002 is not None
    panic = next(lim for lim in drug.dose_limits if lim.indication == "panic")
    assert panic.max_daily_mg is not None and panic.max_daily_mg.value == 4  # label


def test_agents_resolve_by_name_and_alias() -> None:
    agents = resolve_agents(["Carbamazepine", "rifampicin", " ethanol "])
    assert [a.name for a in agents] == ["carbamazepine", "rifampin", "alcohol"]
    assert "opioid" in load_agents().agents["oxycodone"].classes


def test_unknown_agent_lists_the_known_ones() -> None:
    with pytest.raises(UnknownNameError) as info:
        resolve_agents(["unobtainium"])
    assert "unobtainium" in str(info.value) and "carbamazepine" in str(info.value)


def test_unknown_drug_lists_the_known_ones() -> None:
    with pytest.raises(UnknownNameError, match="clonazepam"):
        load_drug("clonazepm")


def _write_modified(tmp_path: Path, edit: object) -> Path:
    data = tomllib.loads(CLONAZEPAM_FILE.read_text())
    edit(data)  # type: ignore[operator]
    path = tmp_path / "clonazepam.toml"
    path.write_text(tomli_w.dumps(data))
    return path


@pytest.mark.parametrize(
    ("edit", "field", "problem"),
    [
        (lambda d: d["pk"].pop("clearance_l_h"), "pk.clearance_l_h", "Field required"),
        (
            lambda d: d["pk"]["clearance_l_h"].update(value="fast"),
            "pk.clearance_l_h.value",
            "number",
        ),
        (
            lambda d: d["pk"]["half_life_h"].update(low=50, high=40),
            "pk.half_life_h",
            "above 'high'",
        ),
        (
            lambda d: d["pk"].update(structure="three_compartment"),
            "pk.structure",
            "two_compartment",
        ),
        (lambda d: d["pk"].pop("peripheral_volume_l"), "pk", "peripheral_volume_l"),
        (lambda d: d["products"][0].update(smallest_split=0.3), "products.0", "smallest_split"),
        (lambda d: d["products"][1].update(smallest_split=0.5), "products.1", "not split"),
        (lambda d: d.update(surprise=1), "surprise", "Extra inputs"),
        (
            lambda d: d["pk"]["bioavailability"].update(source="nobody2099"),
            "(top level)",
            "nobody2099",
        ),
        (lambda d: d.update(name="clonazepan"), "name", "file is named"),
    ],
)
def test_a_malformed_file_names_the_file_the_field_and_the_problem(
    tmp_path: Path, edit: object, field: str, problem: str
) -> None:
    path = _write_modified(tmp_path, edit)
    with pytest.raises(DataError) as info:
        load_drug_file(path)
    message = str(info.value)
    assert str(path) in message
    assert f"field '{field}'" in message
    assert problem in message


def test_invalid_toml_syntax_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("name = 'x\n")
    with pytest.raises(DataError, match="not valid TOML"):
        load_drug_file(path)


def test_a_placeholder_figure_fails_loudly_when_used() -> None:
    figure = Figure(value=1.0, source="x", placeholder=True)
    with pytest.raises(PlaceholderValueError, match="placeholder"):
        figure.require("pk.example")


def test_a_range_only_figure_cannot_be_used_as_a_value() -> None:
    with pytest.raises(PlaceholderValueError, match="only a range"):
        Figure(low=1.0, high=2.0, source="x").require("pk.example")
