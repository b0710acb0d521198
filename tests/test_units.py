"""Parsing of doses, weights, durations and clock times at the boundary."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benzokit.errors import InputError
from benzokit.units import (
    DoseAmount,
    format_clock,
    ng_ml_to_nmol_l,
    parse_clock_h,
    parse_dose,
    parse_duration_h,
    parse_weight_kg,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2mg", DoseAmount(2.0)),
        ("0.5 mg", DoseAmount(0.5)),
        (".25mg", DoseAmount(0.25)),
        ("500 µg", DoseAmount(0.5)),
        ("125 mcg", DoseAmount(0.125)),
        ("250ug", DoseAmount(0.25)),
        ("0.01 mg/kg", DoseAmount(0.01, per_kg=True)),
    ],
)
def test_doses_parse(text: str, expected: DoseAmount) -> None:
    assert parse_dose(text) == expected


@pytest.mark.parametrize("text", ["", "mg", "2", "2 g", "-1mg", "0mg", "two mg", "2 mg/day"])
def test_bad_doses_are_refused_with_the_allowed_units(text: str) -> None:
    with pytest.raises(InputError) as info:
        parse_dose(text, field="--dose")
    assert info.value.field == "--dose"


def test_mg_per_kg_needs_weight() -> None:
    assert DoseAmount(0.01, per_kg=True).to_mg(30.0) == pytest.approx(0.3)
    with pytest.raises(InputError, match="body weight"):
        DoseAmount(0.01, per_kg=True).to_mg(None)


@pytest.mark.parametrize(
    ("text", "kg"), [("70kg", 70.0), ("70 kg", 70.0), ("154 lb", 69.853), ("30", 30.0)]
)
def test_weights_parse(text: str, kg: float) -> None:
    assert parse_weight_kg(text) == pytest.approx(kg, rel=1e-4)


@pytest.mark.parametrize("text", ["abc", "0kg", "900kg", "70 stone", "-5kg"])
def test_bad_weights_are_refused(text: str) -> None:
    with pytest.raises(InputError, match=r"between 0\.5 and 350 kg"):
        parse_weight_kg(text)


@pytest.mark.parametrize(
    ("text", "hours"), [("14 days", 336.0), ("2 weeks", 336.0), ("36h", 36.0), ("3", 72.0)]
)
def test_durations_parse(text: str, hours: float) -> None:
    assert parse_duration_h(text) == hours


@pytest.mark.parametrize(
    ("text", "hours"),
    [("08:00", 8.0), ("8:30", 8.5), ("22h", 22.0), ("8am", 8.0), ("12am", 0.0), ("10 pm", 22.0)],
)
def test_clock_times_parse(text: str, hours: float) -> None:
    assert parse_clock_h(text) == hours


@pytest.mark.parametrize("text", ["24:00", "8", "13pm", "12:60", "noonish"])
def test_bad_clock_times_are_refused(text: str) -> None:
    with pytest.raises(InputError, match="clock time"):
        parse_clock_h(text)


@given(st.integers(0, 23), st.integers(0, 59))
def test_clock_round_trips(hour: int, minute: int) -> None:
    text = f"{hour:02d}:{minute:02d}"
    assert format_clock(parse_clock_h(text)) == text


def test_molar_conversion_uses_the_facts_file_factor() -> None:
    """clinical-facts.md: clonazepam 315.7 g/mol, 1 ng/mL = 3.17 nmol/L."""
    assert ng_ml_to_nmol_l(1.0, 315.7) == pytest.approx(3.17, abs=0.005)
