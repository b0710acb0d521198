"""The patient handout opens in real PDF readers (pypdf; poppler's pdftoppm when installed)."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from interop_plans import clonazepam_taper, diazepam_switch, dose, tablet, undated_plan
from pypdf import PdfReader

from benzokit import DISCLAIMER
from benzokit.errors import InputError, UnknownNameError
from benzokit.interop import write_handout
from benzokit.interop._common import mg, products_text
from benzokit.interop.pdf import _STYLES
from benzokit.plan import Plan, Step

LETTER = (612.0, 792.0)
A4 = (595.28, 841.89)


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _pages(path: Path) -> list[str]:
    return [_flat(page.extract_text()) for page in PdfReader(path).pages]


@pytest.fixture(scope="module")
def taper_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "taper.pdf"
    return write_handout(clonazepam_taper(), path, patient_name="Alex <Example> & Co")


def test_every_page_has_the_disclaimer_and_its_number(taper_pdf: Path) -> None:
    pages = _pages(taper_pdf)
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert _flat(DISCLAIMER) in text
        assert f"Page {number} of {len(pages)}" in text


def test_every_dose_and_product_is_printed(taper_pdf: Path) -> None:
    text = " ".join(_pages(taper_pdf))
    for step in clonazepam_taper().steps:
        for a in step.doses:
            assert f"{mg(a.dose_mg)} mg" in text
            assert products_text(a) in text
    assert "half of a 0.5 mg tablet + 1 x 0.125 mg ODT" in text
    assert "0.1 mL of 2.5 mg/mL liquid" in text
    assert "Mon 5 Jan – Sun 11 Jan 2026" in text
    assert "8:00 pm" in text  # en-US: 12-hour clock


def test_hold_and_changes_are_marked(taper_pdf: Path) -> None:
    text = " ".join(_pages(taper_pdf))
    assert "Week 7 — HOLD" in text
    assert "HOLD (continued)" in text
    assert "Week 3 — NEW DOSE" in text
    assert "Pause: withdrawal reported" in text


def test_sections_crisis_line_and_patient_name(taper_pdf: Path) -> None:
    text = " ".join(_pages(taper_pdf))
    assert "What withdrawal may feel like" in text
    assert "When to call your prescriber / get help now" in text
    assert "up to a week later" in text
    assert "Call or text 988" in text
    assert "call 911" in text
    assert "Prepared for: Alex <Example> & Co" in text


def test_us_letter_and_metadata(taper_pdf: Path) -> None:
    reader = PdfReader(taper_pdf)
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(LETTER, abs=0.5)
    assert reader.metadata is not None
    assert reader.metadata.title == "Clonazepam plan"


def test_other_locale_uses_a4_and_a_marked_placeholder(tmp_path: Path) -> None:
    path = write_handout(undated_plan(), tmp_path / "undated.pdf", locale="en-GB")
    reader = PdfReader(path)
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(A4, abs=0.5)
    text = " ".join(_pages(path))
    assert "[crisis line for your country — to be filled in by your clinic]" in text
    assert "988" not in text
    assert "Days 1–7" in text and "Days 11–14" in text
    assert "Start date (Day 1):" in text
    assert "22:00" in text  # en-GB: 24-hour clock


def test_two_drugs_are_named(tmp_path: Path) -> None:
    text = " ".join(_pages(write_handout(diazepam_switch(), tmp_path / "s.pdf")))
    assert "Diazepam: 1 x 5 mg tablet" in text
    assert "Clonazepam: 1 x 0.25 mg ODT" in text
    assert "0.75 mg clonazepam + 5 mg diazepam a day" in text
    assert "daily clonazepam goes from 1 mg to none" in text


def test_long_calendar_repeats_its_header_on_every_page(tmp_path: Path) -> None:
    steps = tuple(
        Step(14 * i, 14 * (i + 1), (dose("08:00", tablet(0.5)), dose("20:00", tablet(0.5))))
        for i in range(26)
    )
    plan = Plan("clonazepam", "long", steps, start_date=date(2026, 1, 1))
    pages = _pages(write_handout(plan, tmp_path / "long.pdf"))
    calendar_pages = [p for p in pages if "Week " in p]
    assert len(calendar_pages) >= 3
    assert all("When Time Dose What to take" in p for p in calendar_pages)
    assert any("Week 52" in p for p in pages)


def test_output_is_reproducible(taper_pdf: Path, tmp_path: Path) -> None:
    again = write_handout(
        clonazepam_taper(), tmp_path / "again.pdf", patient_name="Alex <Example> & Co"
    )
    assert again.read_bytes() == taper_pdf.read_bytes()


def test_unknown_locale_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError) as caught:
        write_handout(clonazepam_taper(), tmp_path / "x.pdf", locale="xx-XX")
    assert caught.value.field == "locale"
    assert "en-US" in str(caught.value) and "en-GB" in str(caught.value)
    assert not list(tmp_path.iterdir())


def test_missing_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        write_handout(clonazepam_taper(), tmp_path / "nowhere" / "x.pdf")
    assert caught.value.field == "path"


def test_readable_type_sizes() -> None:
    for name in ("body", "bullet", "cell", "head", "crisis"):
        assert _STYLES[name].fontSize >= 11, name


@pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) not installed"
)
def test_poppler_renders_every_page(taper_pdf: Path, tmp_path: Path) -> None:
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", str(taper_pdf), str(tmp_path / "page")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == len(PdfReader(taper_pdf).pages)
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in images)
