"""Charts for the pages: the trend chart as a hand-written inline SVG (with a text summary for
screen readers), drawn straight from the series in a few milliseconds.

Panels stacked on one date axis, one quantity per axis (no twin axes): the dose (planned steps,
recorded intake; mg/day), the symptom-scale totals (points) and, for a clinician, the model's
predicted GABA-A occupancy (fraction of sites, 0-1) and withdrawal index (fraction of the maximal
drug effect), each on its own panel, dashed. A red line marks today in every panel. Legends sit
above their panel, never over a line. Where everything goes is :mod:`benzokit.service.chart_layout`
(legibility at phone size is explained there); this module draws it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from xml.sax.saxutils import escape, quoteattr

from benzokit.service.chart_layout import (
    ASCENT,
    DATE_FORMAT,
    EDGE,
    FONT,
    HANDLE,
    HANDLE_PAD,
    LINE,
    TICK,
    TICK_PAD,
    WIDTH,
    ChartLayout,
    Entry,
    Legend,
    PanelLayout,
    PanelSpec,
    day_number,
    layout,
)
from benzokit.service.records_view import Trends

COLOURS = {"dose": "#1f5fa8", "taken": "#0b7a3e", "model": "#9a5b00", "today": "#b00020"}
SCALE_COLOURS = ("#5b2a86", "#00707a", "#a83279", "#4a5a00")
FRAME = "#333333"  # plot frames and tick marks
GRID = 'stroke="#b0b0b0" stroke-opacity="0.3" stroke-width="0.8"'
FONT_FAMILY = "'DejaVu Sans', Verdana, Geneva, sans-serif"  # the widths are measured in the first
LINE_WIDTH = 1.5  # every series and today's line
DASHES = "5.5 2.4"  # the model's series
DOT_RADIUS = {"recorded": 1.5, "scale": 2.0}
HEADROOM = {"dose": 1.15, "scales": 1.15, "model": 1.2}  # the y-axis reaches this times the highest


@dataclass(frozen=True, slots=True)
class _Panel:
    """One panel to draw: its heading (the quantity, with its unit), the y-axis label (the unit)
    and what draws into it."""

    heading: str
    unit: str
    kind: str


DOSE = _Panel("Dose (mg/day)", "mg/day", "dose")
SCALES = _Panel("Symptom scale totals (points)", "points", "scales")
OCCUPANCY = _Panel("Model: GABA-A occupancy (fraction of sites)", "fraction", "occupancy")
WITHDRAWAL = _Panel("Model: withdrawal index (fraction)", "fraction", "withdrawal")


def panels_of(trends: Trends) -> list[_Panel]:
    """The panels this chart has, top to bottom: the model's only where it predicted something."""
    panels = [DOSE, SCALES]
    if trends.occupancy is not None:
        panels.append(OCCUPANCY)
    if trends.withdrawal_index is not None:
        panels.append(WITHDRAWAL)
    return panels


def trends_svg(trends: Trends, scale_names: dict[str, str], *, compact: bool = False) -> str:
    """The stacked trend chart as an SVG document (text). ``compact`` is kept for the callers: the
    same phone-first size serves both (the stylesheet caps the width on a wide screen)."""
    del compact
    chart = trends_layout(trends, scale_names)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="trends" width="{WIDTH:g}" '
        f'height="{chart.height:.1f}" viewBox="0 0 {WIDTH:g} {chart.height:.1f}" '
        f'font-family="{FONT_FAMILY}">',
        f"<title>{escape(trends_text(trends, scale_names))}</title>",
        f'<rect width="{WIDTH:g}" height="{chart.height:.1f}" fill="#ffffff"/>',
    ]
    for panel, placed in zip(panels_of(trends), chart.panels, strict=True):
        parts += _panel(chart, placed, panel, trends, scale_names)
    parts += _dates(chart)
    parts.append("</svg>")
    return "\n".join(parts)


