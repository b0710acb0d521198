"""The trend chart's structure: one quantity per panel (no twin axes), each axis labelled with its
unit, dates (not day numbers) on the shared x-axis, today marked in every panel, legends outside the
plot areas, every line inside its plot area, and text that renders at 12 px or more in the ~350 px
column of a 390 px phone. The text alternative says the same, panel by panel, and is the SVG's title.
(tests/e2e/test_chart_render.py checks the same in Chromium, with the widths the browser draws.)"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib import font_manager, ft2font

from benzokit.service import chart_layout
from benzokit.service.chart_layout import WIDTH_SLACK, Box, text_width, y_axis
from benzokit.service.charts import (
    COLOURS,
    DOSE,
    OCCUPANCY,
    SCALES,
    WITHDRAWAL,
    trends_layout,
    trends_svg,
    trends_text,
)
from benzokit.service.records_view import ScalePoint, Trends

SVG = "{http://www.w3.org/2000/svg}"
PHONE_COLUMN_PX = 350  # the chart's column on a 390 px wide phone (main's padding taken off)
MIN_TEXT_PX = 12
TODAY = date(2026, 12, 7)
NAMES = {"ciwa_b": "CIWA-B", "bwsq": "BWSQ (unvalidated)"}
DATE_LABEL = r"\d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"


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


def _panels(svg: str) -> list[ET.Element]:
    return list(ET.fromstring(svg).findall(f".//{SVG}g[@class='panel']"))


def _texts(element: ET.Element, css_class: str | None = None) -> list[str]:
    return [
        "".join(t.itertext())
        for t in element.iter(f"{SVG}text")
        if css_class is None or t.get("class") == css_class
    ]


def _points(d: str) -> list[tuple[float, float]]:
    """Every point a path of the chart's own commands (M with implicit lines, H, V, h, v) reaches."""
    points: list[tuple[float, float]] = []
    x = y = 0.0
    for command, numbers in re.findall(r"([MHVhv])([^MHVhv]*)", d):
        values = [float(n) for n in numbers.split()]
        if command == "M":
            for x, y in zip(values[0::2], values[1::2], strict=True):
                points.append((x, y))
            continue
        for value in values:
            x = value if command == "H" else x + value if command == "h" else x
            y = value if command == "V" else y + value if command == "v" else y
            points.append((x, y))
    return points


@pytest.mark.parametrize("model", [True, False], ids=["clinician", "patient"])
def test_one_quantity_per_panel_each_with_its_unit(model: bool) -> None:
    svg = trends_svg(_trends(model=model), NAMES)
    panels = [DOSE, SCALES, OCCUPANCY, WITHDRAWAL] if model else [DOSE, SCALES]
    drawn = _panels(svg)
    assert [g.get("data-panel") for g in drawn] == [p.kind for p in panels]
    for group, panel in zip(drawn, panels, strict=True):
        assert _texts(group, "ylabel") == [panel.unit]  # one y-axis: a twin would add a label
        assert " ".join(_texts(group, "heading")) == panel.heading
        assert f"({panel.unit})" in panel.heading or panel.unit in panel.heading
        dashed = [p for p in group.iter(f"{SVG}path") if p.get("stroke-dasharray")]
        model_panel = panel in (OCCUPANCY, WITHDRAWAL)
        assert bool(dashed) == model_panel  # the model's lines only on panels of their own
        if model_panel:
            assert float(_texts(group, "ytick")[0]) == 0
    assert (
        panels[0].heading == "Dose (mg/day)"
        and panels[1].heading == "Symptom scale totals (points)"
    )


@pytest.mark.parametrize("model", [True, False], ids=["clinician", "patient"])
@pytest.mark.parametrize("span_days", [0, 60, 400])
def test_legends_and_labels_sit_outside_every_plot_area(model: bool, span_days: int) -> None:
    chart = trends_layout(_trends(model=model, span_days=span_days), NAMES)
    plots = [p.plot for p in chart.panels]
    legends = [p.legend.box for p in chart.panels]
    dates = [chart.date_label_box(d) for d in chart.dates.ticks]
    for box in legends + dates:
        assert not any(box.overlaps(plot) for plot in plots), box
    for box in legends + plots + dates:  # nothing cut off at the chart's edges
        assert box.inside(chart.bounds), box
    assert all(a.y1 < b.y0 for a, b in itertools.pairwise(plots))  # stacked, apart


def test_dates_on_the_shared_axis_and_today_marked_in_every_panel() -> None:
    trends = _trends()
    svg, chart = trends_svg(trends, NAMES), trends_layout(trends, NAMES)
    labels = _texts(ET.fromstring(svg), "date")
    assert len(labels) >= 2 and all(re.fullmatch(DATE_LABEL, t) for t in labels)
    today_x = chart.x_of(TODAY)
    for group, placed in zip(_panels(svg), chart.panels, strict=True):
        marks = list(group.findall(f".//{SVG}path[@class='today']"))
        assert len(marks) == 1 and marks[0].get("stroke") == COLOURS["today"]
        (x0, y0), (x1, y1) = _points(marks[0].get("d", ""))
        assert x0 == x1 == pytest.approx(today_x, abs=0.05)
        assert (y0, y1) == pytest.approx((placed.plot.y0, placed.plot.y1), abs=0.05)
    assert "today (07 Dec)" in _texts(_panels(svg)[0], "entry")


