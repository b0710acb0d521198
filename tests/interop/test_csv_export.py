"""The CSV reads back (csv and pandas): a row per day per administration, daily sums as planned."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from interop_plans import ALL_PLANS, clonazepam_taper, diazepam_switch, undated_plan

from benzokit import DISCLAIMER
from benzokit.interop import write_plan_csv
from benzokit.interop.csv_export import COLUMNS


@pytest.mark.parametrize("name", sorted(ALL_PLANS))
def test_rows_and_daily_sums(name: str, tmp_path: Path) -> None:
    plan = ALL_PLANS[name]()
    path = write_plan_csv(plan, tmp_path / f"{name}.csv")
    frame = pd.read_csv(path, comment="#")
    assert tuple(frame.columns) == COLUMNS
    assert len(frame) == sum(s.days * len(s.doses) for s in plan.steps)
    sums = frame.groupby("day")["dose_mg"].sum()
    for step in plan.steps:
        for day in range(step.start_day, step.end_day):
            assert sums[day] == pytest.approx(step.daily_dose_mg())
    assert set(frame["step"]) == set(range(1, len(plan.steps) + 1))


def test_first_line_is_the_disclaimer_and_dates_follow_the_start(tmp_path: Path) -> None:
    plan = clonazepam_taper()
    path = write_plan_csv(plan, tmp_path / "plan.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == f"# {DISCLAIMER}"
    rows = list(csv.DictReader(lines[1:]))
    assert plan.start_date is not None
    for row in rows:
        assert row["date"] == (plan.start_date + timedelta(days=int(row["day"]))).isoformat()
    hold = [r for r in rows if r["step_kind"] == "hold"]
    assert len(hold) == 14 * 2
    assert rows[0]["products"] == "1 x 0.5 mg tablet"


def test_undated_plan_has_empty_dates_and_two_drugs_are_named(tmp_path: Path) -> None:
    text = write_plan_csv(undated_plan(), tmp_path / "u.csv").read_text(encoding="utf-8")
    undated = list(csv.DictReader(text.splitlines()[1:]))
    assert {r["date"] for r in undated} == {""}
    lines = write_plan_csv(diazepam_switch(), tmp_path / "s.csv").read_text().splitlines()
    rows = list(csv.DictReader(lines[1:]))
    day7 = [(r["time"], r["drug"], r["dose_mg"]) for r in rows if r["day"] == "7"]
    assert day7 == [("08:00", "clonazepam", "0.5"), ("20:00", "clonazepam", "0.25"),
                    ("20:00", "diazepam", "5")]  # fmt: skip