def trends_layout(trends: Trends, scale_names: dict[str, str]) -> ChartLayout:
    """Where the chart's panels, legends, axes and dates go (see :mod:`chart_layout`)."""
    specs = [_spec(panel, trends, scale_names) for panel in panels_of(trends)]
    moments = [day_number(p.at) for points in trends.scales.values() for p in points]
    first = min([day_number(trends.days[0]), *moments])
    last = max([day_number(trends.days[-1]), *moments])
    return layout(specs, first, last)


def _spec(panel: _Panel, trends: Trends, scale_names: dict[str, str]) -> PanelSpec:
    today = Entry("line", COLOURS["today"], f"today ({_day(trends.today)})")
    if panel.kind == "dose":
        taken = [t for t in trends.taken_mg if t is not None]
        entries = [Entry("line", COLOURS["dose"], "planned")]
        entries += [Entry("dots", COLOURS["taken"], "recorded")] if taken else []
        highest = max([*trends.planned_mg, *taken], default=0.0) * HEADROOM["dose"]
        return PanelSpec(panel.heading, panel.unit, (*entries, today), highest)
    if panel.kind == "scales":
        entries = [
            Entry("line+dots", _scale_colour(index), scale_names.get(scale, scale))
            for index, scale in enumerate(sorted(trends.scales))
        ]
        totals = [p.total for points in trends.scales.values() for p in points]
        highest = max(totals, default=0) * HEADROOM["scales"]
        return PanelSpec(panel.heading, panel.unit, tuple(entries), highest)
    values, label = _model_series(panel, trends)
    entry = Entry("dashed", COLOURS["model"], label)
    return PanelSpec(
        panel.heading, panel.unit, (entry,), max(values, default=0.0) * HEADROOM["model"]
    )


def _model_series(panel: _Panel, trends: Trends) -> tuple[tuple[float, ...], str]:
    if panel.kind == "occupancy":
        return trends.occupancy or (), "predicted, daily mean"
    return trends.withdrawal_index or (), "predicted, daily peak"


def _scale_colour(index: int) -> str:
    return SCALE_COLOURS[index % len(SCALE_COLOURS)]


def _panel(
    chart: ChartLayout, placed: PanelLayout, panel: _Panel, trends: Trends, names: dict[str, str]
) -> list[str]:
    """One panel's SVG: legend, plot area with grid and ticks, the axis labels, the series, today."""
    plot = placed.plot
    parts = [f'<g class="panel" data-panel="{panel.kind}">', *_legend(placed.legend)]
    parts.append(
        f'<rect class="plot" x="{plot.x0:.1f}" y="{plot.y0:.1f}" width="{plot.x1 - plot.x0:.1f}" '
        f'height="{plot.y1 - plot.y0:.1f}" fill="#ffffff"/>'
    )
    parts += _axes(chart, placed, panel.unit)
    parts += _series(chart, placed, panel, trends, names)
    x = chart.x_of(trends.today)
    parts.append(
        f'<path class="today" d="M{x:.1f} {plot.y0:.1f}V{plot.y1:.1f}" '
        f'stroke="{COLOURS["today"]}" stroke-width="{LINE_WIDTH}"/>'
    )
    parts.append(
        f'<rect class="frame" x="{plot.x0:.1f}" y="{plot.y0:.1f}" width="{plot.x1 - plot.x0:.1f}" '
        f'height="{plot.y1 - plot.y0:.1f}" fill="none" stroke="{FRAME}" stroke-width="0.8"/>'
    )
    parts.append("</g>")
    return parts


def _text(x: float, y: float, text: str, css_class: str, more: str = "") -> str:
    return (
        f'<text class="{css_class}" x="{x:.1f}" y="{y:.1f}" font-size="{FONT:g}"{more}>'
        f"{escape(text)}</text>"
    )


def _legend(legend: Legend) -> list[str]:
    """The heading's lines, then each entry: its sample, then its text."""
    box, parts = legend.box, ['<g class="legend">']
    for index, line in enumerate(legend.heading):
        parts.append(_text(box.x0, box.y0 + index * LINE + ASCENT, line, "heading"))
    top = box.y0 + len(legend.heading) * LINE
    for row, entries in enumerate(legend.rows):
        baseline = top + row * LINE + ASCENT
        for x, entry in zip(legend.starts[row], entries, strict=True):
            parts += _sample(entry, x, baseline - FONT * 0.35)
            parts.append(_text(x + HANDLE + HANDLE_PAD, baseline, entry.text, "entry"))
    parts.append("</g>")
    return parts


