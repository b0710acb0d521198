"""Charts for the pages, drawn with matplotlib as inline SVG (with a text summary for screen readers).

Panels stacked on one date axis, one quantity per axis (no twin axes): the dose (planned steps,
recorded intake; mg/day), the symptom-scale totals (points) and, for a clinician, the model's
predicted GABA-A occupancy (fraction of sites, 0-1) and withdrawal index (fraction of the maximal
drug effect), each on its own panel. A red line marks today in every panel. Legends sit above their
panel, never over a line.

Legibility at phone size: the page scales the SVG to its column (``.chart svg`` in style.css), so a
font of ``FONT_UNITS`` in a figure ``FIGURE_WIDTH_IN`` wide renders at about
``FONT_UNITS * column_px / (FIGURE_WIDTH_IN * 72)`` px: at least 12 px in the ~350 px column of a
390 px phone. The stylesheet caps the chart's width on a wide screen so the text does not grow huge.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import matplotlib
import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from benzokit.service.records_view import Trends

COLOURS = {"dose": "#1f5fa8", "taken": "#0b7a3e", "model": "#9a5b00", "today": "#b00020"}
SCALE_COLOURS = ("#5b2a86", "#00707a", "#a83279", "#4a5a00")

FIGURE_WIDTH_IN = 4.8  # 345.6 SVG units (pt) wide; see the module docstring
FONT_UNITS = 12.0  # every text of the chart (ticks, labels, legends), in SVG units
PANEL_HEIGHT_IN = 1.9  # one panel with its legend above
DATE_FORMAT = "%d %b"  # 07 Dec: dates, not day numbers, on the shared x-axis


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


_RC: dict[Any, Any] = {
    "font.size": FONT_UNITS,
    "legend.fontsize": FONT_UNITS,
    "legend.title_fontsize": FONT_UNITS,
    "axes.labelsize": FONT_UNITS,
    "xtick.labelsize": FONT_UNITS,
    "ytick.labelsize": FONT_UNITS,
    "svg.fonttype": "none",  # text stays text: smaller, readable by assistive tech
    "svg.hashsalt": "benzokit",
}


def trends_svg(trends: Trends, scale_names: dict[str, str], *, compact: bool = False) -> str:
    """The stacked trend chart as an SVG document (text). ``compact`` is kept for the callers: the
    same phone-first size serves both (the stylesheet caps the width on a wide screen)."""
    del compact
    with matplotlib.rc_context(_RC):
        out = io.StringIO()
        trends_figure(trends, scale_names).savefig(out, format="svg")
    text = out.getvalue()
    return text[text.index("<svg") :]


def panels_of(trends: Trends) -> list[_Panel]:
    """The panels this chart has, top to bottom: the model's only where it predicted something."""
    panels = [DOSE, SCALES]
    if trends.occupancy is not None:
        panels.append(OCCUPANCY)
    if trends.withdrawal_index is not None:
        panels.append(WITHDRAWAL)
    return panels


def trends_figure(trends: Trends, scale_names: dict[str, str]) -> Figure:
    """The chart as a matplotlib figure (no pyplot: safe in server threads); constrained layout
    keeps the legends, labels and panels apart."""
    with matplotlib.rc_context(_RC):
        return _draw(trends, scale_names)


def _draw(trends: Trends, scale_names: dict[str, str]) -> Figure:
    panels = panels_of(trends)
    fig = Figure(
        figsize=(FIGURE_WIDTH_IN, 0.5 + PANEL_HEIGHT_IN * len(panels)), layout="constrained"
    )
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    days: list[Any] = [_midnight(d) for d in trends.days]  # matplotlib plots datetimes
    today = _midnight(trends.today)
    for axis, panel in zip(axes, panels, strict=True):
        axis.axvline(today, color=COLOURS["today"], lw=1.5, label=f"today ({_day(trends.today)})")
        if panel.kind == "dose":
            _dose(axis, trends, days)
        elif panel.kind == "scales":
            _scales(axis, trends, scale_names)
        elif panel.kind == "occupancy" and trends.occupancy is not None:
            _model(axis, days, trends.occupancy, "predicted, daily mean")
        elif trends.withdrawal_index is not None:
            _model(axis, days, trends.withdrawal_index, "predicted, daily peak")
        axis.set_ylabel(panel.unit)
        axis.grid(alpha=0.3)
        handles, labels = axis.get_legend_handles_labels()
        # the red line comes first; it is named once, last in the top panel's legend
        today_handle, today_label = handles.pop(0), labels.pop(0)
        if panel.kind == "dose":
            handles, labels = [*handles, today_handle], [*labels, today_label]
        # the legend, headed by the panel's quantity, sits above the plot area: never over a line
        axis.legend(
            handles,
            labels,
            title=panel.heading,
            alignment="left",
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            ncols=2,
            frameon=False,
            borderaxespad=0.2,
            borderpad=0.0,
            handlelength=1.5,
            columnspacing=0.8,
        )
    bottom = axes[-1]
    # at most four dates: they fit the narrow axis without touching (tests/service/test_charts.py)
    locator = mdates.AutoDateLocator(minticks=2, maxticks=4, interval_multiples=False)  # type: ignore[no-untyped-call]
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(mdates.DateFormatter(DATE_FORMAT))  # type: ignore[no-untyped-call]
    return fig


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time())


def _dose(axis: Axes, trends: Trends, days: list[Any]) -> None:
    axis.step(days, trends.planned_mg, where="post", color=COLOURS["dose"], label="planned")
    taken = [(d, t) for d, t in zip(days, trends.taken_mg, strict=True) if t is not None]
    if taken:
        axis.plot(*zip(*taken, strict=True), "o", ms=3, color=COLOURS["taken"], label="recorded")
    highest = max([*trends.planned_mg, *(t for t in trends.taken_mg if t is not None)], default=0.0)
    axis.set_ylim(0, highest * 1.15 or 1.0)


def _scales(axis: Axes, trends: Trends, scale_names: dict[str, str]) -> None:
    for index, (scale, points) in enumerate(sorted(trends.scales.items())):
        when: list[Any] = [p.at for p in points]
        axis.plot(
            when,
            [p.total for p in points],
            "o-",
            ms=4,
            color=SCALE_COLOURS[index % len(SCALE_COLOURS)],
            label=scale_names.get(scale, scale),
        )
    highest = max((p.total for points in trends.scales.values() for p in points), default=0)
    axis.set_ylim(0, highest * 1.15 or 1.0)
    if not trends.scales:
        axis.text(0.5, 0.5, "no check-ins yet", ha="center", va="center", transform=axis.transAxes)


def _model(axis: Axes, days: list[Any], values: tuple[float, ...], label: str) -> None:
    """A model series, dashed, from 0 with headroom."""
    axis.plot(days, values, "--", color=COLOURS["model"], lw=1.5, label=label)
    axis.set_ylim(0, max(values, default=0.0) * 1.2 or 1.0)


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


def _day(day: date) -> str:
    return day.strftime(DATE_FORMAT)
