"""Input checks, wording and atomic writing shared by the exports; the handout wording file."""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from interop_plans import dose, liquid, odt, tablet

from benzokit.errors import DataError, InputError
from benzokit.files import write_atomically
from benzokit.interop import known_locales, load_handout_text, plan_csv
from benzokit.interop._common import product_text
from benzokit.interop.handout_text import load_handout_text_file
from benzokit.interop.pdf_calendar import format_time
from benzokit.plan import Plan, Step
from benzokit.units import ClockTime


def test_product_wording() -> None:
    assert product_text(odt(0.125)) == "1 x 0.125 mg ODT"
    assert product_text(tablet(0.5, 0.5)) == "half of a 0.5 mg tablet"
    assert product_text(tablet(2.0, 0.25)) == "a quarter of a 2 mg tablet"
    assert product_text(tablet(1.0, 2)) == "2 x 1 mg tablet"
    assert product_text(liquid(0.2)) == "0.2 mL of 2.5 mg/mL liquid"


def test_twelve_hour_clock() -> None:
    times = [ClockTime.parse(t) for t in ("00:30", "08:00", "12:00", "22:15")]
    assert [format_time(t, "12h") for t in times] == [
        "12:30 am",
        "8:00 am",
        "12:00 pm",
        "10:15 pm",
    ]
    assert format_time(ClockTime.at(22, 15), "24h") == "22:15"


@pytest.mark.parametrize(
    ("steps", "field"),
    [
        ((), "plan.steps"),
        ((Step(1, 5, (dose("08:00", tablet(0.5)),)),), "plan.steps[0].start_day"),
        ((Step(0, 5, ()), Step(6, 9, ())), "plan.steps[1].start_day"),
        (
            (Step(0, 5, (replace(dose("08:00", tablet(0.5)), dose_mg=-1.0),)),),
            "plan.steps[0].doses[0].dose_mg",
        ),
    ],
)
def test_bad_plans_name_the_field(steps: tuple[Step, ...], field: str) -> None:
    with pytest.raises(InputError) as caught:
        plan_csv(Plan("clonazepam", "bad", steps))
    assert caught.value.field == field


def test_atomic_write_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    write_atomically(target, b"new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_write_never_replaces_a_special_file_or_a_folder(tmp_path: Path) -> None:
    # renaming over a device node (``--pdf /dev/null`` as root) would delete the device: a FIFO
    # stands in for it here, so that a failure of this test cannot break the machine
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for target in (fifo, tmp_path):
        with pytest.raises(InputError, match="special file"):
            write_atomically(target, b"new")
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_shipped_wording_is_sourced_and_locales_are_marked() -> None:
    text = load_handout_text()
    assert "en-US" in known_locales()
    us = text.locale("en-US")
    assert us.page_size == "letter" and "988" in us.crisis[0].text
    for code in known_locales():
        locale = text.locale(code)
        for line in (*locale.crisis, locale.emergency):
            assert line.placeholder == (code != "en-US")
            if line.placeholder:
                assert line.text.startswith("[") and "filled in by your clinic" in line.text
    assert all(s.source in text.sources for s in text.statements())


def test_a_statement_without_a_known_source_is_a_data_error(tmp_path: Path) -> None:
    from importlib import resources

    shipped = resources.files("benzokit.interop").joinpath("data").joinpath("handout_text.toml")
    broken = shipped.read_text(encoding="utf-8").replace('source = "asam2025"', 'source = "nope"')
    path = tmp_path / "handout_text.toml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(DataError, match="nope"):
        load_handout_text_file(path)