def _sample(entry: Entry, x: float, y: float) -> list[str]:
    """A legend entry's sample, centred on height ``y``."""
    found = []
    if entry.sample != "dots":
        dashes = f' stroke-dasharray="{DASHES}"' if entry.sample == "dashed" else ""
        found.append(
            f'<path d="M{x:.1f} {y:.1f}h{HANDLE:g}" stroke="{entry.colour}" '
            f'stroke-width="{LINE_WIDTH}"{dashes}/>'
        )
    if "dots" in entry.sample:
        radius = DOT_RADIUS["scale" if entry.sample == "line+dots" else "recorded"]
        found.append(_dots([(x + HANDLE / 2, y)], radius, entry.colour, entry.text, "sample"))
    return found


def _axes(chart: ChartLayout, placed: PanelLayout, unit: str) -> list[str]:
    """Grid lines, tick marks and tick labels of both axes (dates are written under the bottom
    panel only), and the y-axis label."""
    plot = placed.plot
    ys = [placed.y_of(tick) for tick in placed.y.ticks]
    xs = [chart.x_of(day) for day in chart.dates.ticks]
    grid = "".join(f"M{plot.x0:.1f} {y:.1f}H{plot.x1:.1f}" for y in ys)
    grid += "".join(f"M{x:.1f} {plot.y0:.1f}V{plot.y1:.1f}" for x in xs)
    ticks = "".join(f"M{plot.x0:.1f} {y:.1f}h{-TICK:g}" for y in ys)
    ticks += "".join(f"M{x:.1f} {plot.y1:.1f}v{TICK:g}" for x in xs)
    parts = [
        f'<path class="grid" d="{grid}" fill="none" {GRID}/>',
        f'<path class="ticks" d="{ticks}" stroke="{FRAME}" stroke-width="0.8"/>',
    ]
    label_x = plot.x0 - TICK - TICK_PAD
    for y, label in zip(ys, placed.y.labels, strict=True):
        parts.append(_text(label_x, y + FONT * 0.35, label, "ytick", ' text-anchor="end"'))
    middle, baseline = (plot.y0 + plot.y1) / 2, EDGE + ASCENT  # the label's top at the edge
    turn = f' text-anchor="middle" transform="rotate(-90 {baseline:.1f} {middle:.1f})"'
    parts.append(_text(baseline, middle, unit, "ylabel", turn))
    return parts


def _series(
    chart: ChartLayout, placed: PanelLayout, panel: _Panel, trends: Trends, names: dict[str, str]
) -> list[str]:
    """The panel's data: dose steps and recorded dots, scale totals, or a model series (dashed)."""
    if panel.kind == "dose":
        return _dose(chart, placed, trends)
    if panel.kind == "scales":
        return _scales(chart, placed, trends, names)
    values, _ = _model_series(panel, trends)
    points = [(chart.x_of(d), placed.y_of(v)) for d, v in zip(trends.days, values, strict=True)]
    return [_line(points, COLOURS["model"], "predicted", f' stroke-dasharray="{DASHES}"')]


def _dose(chart: ChartLayout, placed: PanelLayout, trends: Trends) -> list[str]:
    """The planned dose as steps (each day's dose holds until the next day), recorded intake as dots."""
    xs = [chart.x_of(day) for day in trends.days]
    ys = [placed.y_of(mg) for mg in trends.planned_mg]
    steps = f"M{xs[0]:.1f} {ys[0]:.1f}" + "".join(
        f"H{x:.1f}V{y:.1f}" for x, y in zip(xs[1:], ys[1:], strict=True)
    )
    parts = [
        f'<path class="series" data-series="planned" d="{steps}" fill="none" '
        f'stroke="{COLOURS["dose"]}" stroke-width="{LINE_WIDTH}"/>'
    ]
    taken = [(x, placed.y_of(t)) for x, t in zip(xs, trends.taken_mg, strict=True) if t is not None]
    if taken:
        parts.append(_dots(taken, DOT_RADIUS["recorded"], COLOURS["taken"], "recorded"))
    return parts


