"""The prescription language: what people write, and clear errors for what they should not."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from benzokit.errors import InputError
from benzokit.regimen import DoseEvent, Route, expand_events, parse_regimen


def _doses(text: str, days: float = 3, weight_kg: float | None = None) -> list[tuple[float, float]]:
    table = expand_events(parse_regimen(text).to_events(days * 24, weight_kg))
    return [(float(t), float(a)) for t, a in zip(table.time_h, table.amount_mg, strict=True)]


@pytest.mark.parametrize(
    ("text", "first_day"),
    [
        ("0.5 mg bid", [(8.0, 0.5), (20.0, 0.5)]),
        ("0.5 mg twice daily", [(8.0, 0.5), (20.0, 0.5)]),
        ("0.25 mg tid", [(8.0, 0.25), (14.0, 0.25), (20.0, 0.25)]),
        ("1 mg qd", [(8.0, 1.0)]),
        ("2 mg/day", [(8.0, 2.0)]),
        ("1 mg qhs", [(22.0, 1.0)]),
        ("1 mg at 08:00 and 2 mg at 22:00 daily", [(8.0, 1.0), (22.0, 2.0)]),
        ("0.25 mg at 8am and 10pm", [(8.0, 0.25), (22.0, 0.25)]),
        ("500 mcg at morning and bedtime", [(8.0, 0.5), (22.0, 0.5)]),
        ("0.5 mg q6h", [(8.0, 0.5), (14.0, 0.5), (20.0, 0.5)]),
        ("0.5 mg every 12 hours", [(8.0, 0.5), (20.0, 0.5)]),
        ("2 mg once", [(0.0, 2.0)]),
        ("2 mg once at 22:00", [(22.0, 2.0)]),
    ],
)
def test_common_prescriptions_give_the_expected_first_day(
    text: str, first_day: list[tuple[float, float]]
) -> None:
    assert [d for d in _doses(text) if d[0] < 24] == first_day


def test_phases_follow_each_other() -> None:
    doses = _doses("0.5 mg bid x 14 days, then 0.25 mg bid x 7 days", days=30)
    assert len(doses) == 42
    assert all(a == 0.5 for t, a in doses if t < 14 * 24)
    assert all(a == 0.25 for t, a in doses if t >= 14 * 24)
    assert max(t for t, _ in doses) < 21 * 24


def test_open_last_phase_runs_to_the_horizon() -> None:
    doses = _doses("1 mg bid x 2 days then 0.5 mg qd", days=5)
    assert [a for t, a in doses if t >= 48] == [0.5, 0.5, 0.5]


def test_weight_based_dose_uses_the_weight() -> None:
    assert _doses("0.01 mg/kg tid x 1 day", days=1, weight_kg=20)[0] == (8.0, pytest.approx(0.2))


def test_compact_events_carry_interval_and_additional_doses() -> None:
    events = parse_regimen("0.5 mg bid x 3 days").to_events(24 * 10)
    assert events == (
        DoseEvent(8.0, 0.5, Route.ORAL, 24.0, 2),
        DoseEvent(20.0, 0.5, Route.ORAL, 24.0, 2),
    )


@pytest.mark.parametrize(
    ("text", "field_part", "allowed_part"),
    [
        ("", "regimen", "such as"),
        ("banana", "regimen", "a dose with a unit"),
        ("0.5 bid", "dose", "with a unit"),
        ("0.5 mg blah", "frequency", "bid"),
        ("-1 mg bid", "regimen", "a dose with a unit"),
        ("5 g bid", "dose", "mg, µg"),
        ("0 mg bid", "dose", "greater than zero"),
        ("0.5 mg bid x -3 days", "duration", "positive duration"),
        ("0.5 mg bid x 0 days", "duration", "positive duration"),
        ("0.5 mg bid x 3 fortnights", "duration", "positive duration"),
        ("1 mg at 08:00 and 2 mg at 08:00", "regimen phase", "each dose time given once"),
        ("1 mg at 25:00", "time of day", "00:00 to 23:59"),
        ("0.5 mg q0h", "interval", "between 1 and"),
        ("0.5 mg bid, then", "regimen", "a dose and how often"),
        ("0.5 mg bid then 0.25 mg bid x 7 days", "regimen", "needs a duration"),
    ],
)
def test_bad_regimens_name_the_field_and_what_is_allowed(
    text: str, field_part: str, allowed_part: str
) -> None:
    with pytest.raises(InputError) as info:
        parse_regimen(text)
    assert field_part in info.value.field
    assert allowed_part in info.value.allowed


def test_mg_per_kg_without_weight_is_refused() -> None:
    with pytest.raises(InputError, match="body weight"):
        parse_regimen("0.01 mg/kg tid").to_events(24)


doses_mg = st.sampled_from([0.125, 0.25, 0.5, 1.0, 2.0])
frequencies = st.sampled_from(["qd", "bid", "tid", "qid", "qhs"])
per_day = {"qd": 1, "bid": 2, "tid": 3, "qid": 4, "qhs": 1}


@given(st.lists(st.tuples(doses_mg, frequencies, st.integers(1, 20)), min_size=1, max_size=4))
def test_daily_totals_follow_the_written_phases(phases: list[tuple[float, str, int]]) -> None:
    text = ", then ".join(f"{d} mg {f} x {n} days" for d, f, n in phases)
    total_days = sum(n for _, _, n in phases)
    table = expand_events(parse_regimen(text).to_events(total_days * 24.0))
    expected = np.concatenate([np.full(n, d * per_day[f]) for d, f, n in phases])
    np.testing.assert_allclose(table.daily_totals_mg(total_days), expected)
