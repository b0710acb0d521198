"""Charts for the pages, drawn with matplotlib as inline SVG (with a text summary for screen readers).

One figure, two panels on one date axis: the dose (planned steps, recorded intake) with the predicted
GABA-A occupancy; and the symptom-scale totals with the predicted withdrawal index. A line marks today.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any, Literal

import matplotlib
import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from benzokit.service.records_view import Trends

COLOURS = {"dose": "#1f5fa8", "taken": "#0b7a3e", "model": "#9a5b00", "today": "#b00020"}
SCALE_COLOURS = ("#5b2a86", "#00707a", "#a83279", "#4a5a00")


def trends_svg(trends: Trends, scale_names: dict[str, str], *, compact: bool = False) -> str:
    """The two-panel trend chart as an SVG document (text); ``compact``: narrow, for a phone."""
    with matplotlib.rc_context({"font.size": 11 if compact else 10}):
        return _draw(trends, scale_names, compact)


def _draw(trends: Trends, scale_names: dict[str, str], compact: bool) -> str:
    # no pyplot: safe in server threads; a fixed layout (no constrained layout) keeps it fast
    fig = Figure(figsize=(4.6, 6.2) if compact else (8.0, 5.2))
    if compact:
        fig.subplots_adjust(left=0.15, right=0.96, top=0.98, bottom=0.08, hspace=0.1)
    else:
        fig.subplots_adjust(left=0.08, right=0.9, top=0.97, bottom=0.07, hspace=0.08)
    top, bottom = fig.subplots(2, 1, sharex=True)
    days = [datetime.combine(d, datetime.min.time()) for d in trends.days]
    top.step(days, trends.planned_mg, where="post", color=COLOURS["dose"], label="planned mg/day")
    taken = [(d, t) for d, t in zip(days, trends.taken_mg, strict=True) if t is not None]
    if taken:
        top.plot(
            *zip(*taken, strict=True), "o", ms=3, color=COLOURS["taken"], label="recorded mg/day"
        )
    top.set_ylabel("mg/day")
    top.set_ylim(bottom=0)
    if trends.occupancy is not None:
        right = _model_line(
            top, days, trends.occupancy, "occupancy (daily mean)", "occupancy (0-1)"
        )
        _legend(top, right, "lower left")
    else:
        top.legend(loc="lower left", fontsize=8)
    for index, (scale, points) in enumerate(sorted(trends.scales.items())):
        bottom.plot(
            [p.at for p in points],
            [p.total for p in points],
            "o-",
            ms=4,
            color=SCALE_COLOURS[index % len(SCALE_COLOURS)],
            label=scale_names.get(scale, scale),
        )
    bottom.set_ylabel("scale total")
    bottom.set_ylim(bottom=0)
    if trends.withdrawal_index is not None:
        right = _model_line(
            bottom,
            days,
            trends.withdrawal_index,
            "withdrawal index (daily peak)",
            "withdrawal index",
        )
        _legend(bottom, right, "upper left")
    elif trends.scales:
        bottom.legend(loc="upper left", fontsize=8)
    else:
        bottom.text(
            0.5, 0.5, "no check-ins yet", ha="center", va="center", transform=bottom.transAxes
        )
    today = datetime.combine(trends.today, datetime.min.time())
    for axis in (top, bottom):
        axis.axvline(today, color=COLOURS["today"], lw=1)
        axis.grid(alpha=0.3)
    if compact:  # a narrow chart has room for few dates
        bottom.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=4))  # type: ignore[no-untyped-call]
    bottom.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))  # type: ignore[no-untyped-call]
    out = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "benzokit"}):
        fig.savefig(
            out, format="svg"
        )  # text stays text: smaller, faster, readable by assistive tech
    text = out.getvalue()
    return text[text.index("<svg") :]


def _model_line(
    axis: Axes, days: list[Any], values: tuple[float, ...], label: str, unit: str
) -> Axes:
    """The model's series, dashed, on its own right-hand scale (from 0, with headroom)."""
    right = axis.twinx()
    right.plot(days, values, "--", color=COLOURS["model"], lw=1, label=f"model: {label}")
    right.set_ylabel(f"model {unit}")
    right.set_ylim(0, max(values) * 1.2 or 1.0)
    return right


def _legend(left: Axes, right: Axes, where: Literal["lower left", "upper left"]) -> None:
    handles, labels = left.get_legend_handles_labels()
    more_handles, more_labels = right.get_legend_handles_labels()
    left.legend(handles + more_handles, labels + more_labels, loc=where, fontsize=8)


def trends_text(trends: Trends, scale_names: dict[str, str]) -> str:
    """What the chart shows, in words (for screen readers and the page's summary)."""
    today_index = trends.days.index(trends.today) if trends.today in trends.days else -1
    parts = [
        f"Planned dose today {trends.planned_mg[today_index]:g} mg/day." if today_index >= 0 else ""
    ]
    for scale, points in sorted(trends.scales.items()):
        series = ", ".join(str(p.total) for p in points[-5:])
        parts.append(f"{scale_names.get(scale, scale)} (latest {min(len(points), 5)}): {series}.")
    if trends.withdrawal_index is not None and today_index >= 0:
        ahead = max(trends.withdrawal_index[today_index:], default=0.0)
        parts.append(
            f"Model withdrawal index today {trends.withdrawal_index[today_index]:.3f}, "
            f"highest in the next weeks {ahead:.3f}."
        )
    return " ".join(p for p in parts if p)