def _scales(
    chart: ChartLayout, placed: PanelLayout, trends: Trends, names: dict[str, str]
) -> list[str]:
    """Each scale's totals: a line through dots, one colour per scale."""
    parts = []
    for index, scale in enumerate(sorted(trends.scales)):
        points = [(chart.x_of(p.at), placed.y_of(p.total)) for p in trends.scales[scale]]
        name = names.get(scale, scale)
        parts.append(_line(points, _scale_colour(index), name))
        parts.append(_dots(points, DOT_RADIUS["scale"], _scale_colour(index), name))
    if not trends.scales:
        plot = placed.plot
        middle = ' text-anchor="middle"'
        x, y = (plot.x0 + plot.x1) / 2, (plot.y0 + plot.y1) / 2 + FONT * 0.35
        parts.append(_text(x, y, "no check-ins yet", "empty", middle))
    return parts


def _line(points: Iterable[tuple[float, float]], colour: str, name: str, more: str = "") -> str:
    """A line through ``points`` (one path, however many)."""
    d = "M" + " ".join(f"{x:.1f} {y:.1f}" for x, y in points)
    return (
        f'<path class="series" data-series={quoteattr(name)} d="{d}" fill="none" '
        f'stroke="{colour}" stroke-width="{LINE_WIDTH}" stroke-linejoin="round"{more}/>'
    )


def _dots(
    points: Iterable[tuple[float, float]], radius: float, colour: str, name: str, css: str = "dots"
) -> str:
    """A dot at each point, all in one path (a year of days is one element, not 365): each dot is
    a zero-length stroke with round caps, as wide as the dot."""
    d = "".join(f"M{x:.1f} {y:.1f}h0" for x, y in points)
    return (
        f'<path class="{css}" data-series={quoteattr(name)} d="{d}" fill="none" stroke="{colour}" '
        f'stroke-width="{2 * radius:g}" stroke-linecap="round"/>'
    )


def _dates(chart: ChartLayout) -> list[str]:
    """The dates under the bottom panel, centred on their ticks; the year under the first and
    under each of a new year, where they span more than one."""
    parts = ['<g class="dates">']
    for day in chart.dates.ticks:
        box = chart.date_label_box(day)
        x = (box.x0 + box.x1) / 2
        parts.append(_text(x, box.y0 + ASCENT, _day(day), "date", ' text-anchor="middle"'))
        if day in chart.dates.years:
            baseline = box.y1 + ASCENT
            parts.append(_text(x, baseline, f"{day.year}", "year", ' text-anchor="middle"'))
    parts.append("</g>")
    return parts


def trends_text(trends: Trends, scale_names: dict[str, str]) -> str:
    """What the chart shows, in words (for screen readers and the page's summary), panel by panel."""
    today_index = trends.days.index(trends.today) if trends.today in trends.days else -1
    parts = [
        f"Chart from {_day(trends.days[0])} to {_day(trends.days[-1])}; today {_day(trends.today)}."
    ]
    if today_index >= 0:
        parts.append(f"Planned dose today {trends.planned_mg[today_index]:g} mg/day.")
    for scale, points in sorted(trends.scales.items()):
        series = ", ".join(f"{p.total} ({_day(p.at.date())})" for p in points[-5:])
        parts.append(
            f"{scale_names.get(scale, scale)} total, latest {min(len(points), 5)}: {series}."
        )
    if trends.occupancy is not None and today_index >= 0:
        parts.append(
            f"Model occupancy today {trends.occupancy[today_index]:.3f} (fraction of sites)."
        )
    if trends.withdrawal_index is not None and today_index >= 0:
        ahead = max(trends.withdrawal_index[today_index:], default=0.0)
        parts.append(
            f"Model withdrawal index today {trends.withdrawal_index[today_index]:.3f}, "
            f"highest in the next weeks {ahead:.3f}."
        )
    return " ".join(parts)


def _day(day: date | datetime) -> str:
    return day.strftime(DATE_FORMAT)
