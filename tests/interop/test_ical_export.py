"""The calendar file parses back with the icalendar library: one all-day event per step."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar
from interop_plans import clonazepam_taper, diazepam_switch, undated_plan

from benzokit import DISCLAIMER
from benzokit.errors import InputError
from benzokit.interop import write_calendar

STAMP = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def _events(path: Path) -> list[dict[str, object]]:
    cal = Calendar.from_ical(path.read_bytes())
    assert "benzokit" in str(cal["PRODID"])
    assert str(cal["VERSION"]) == "2.0"
    return [dict(e) for e in cal.walk("VEVENT")]


def test_one_all_day_event_per_step_on_the_right_dates(tmp_path: Path) -> None:
    plan = clonazepam_taper()
    events = _events(write_calendar(plan, tmp_path / "plan.ics", stamp=STAMP))
    assert len(events) == len(plan.steps)
    assert plan.start_date is not None
    for step, event in zip(plan.steps, events, strict=True):
        start = event["DTSTART"].dt  # type: ignore[attr-defined]
        assert type(start) is date
        assert start == plan.start_date + timedelta(days=step.start_day)
        assert event["DTEND"].dt == start + timedelta(days=1)  # type: ignore[attr-defined]
        assert "RRULE" not in event


def test_descriptions_hold_doses_and_the_disclaimer(tmp_path: Path) -> None:
    plan = clonazepam_taper()
    events = _events(write_calendar(plan, tmp_path / "plan.ics", stamp=STAMP))
    for step, event in zip(plan.steps, events, strict=True):
        description = str(event["DESCRIPTION"])
        assert DISCLAIMER in description
        for a in step.doses:
            assert f"{a.time}: {a.dose_mg:g} mg clonazepam" in description
    assert "Hold" in str(events[3]["SUMMARY"]) and "Hold:" in str(events[3]["DESCRIPTION"])
    assert "0.875 mg clonazepam a day" in str(events[1]["SUMMARY"])
    assert "until Sun 1 Feb 2026 (14 days)" in str(events[1]["DESCRIPTION"])


def test_uids_are_unique_and_stable(tmp_path: Path) -> None:
    first = _events(write_calendar(clonazepam_taper(), tmp_path / "a.ics", stamp=STAMP))
    later = datetime(2026, 2, 1, tzinfo=UTC)
    again = _events(write_calendar(clonazepam_taper(), tmp_path / "b.ics", stamp=later))
    uids = [str(e["UID"]) for e in first]
    assert len(set(uids)) == len(uids)
    assert uids == [str(e["UID"]) for e in again]
    other = _events(write_calendar(diazepam_switch(), tmp_path / "c.ics", stamp=STAMP))
    assert not set(uids) & {str(e["UID"]) for e in other}


def test_two_drugs_in_one_step(tmp_path: Path) -> None:
    events = _events(write_calendar(diazepam_switch(), tmp_path / "s.ics", stamp=STAMP))
    assert "0.75 mg clonazepam, 5 mg diazepam a day" in str(events[1]["SUMMARY"])
    assert "20:00: 5 mg diazepam — 1 x 5 mg tablet" in str(events[1]["DESCRIPTION"])


def test_a_plan_without_a_start_date_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        write_calendar(undated_plan(), tmp_path / "x.ics")
    assert caught.value.field == "start_date"
    assert "give the plan a start date" in str(caught.value)
    assert "--" not in caught.value.allowed, "the export speaks no CLI option"
    assert not list(tmp_path.iterdir())
