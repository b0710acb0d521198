"""The symptom scales: published band edges, scoring of web-form answers, escalation, data validation."""

from __future__ import annotations

import math
import re
import shutil
import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import given
from hypothesis import strategies as st

from benzokit.errors import DataError, InputError, PlaceholderValueError, UnknownNameError
from benzokit.monitor import (
    Scale,
    ScaleScore,
    escalates,
    escalation_rules,
    load_scale_dir,
    load_scale_file,
    load_scales,
    score_scale,
)

DATA = Path(str(resources.files("benzokit.monitor").joinpath("data")))
USABLE = ("gad7", "phq9")


def scale(scale_id: str) -> Scale:
    return load_scales().get(scale_id)


# ---------------------------------------------------------------- published bands

# Kroenke, Spitzer & Williams 2001 (J Gen Intern Med 16:606), abstract: "PHQ-9 scores of 5, 10, 15, and
# 20 represented mild, moderate, moderately severe, and severe depression"; total 0-27.
PHQ9_EDGES = [
    (0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate"),
    (15, "moderately severe"), (19, "moderately severe"), (20, "severe"), (27, "severe"),
]  # fmt: skip

# Spitzer, Kroenke, Williams & Löwe 2006 (Arch Intern Med 166:1092): cut points 5, 10 and 15 for mild,
# moderate and severe anxiety; total 0-21.
GAD7_EDGES = [
    (0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate"),
    (15, "severe"), (21, "severe"),
]  # fmt: skip


@pytest.mark.parametrize(("total", "band"), PHQ9_EDGES)
def test_phq9_band_edges(total: int, band: str) -> None:
    assert scale("phq9").band_of(total) == band


@pytest.mark.parametrize(("total", "band"), GAD7_EDGES)
def test_gad7_band_edges(total: int, band: str) -> None:
    assert scale("gad7").band_of(total) == band


@pytest.mark.parametrize("scale_id", USABLE)
def test_every_total_has_a_band_and_out_of_range_totals_are_refused(scale_id: str) -> None:
    found = scale(scale_id)
    for total in range(found.total.low, found.total.high + 1):
        assert found.band_of(total)
    for bad in (-1, found.total.high + 1, True, 2.0, "3"):
        with pytest.raises(InputError) as caught:
            found.band_of(bad)  # type: ignore[arg-type]
        assert caught.value.field == f"{scale_id}.total"


# ---------------------------------------------------------------- the definitions


def test_phq9_and_gad7_as_published() -> None:
    phq9, gad7 = scale("phq9"), scale("gad7")
    assert [len(phq9.items), len(gad7.items)] == [9, 7]
    assert (phq9.total.low, phq9.total.high, gad7.total.low, gad7.total.high) == (0, 27, 0, 21)
    for found in (phq9, gad7):
        labels = [(o.value, o.label) for o in found.options]
        assert labels == [
            (0, "Not at all"), (1, "Several days"), (2, "More than half the days"),
            (3, "Nearly every day"),
        ]  # fmt: skip
        assert found.stem.startswith("Over the last 2 weeks, how often have you been bothered by")
        assert found.licence.status == "free"
        assert "No permission required to reproduce" in found.licence.statement
        assert not found.optional and found.patient and not found.placeholders()
    assert "better off dead" in phq9.item("item9").text
    # the PHQ-9 difficulty question is not scored and not part of the definition
    assert not any("difficult" in i.text.lower() for i in phq9.items)


def test_loinc_codes_and_their_verification() -> None:
    phq9, gad7 = scale("phq9"), scale("gad7")
    assert phq9.panel is not None and phq9.total_code is not None
    assert (phq9.panel.code, phq9.total_code.code) == ("44249-1", "44261-6")
    assert phq9.panel.verified and phq9.total_code.verified
    assert gad7.panel is not None and gad7.total_code is not None
    assert (gad7.panel.code, gad7.total_code.code) == ("69737-5", "70274-6")
    assert gad7.total_code.verified and not gad7.panel.verified
    phq9_items = [i.loinc.code for i in phq9.items if i.loinc]
    assert phq9_items[0] == "44250-9" and phq9_items[-1] == "44260-8" and len(phq9_items) == 9


def test_the_withdrawal_scale_is_optional_attributed_and_a_placeholder() -> None:
    scales = load_scales()
    ciwa = scales.get("ciwa_b")
    assert ciwa.optional and ciwa.licence.status == "unconfirmed" and ciwa.licence.note
    assert "Busto" in ciwa.attribution and "Sellers" in ciwa.attribution
    assert ciwa.placeholders() and not ciwa.verified
    assert (ciwa.total.low, ciwa.total.high) == (0, 80)
    observers = [i.id for i in ciwa.items if i.observer]
    assert len(ciwa.items) == 20 and len(observers) == 3
    assert ciwa.self_report_total is not None
    assert (ciwa.scored_range.low, ciwa.scored_range.high) == (0, 68)
    assert ciwa.scoring_bands == ()  # the full-scale bands are not applied to a partial total
    with pytest.raises(PlaceholderValueError) as caught:
        scales.usable("ciwa_b")
    assert caught.value.field.startswith("scales.ciwa_b.items.")
    with pytest.raises(PlaceholderValueError):
        score_scale("ciwa_b", {f"item{n}": 0 for n in range(1, 18)})
    assert "ciwa_b" not in [s.id for s in scales.patient_scales()]


def test_patient_scales_in_display_order_and_unknown_names() -> None:
    scales = load_scales()
    assert [s.id for s in scales.patient_scales()] == ["gad7", "phq9", "withdrawal_checklist"]
    assert [s.id for s in scales.patient_scales(include_optional=False)] == [
        "gad7",
        "phq9",
        "withdrawal_checklist",
    ]
    with pytest.raises(UnknownNameError) as caught:
        scales.get("phq-9")
    assert caught.value.field == "scale" and "phq9" in caught.value.known
    assert load_scales() is scales  # cached
    assert "Kroenke" in scales.citation("kroenke2001")


# ---------------------------------------------------------------- scoring web-form answers


def answers_for(found: Scale, value: object = 1) -> dict[str, object]:
    return {i.id: value for i in found.self_report_items}


@pytest.mark.parametrize("given_value", [2, "2", " 2 ", 2.0])
def test_whole_numbers_as_ints_strings_or_integral_floats(given_value: object) -> None:
    result = score_scale("gad7", answers_for(scale("gad7"), given_value))
    assert result == ScaleScore(
        "gad7", "1", tuple((f"item{n}", 2) for n in range(1, 8)), 14, "moderate"
    )


@pytest.mark.parametrize(
    "bad", [True, False, 1.5, "1.5", "-1", -1, 4, "4", "", "one", None, [1], float("nan"), "١"]
)
def test_bad_answers_name_the_item(bad: object) -> None:
    answers = answers_for(scale("phq9"))
    answers["item4"] = bad
    with pytest.raises(InputError) as caught:
        score_scale("phq9", answers)
    assert caught.value.field == "phq9.item4"
    assert caught.value.value is bad  # the value as given
    assert caught.value.allowed == "an answer 0, 1, 2 or 3"


def test_missing_unknown_and_non_mapping_answers() -> None:
    answers = answers_for(scale("phq9"))
    del answers["item9"]
    with pytest.raises(InputError) as caught:
        score_scale("phq9", answers)
    assert (caught.value.field, caught.value.value) == ("phq9.item9", None)
    with pytest.raises(InputError) as caught:
        score_scale("phq9", {**answers_for(scale("phq9")), "difficulty": 1})
    assert caught.value.field == "phq9.difficulty"
    with pytest.raises(InputError) as caught:
        score_scale("gad7", [("item1", 1)])  # type: ignore[arg-type]
    assert caught.value.field == "gad7"
    with pytest.raises(UnknownNameError):
        score_scale("beck", {})


valid_answer = st.integers(0, 3).flatmap(lambda v: st.sampled_from([v, str(v), float(v)]))


@given(st.sampled_from(USABLE), st.data())
def test_any_valid_answers_total_their_sum(scale_id: str, data: st.DataObject) -> None:
    found = scale(scale_id)
    answers = {i.id: data.draw(valid_answer, label=i.id) for i in found.items}
    result = score_scale(scale_id, answers)
    assert [k for k, _ in result.answers] == [i.id for i in found.items]
    assert result.total == sum(int(float(v)) for v in answers.values())  # type: ignore[arg-type]
    assert result.band == found.band_of(result.total)
    assert result.version == found.version


@given(st.sampled_from(USABLE), st.integers(0, 27), st.integers(0, 27))
def test_bands_are_monotone_in_the_total(scale_id: str, a: int, b: int) -> None:
    found = scale(scale_id)
    top = found.total.high
    low, high = sorted((min(a, top), min(b, top)))
    labels = [band.label for band in found.bands]
    assert labels.index(found.band_of(low)) <= labels.index(found.band_of(high))


bad_answer = st.one_of(
    st.booleans(),
    st.integers().filter(lambda v: not 0 <= v <= 3),
    st.floats().filter(lambda v: not (math.isfinite(v) and v.is_integer() and 0 <= v <= 3)),
    st.text().filter(
        lambda t: not (re.fullmatch(r"[0-9]{1,6}", t.strip()) and int(t.strip()) <= 3)
    ),
    st.none(),
    st.lists(st.integers(0, 3), max_size=2),
)


@given(st.sampled_from(USABLE), st.data())
def test_any_one_bad_item_is_named(scale_id: str, data: st.DataObject) -> None:
    found = scale(scale_id)
    answers: dict[str, object] = answers_for(found, 0)
    target = data.draw(st.sampled_from([i.id for i in found.items]), label="item")
    answers[target] = data.draw(bad_answer, label="answer")
    with pytest.raises(InputError) as caught:
        score_scale(scale_id, answers)
    assert caught.value.field == f"{scale_id}.{target}"


# ---------------------------------------------------------------- escalation


@given(st.lists(st.integers(0, 3), min_size=9, max_size=9))
def test_phq9_escalates_exactly_when_item9_is_above_0(values: list[int]) -> None:
    result = score_scale("phq9", {f"item{n + 1}": v for n, v in enumerate(values)})
    assert escalates(result) is (values[8] > 0)


def test_escalation_reasons_and_scales_without_rules() -> None:
    result = score_scale("phq9", {**answers_for(scale("phq9"), 0), "item9": 1})
    assert result.total == 1 and result.band == "minimal"  # escalates whatever the total
    (rule,) = escalation_rules(result)
    assert rule.item == "item9" and "better off dead" in rule.reason
    assert not escalates(score_scale("gad7", answers_for(scale("gad7"), 3)))
    broken = ScaleScore("phq9", "1", (("item1", 0),), 0, "minimal")
    with pytest.raises(InputError) as caught:
        escalates(broken)
    assert caught.value.field == "phq9.item9"


# ---------------------------------------------------------------- malformed data files


def broken_copy(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    raw = tomllib.loads((DATA / "scales.toml").read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "scales.toml"
    path.write_bytes(tomli_w.dumps(raw).encode())
    return path


def _drop_text(raw: dict[str, Any]) -> None:
    del raw["scales"]["phq9"]["items"][0]["text"]


def _bad_value(raw: dict[str, Any]) -> None:
    raw["scales"]["gad7"]["options"][1]["value"] = "one"


def _gap(raw: dict[str, Any]) -> None:
    raw["scales"]["phq9"]["bands"][2]["low"] = 11


def _total(raw: dict[str, Any]) -> None:
    raw["scales"]["gad7"]["total"]["high"] = 20


def _source(raw: dict[str, Any]) -> None:
    raw["scales"]["gad7"]["items"][2]["source"] = "nowhere"


def _escalate(raw: dict[str, Any]) -> None:
    raw["scales"]["phq9"]["escalate"][0]["item"] = "item10"


def _schema(raw: dict[str, Any]) -> None:
    raw["schema_version"] = 2


def _extra(raw: dict[str, Any]) -> None:
    raw["scales"]["phq9"]["items"][3]["wording"] = "x"


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        (_drop_text, "scales.phq9.items.0.text", "required"),
        (_bad_value, "scales.gad7.options.1.value", "integer"),
        (_gap, "scales.phq9", "bands.2 must start at 10"),
        (_total, "scales.gad7", "does not match the items: expected 0-21"),
        (_source, "scales.gad7", "items.2.source cites 'nowhere'"),
        (_escalate, "scales.phq9", "'item10' is not a self-rated item"),
        (_schema, "schema_version", "1"),
        (_extra, "scales.phq9.items.3.wording", "not permitted"),
    ],
)
def test_a_malformed_file_names_the_field(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], field: str, problem: str
) -> None:
    path = broken_copy(tmp_path, change)
    with pytest.raises(DataError) as caught:
        load_scale_file(path)
    assert caught.value.path == str(path)
    assert caught.value.field == field
    assert problem in caught.value.problem


def test_broken_syntax_and_a_second_definition_of_a_scale(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("schema_version = [", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load_scale_file(bad)
    assert caught.value.field == "(syntax)"
    shutil.copy(DATA / "scales.toml", tmp_path / "scales.toml")
    raw = tomllib.loads((DATA / "scales.toml").read_text(encoding="utf-8"))
    raw["optional"] = True
    raw["scales"] = {"gad7": raw["scales"]["gad7"]}
    (tmp_path / "scale_gad7.toml").write_bytes(tomli_w.dumps(raw).encode())
    with pytest.raises(DataError) as caught:
        load_scale_dir(tmp_path)
    assert (caught.value.field, Path(caught.value.path).name) == ("scales.gad7", "scale_gad7.toml")


def test_the_shipped_directory_loads_from_a_copy(tmp_path: Path) -> None:
    for name in ("scales.toml", "scale_ciwa_b.toml", "scale_withdrawal_checklist.toml"):
        shutil.copy(DATA / name, tmp_path / name)
    copied = load_scale_dir(tmp_path)
    assert copied.ids() == load_scales().ids()
    assert copied.files["ciwa_b"] == str(tmp_path / "scale_ciwa_b.toml")


def test_the_withdrawal_checklist_is_data_and_says_it_is_not_validated() -> None:
    scales = load_scales()
    checklist = scales.usable("withdrawal_checklist")
    assert not checklist.validated and "Not a validated scale" in checklist.validation_note
    assert "not a validated scale" in checklist.title
    assert checklist.item_count == len(checklist.items) and checklist.bands == ()
    assert all(i.source == "ashton2002" for i in checklist.items)
    answers = {i.id: 1 for i in checklist.items}
    score = score_scale("withdrawal_checklist", answers, scales=scales)
    assert score.total == len(checklist.items) and score.band == ""


def test_a_scale_file_with_a_missing_item_names_the_field(tmp_path: Path) -> None:
    text = (DATA / "scale_withdrawal_checklist.toml").read_text()
    start = text.index('[[scales.withdrawal_checklist.items]]\nid = "panic"')
    end = text.index("[[scales.withdrawal_checklist.items]]", start + 10)
    broken = tmp_path / "scale_withdrawal_checklist.toml"
    broken.write_text(text[:start] + text[end:])
    with pytest.raises(DataError) as caught:
        load_scale_file(broken)
    assert caught.value.field == "scales.withdrawal_checklist"
    assert "an item is missing" in str(caught.value) and str(broken) in str(caught.value)