@pytest.mark.parametrize("model", [True, False], ids=["clinician", "patient"])
def test_every_text_is_at_least_12_px_on_a_phone(model: bool) -> None:
    svg = trends_svg(_trends(model=model), NAMES)
    root = ET.fromstring(svg)
    width_units = float(root.get("viewBox", "").split()[2])
    texts = [
        (("".join(t.itertext())), float(t.get("font-size", 0))) for t in root.iter(f"{SVG}text")
    ]
    assert {"mg/day", "points", "Dose (mg/day)"} <= {t for t, _ in texts}
    for text, size in texts:  # the page scales the SVG to the column's width
        assert size * PHONE_COLUMN_PX / width_units >= MIN_TEXT_PX, text


@pytest.mark.parametrize("span_days", [0, 3, 10, 45, 60, 100, 200, 400])
def test_date_ticks_never_crowd_whatever_the_span(span_days: int) -> None:
    """Short and long histories alike: dates on the ticks, at most five, none overlapping; the year
    is written too where the dates are of more than one year."""
    trends = _trends(span_days=span_days)
    chart = trends_layout(trends, NAMES)
    shown = chart.dates.ticks
    assert 1 <= len(shown) <= 5
    boxes = [chart.date_label_box(d) for d in shown]
    assert all(a.x1 < b.x0 for a, b in itertools.pairwise(boxes))
    assert all(chart.panels[0].plot.x0 <= chart.x_of(d) <= chart.panels[0].plot.x1 for d in shown)
    years = _texts(ET.fromstring(trends_svg(trends, NAMES)), "year")
    if len({d.year for d in shown}) > 1:
        assert years[0] == str(shown[0].year) and str(shown[-1].year) in years
    else:
        assert years == []


def test_the_text_alternative_follows_the_panels() -> None:
    trends = _trends()
    said = trends_text(trends, NAMES)
    assert "today 07 Dec" in said and "Planned dose today 1.75 mg/day" in said
    assert "CIWA-B total, latest 5: 10 (01 Nov)" in said
    assert "Model occupancy today" in said and "Model withdrawal index today" in said
    for_patient = trends_text(replace(trends, occupancy=None, withdrawal_index=None), NAMES)
    assert "Model" not in for_patient
    title = ET.fromstring(trends_svg(trends, NAMES)).find(f"{SVG}title")
    assert title is not None and title.text == said  # the SVG's own text alternative


@pytest.mark.parametrize(
    ("highest", "labels"),
    [
        (4.46, ("0", "2", "4")),
        (2.15, ("0", "1", "2")),
        (9.2, ("0", "5")),
        (0.3216, ("0.0", "0.2")),
        (0.0276, ("0.00", "0.01", "0.02")),
        (0.0, ("0.0", "0.5", "1.0")),
        (27.6, ("0", "10", "20")),
        (0.8, ("0.0", "0.5")),
        (0.7, ("0.00", "0.25", "0.50")),
    ],
)
def test_y_axis_ticks_are_round_and_few(highest: float, labels: tuple[str, ...]) -> None:
    axis = y_axis(highest)
    assert axis.labels == labels
    assert axis.ticks[0] == 0 and axis.ticks[-1] <= axis.top
    assert axis.top == (highest or 1.0)


def test_text_widths_are_the_fonts() -> None:
    """The width table is DejaVu Sans's (matplotlib ships the font file); other characters are
    taken wider than any glyph of Latin-1 and Latin Extended-A in the font."""
    font = ft2font.FT2Font(font_manager.findfont("DejaVu Sans"))
    for code in range(0x20, 0x7F):
        glyph = font.load_char(code, flags=ft2font.LoadFlags.NO_SCALE)
        assert text_width(chr(code), 2048) == pytest.approx(WIDTH_SLACK * glyph.horiAdvance)
    for code in range(0xA0, 0x180):
        glyph = font.load_char(code, flags=ft2font.LoadFlags.NO_SCALE)
        assert text_width(chr(code), 2048) >= WIDTH_SLACK * glyph.horiAdvance, chr(code)


_NAME = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn", "Co")), max_size=60
)


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(_NAME, min_size=0, max_size=5),
    totals=st.lists(st.integers(0, 300), min_size=1, max_size=12),
    dose_mg=st.floats(0, 80),
    model=st.booleans(),
)
def test_any_series_stays_inside_its_plot_and_any_name_is_shown_escaped(
    names: list[str], totals: list[int], dose_mg: float, model: bool
) -> None:
    """Whatever the names and values: the SVG parses, each scale's name is in its legend (whole,
    or cut short with an ellipsis), every drawn point is inside its plot area, and legends stay
    inside the chart and off the plots."""
    base = _trends(model=model, span_days=30)
    at = datetime(2026, 11, 20, 12, tzinfo=UTC)
    scales = {
        f"s{i}": tuple(ScalePoint(at + timedelta(days=k), t, "none") for k, t in enumerate(totals))
        for i in range(len(names))
    }
    trends = replace(base, planned_mg=tuple(dose_mg for _ in base.days), scales=scales)
    shown = {f"s{i}": name for i, name in enumerate(names)}
    svg = trends_svg(trends, shown)
    chart = trends_layout(trends, shown)
    entries = _texts(_panels(svg)[1], "entry")
    for name, entry in zip(names, entries, strict=True):
        cut = entry.endswith(chart_layout.ELLIPSIS) and name.startswith(entry[:-1])
        assert entry == name or cut, (name, entry)
    for group, placed in zip(_panels(svg), chart.panels, strict=True):
        plot = placed.plot
        assert placed.legend.box.inside(chart.bounds)
        assert not placed.legend.box.overlaps(plot)
        for path in group.iter(f"{SVG}path"):
            if path.get("class") in ("series", "dots", "today"):
                for x, y in _points(path.get("d", "")):
                    assert Box(x, y, x, y).inside(plot), (path.get("data-series"), x, y)
