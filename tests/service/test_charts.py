"""The trend chart's structure: one quantity per panel (no twin axes), each axis labelled with its
unit, dates (not day numbers) on the shared x-axis, today marked in every panel, legends outside the
plot areas, and text that renders at 12 px or more in the ~350 px column of a 390 px phone. The text
alternative says the same, panel by panel."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from benzokit.service.charts import (
    COLOURS,
    DOSE,
    OCCUPANCY,
    SCALES,
    WITHDRAWAL,
    trends_figure,
    trends_svg,
    trends_text,
)
from benzokit.service.records_view import ScalePoint, Trends

SVG = "{http://www.w3.org/2000/svg}"
PHONE_COLUMN_PX = 350  # the chart's column on a 390 px wide phone (main's padding taken off)
MIN_TEXT_PX = 12
TODAY = date(2026, 12, 7)
NAMES = {"ciwa_b": "CIWA-B", "bwsq": "BWSQ (unvalidated)"}


def _trends(*, model: bool = True, span_days: int = 60) -> Trends:
    days = tuple(TODAY + timedelta(days=i) for i in range(-span_days, 29))
    planned = tuple(2.0 if d < TODAY else 1.75 for d in days)
    taken = tuple(
        (p if i % 3 else None) if d < TODAY else None
        for i, (d, p) in enumerate(zip(days, planned, strict=True))
    )
    scales = {
        "ciwa_b": tuple(
            ScalePoint(datetime(2026, 11, 1, 9) + timedelta(days=7 * i), 10 + i, "mild")
            for i in range(5)
        ),
        "bwsq": (ScalePoint(datetime(2026, 11, 3, 9), 5, "mild"),),
    }
    return Trends(
        today=TODAY,
        days=days,
        planned_mg=planned,
        taken_mg=taken,
        occupancy=tuple(0.3 - 0.001 * i for i in range(len(days))) if model else None,
        withdrawal_index=tuple(0.01 * (i % 7) for i in range(len(days))) if model else None,
        model_note="typical patient",
        scales=scales,
    )


def _texts(svg: str) -> list[tuple[str, float]]:
    """Every text of the SVG with its font size in SVG units."""
    root = ET.fromstring(svg)
    found = []
    for element in root.iter(f"{SVG}text"):
        size = re.search(r"font-size: ([0-9.]+)px", element.get("style", ""))
        assert size, element.get("style")
        found.append(("".join(element.itertext()), float(size.group(1))))
    return found


@pytest.mark.parametrize("model", [True, False], ids=["clinician", "patient"])
def test_one_quantity_per_panel_each_with_its_unit(model: bool) -> None:
    figure = trends_figure(_trends(model=model), NAMES)
    panels = [DOSE, SCALES, OCCUPANCY, WITHDRAWAL] if model else [DOSE, SCALES]
    assert len(figure.axes) == len(panels)  # a twin axis would be one more
    for axis, panel in zip(figure.axes, panels, strict=True):
        assert axis.get_ylabel() == panel.unit
        legend = axis.get_legend()
        assert legend is not None and legend.get_title().get_text() == panel.heading
        assert f"({panel.unit})" in panel.heading or panel.unit in panel.heading
    headings = [p.heading for p in panels]
    assert headings[0] == "Dose (mg/day)" and headings[1] == "Symptom scale totals (points)"
    if model:  # the model lines on panels of their own, never on a dose or scale axis
        occupancy_axis, withdrawal_axis = figure.axes[2], figure.axes[3]
        assert all(ln.get_linestyle() == "--" for ln in occupancy_axis.lines[1:])
        assert all(ln.get_linestyle() != "--" for ax in figure.axes[:2] for ln in ax.lines)
        assert withdrawal_axis.get_ylim()[0] == 0 and occupancy_axis.get_ylim()[0] == 0


@pytest.mark.parametrize("model", [True, False], ids=["clinician", "patient"])
def test_legends_sit_outside_every_plot_area(model: bool) -> None:
    figure = trends_figure(_trends(model=model), NAMES)
    figure.draw_without_rendering()
    plots = [axis.get_window_extent() for axis in figure.axes]
    legends = [axis.get_legend().get_window_extent() for axis in figure.axes]  # type: ignore[union-attr]
    for legend in legends:
        for plot in plots:
            assert not legend.overlaps(plot), (legend, plot)
    whole = figure.bbox
    for box in legends + plots:  # nothing cut off at the figure's edges
        assert whole.x0 <= box.x0 and box.x1 <= whole.x1 + 0.5
        assert whole.y0 <= box.y0 and box.y1 <= whole.y1 + 0.5


def test_dates_on_the_shared_axis_and_today_marked_in_every_panel() -> None:
    figure = trends_figure(_trends(), NAMES)
    figure.draw_without_rendering()
    bottom = figure.axes[-1]
    labels = [t.get_text() for t in bottom.get_xticklabels() if t.get_text()]
    assert len(labels) >= 2
    assert all(
        re.fullmatch(r"\d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)", t) for t in labels
    )
    today_x = datetime.combine(TODAY, datetime.min.time())
    for axis in figure.axes:
        marks = [ln for ln in axis.lines if ln.get_color() == COLOURS["today"]]
        assert len(marks) == 1 and list(marks[0].get_xdata()) == [today_x, today_x]  # type: ignore[arg-type]
    top_labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]  # type: ignore[union-attr]
    assert "today (07 Dec)" in top_labels


@pytest.mark.parametrize("model", [True, False], ids=["clinician", "patient"])
def test_every_text_is_at_least_12_px_on_a_phone(model: bool) -> None:
    svg = trends_svg(_trends(model=model), NAMES)
    root = ET.fromstring(svg)
    width_units = float(root.get("viewBox", "").split()[2])
    texts = _texts(svg)
    assert {"mg/day", "points", "Dose (mg/day)"} <= {t for t, _ in texts}
    for text, size in texts:  # the page scales the SVG to the column's width
        assert size * PHONE_COLUMN_PX / width_units >= MIN_TEXT_PX, text


@pytest.mark.parametrize("span_days", [0, 3, 10, 45, 60, 100, 200, 400])
def test_date_ticks_never_crowd_whatever_the_span(span_days: int) -> None:
    """Short and long histories alike: dates on the ticks, at most five, none overlapping."""
    figure = trends_figure(_trends(span_days=span_days), NAMES)
    figure.draw_without_rendering()
    shown = [t for t in figure.axes[-1].get_xticklabels() if t.get_text()]
    assert 1 <= len(shown) <= 5
    boxes = sorted((t.get_window_extent() for t in shown), key=lambda b: b.x0)
    assert all(a.x1 < b.x0 for a, b in itertools.pairwise(boxes))
    assert all(re.fullmatch(r"\d{2} [A-Z][a-z]{2}", t.get_text()) for t in shown)


def test_the_text_alternative_follows_the_panels() -> None:
    trends = _trends()
    said = trends_text(trends, NAMES)
    assert "today 07 Dec" in said and "Planned dose today 1.75 mg/day" in said
    assert "CIWA-B total, latest 5: 10 (01 Nov)" in said
    assert "Model occupancy today" in said and "Model withdrawal index today" in said
    for_patient = trends_text(replace(trends, occupancy=None, withdrawal_index=None), NAMES)
    assert "Model" not in for_patient
