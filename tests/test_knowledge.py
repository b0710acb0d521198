"""The knowledge base as one object: shipped files, a clinic's overlay, one load per file, a version."""

from __future__ import annotations

from pathlib import Path

import pytest

from benzokit.drugs import list_drugs, load_drug
from benzokit.errors import DataError
from benzokit.knowledge import Knowledge
from benzokit.knowledge_check import check_knowledge
from benzokit.safety.rules import load_rules

EXAMPLE = Path(__file__).parents[1] / "examples" / "clinic-knowledge"


def test_the_shipped_knowledge_is_one_instance_and_loads_each_file_once() -> None:
    shipped = Knowledge.shipped()
    assert Knowledge.with_overlay(None) is shipped
    assert load_rules(shipped) is load_rules(shipped)
    assert load_drug("clonazepam", shipped) is load_drug("Clonazepam ", shipped)
    assert "clonazepam" in list_drugs(shipped)
    assert "agents" not in list_drugs(shipped)


def test_an_overlay_file_replaces_the_shipped_one_and_changes_the_version(tmp_path: Path) -> None:
    shipped_rules = Knowledge.shipped().path("rules.toml").read_text(encoding="utf-8")
    (tmp_path / "rules.toml").write_text(shipped_rules, encoding="utf-8")
    same = Knowledge.with_overlay(tmp_path)
    assert same.path("rules.toml") == tmp_path / "rules.toml"
    assert same.path("clonazepam.toml") == Knowledge.shipped().path("clonazepam.toml")
    assert same.version != Knowledge.shipped().version  # same bytes, but a clinic's set of files
    assert "+clinic." in same.version and "+shipped." in Knowledge.shipped().version

    (tmp_path / "rules.toml").write_text(shipped_rules + "\n# adjusted\n", encoding="utf-8")
    assert Knowledge.with_overlay(tmp_path).version != same.version


def test_an_overlay_file_that_replaces_nothing_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "rule.toml").write_text("", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        Knowledge.with_overlay(tmp_path)
    assert caught.value.path == str(tmp_path / "rule.toml")
    assert "rules.toml" in caught.value.problem


def test_an_overlay_is_validated_as_the_shipped_file_is(tmp_path: Path) -> None:
    (tmp_path / "rules.toml").write_text(
        'schema_version = 1\ndata_version = "x"\n', encoding="utf-8"
    )
    knowledge = Knowledge.with_overlay(tmp_path)
    with pytest.raises(DataError) as caught:
        load_rules(knowledge)
    assert caught.value.path == str(tmp_path / "rules.toml")


def test_a_missing_overlay_folder_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a folder"):
        Knowledge.with_overlay(tmp_path / "absent")


def test_a_whole_knowledge_base_is_checked_population_defaults_included(tmp_path: Path) -> None:
    text = Knowledge.shipped().path("population.toml").read_text(encoding="utf-8")
    assert "[iiv_cv]" in text
    (tmp_path / "population.toml").write_text(text.replace("[iiv_cv]", "[iiv_cvv]"), "utf-8")
    with pytest.raises(DataError) as caught:
        check_knowledge(Knowledge.with_overlay(tmp_path))
    assert caught.value.path == str(tmp_path / "population.toml")
    assert check_knowledge(Knowledge.shipped()).overlaid == ()


def test_the_example_clinic_overlay_differs_from_the_shipped_rules_only_in_its_pace() -> None:
    """examples/clinic-knowledge/rules.toml is a whole copy (an overlay replaces a file whole): when the
    shipped rules change, this says the example must be copied again with its one change."""
    example = Knowledge.with_overlay(EXAMPLE)
    clinic, shipped = load_rules(example), load_rules(Knowledge.shipped())
    assert clinic.taper_pace.max_reduction_fraction.value == 0.10
    unchanged = {"taper_pace", "data_version"}
    assert clinic.model_dump(exclude=unchanged) == shipped.model_dump(exclude=unchanged), (
        "copy src/benzokit/safety/data/rules.toml to examples/clinic-knowledge/ again, "
        "keeping the example's [taper_pace] fraction of 0.10 and its header"
    )
