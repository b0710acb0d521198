"""Where everything of the trend chart goes, computed from the data and the text's width (no drawing).

All lengths are SVG user units (y grows downwards); the chart is ``WIDTH`` units wide and the page
scales it to its column, so a ``FONT`` unit text renders at ``FONT * column_px / WIDTH`` px: at least
12 px in the ~350 px column of a 390 px phone. Text widths are measured with the advance widths of
DejaVu Sans (the font the chart asks for first), without kerning and with a little slack, so a
measured width is never narrower than the drawn text in that font. (No matplotlib: the service
does not import it.)

Top to bottom, each panel has its legend (headed by the quantity and its unit) above its plot area,
never over a line; the panels share one date axis, whose dates are written under the bottom panel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise

WIDTH = 345.6  # the chart's width (4.8 in at 72 units per inch), see the module docstring
FONT = 12.0  # every text of the chart (ticks, labels, legends)
ASCENT = 11.2  # DejaVu Sans at FONT: baseline below a text line's top
LINE = 14.5  # one line of text
EDGE = 3.0  # free space kept at every edge of the chart
TICK = 3.5  # tick marks, outside the plot area
TICK_PAD = 3.0  # between a tick mark and its label
PLOT_HEIGHT = 84.0  # one panel's plot area
LEGEND_GAP = 3.0  # between a legend and its plot area
PANEL_GAP = 12.0  # between a plot area and the next panel's legend
HANDLE = 18.0  # the sample line (or dot) of a legend entry
HANDLE_PAD = 6.0  # between the sample and the entry's text
ELLIPSIS = "\u2026"  # ends a legend entry cut short
COLUMN_GAP = 12.0  # between two entries of a legend side by side
DATE_FORMAT = "%d %b"  # 07 Dec: dates, not day numbers, on the shared x-axis
MAX_DATES = 4  # dates written under the bottom panel, at most
DATE_GAP = 12.0  # the least free space between two dates
Y_INTERVALS = 3  # at most this many steps between 0 and the top of a y-axis
X_MARGIN = 0.04  # free space at each end of the date axis, as a share of the shown span
_DAY_STEPS = (1, 2, 3, 7, 14, 21)
_MONTH_STEPS = (1, 2, 3, 4, 6, 12)


#: DejaVu Sans (version 2.35, as matplotlib ships it) advance widths of the printable ASCII
#: characters, space (0x20) to tilde (0x7E), in 1/2048 em; tests/service/test_charts.py checks
#: them against the font file. Any other character is taken as ``_OTHER_EM`` wide (the widest
#: glyph of Latin-1 and Latin Extended-A in the font is 2191/2048 em), so that a measured text is
#: never narrower than the drawn one.
_ASCII_ADVANCES_TEXT = """
    651 821 942 1716 1303 1946 1597 563 799 799 1024 1716 651 739 651 690
    1303 1303 1303 1303 1303 1303 1303 1303 1303 1303 690 690 1716 1716 1716 1087
    2048 1401 1405 1430 1577 1294 1178 1587 1540 604 604 1343 1141 1767 1532 1612
    1235 1612 1423 1300 1251 1499 1401 2025 1403 1251 1403 799 690 799 1716 1024
    1024 1255 1300 1126 1300 1260 721 1300 1298 569 569 1186 569 1995 1298 1253
    1300 1300 842 1067 803 1298 1212 1675 1212 1212 1075 1303 690 1303 1716
"""
_ASCII_ADVANCES = tuple(int(width) for width in _ASCII_ADVANCES_TEXT.split())
_PER_EM = 2048
#: a browser draws a text up to ~1% wider than these widths add up to (another version of the
#: font, advances rounded to the pixel grid: Chromium with Debian's DejaVu Sans, see
#: tests/e2e/test_chart_render.py)
WIDTH_SLACK = 1.03
_OTHER_EM = 1.1
_ADVANCES_EM = {chr(0x20 + i): a / _PER_EM for i, a in enumerate(_ASCII_ADVANCES)}


def text_width(text: str, size: float = FONT) -> float:
    """The width of ``text`` at ``size`` (units), in DejaVu Sans without kerning, with
    ``WIDTH_SLACK``."""
    return WIDTH_SLACK * size * sum(_ADVANCES_EM.get(char, _OTHER_EM) for char in text)


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle: left, top, right, bottom (units, y downwards)."""

    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box) -> bool:
        return (
            self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1
        )

    def inside(self, other: Box) -> bool:
        return (
            other.x0 <= self.x0
            and self.x1 <= other.x1
            and other.y0 <= self.y0
            and self.y1 <= other.y1
        )


@dataclass(frozen=True, slots=True)
class Entry:
    """One legend entry: how its sample is drawn (``line``, ``dots``, ``line+dots``, ``dashed``),
    its colour and its text."""

    sample: str
    colour: str
    text: str


@dataclass(frozen=True, slots=True)
class Legend:
    """A panel's legend: its heading's lines, its entries in rows, and where each entry starts."""

    box: Box
    heading: tuple[str, ...]
    rows: tuple[tuple[Entry, ...], ...]
    starts: tuple[tuple[float, ...], ...]  # x of each entry's sample, row by row


@dataclass(frozen=True, slots=True)
class YAxis:
    """A panel's y-axis: from 0 to ``top`` (the quantity's unit), ticks with their labels."""

    top: float
    ticks: tuple[float, ...]
    labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PanelLayout:
    legend: Legend
    plot: Box
    y: YAxis

    def y_of(self, value: float) -> float:
        """The height (units) of ``value`` on this panel's axis."""
        return self.plot.y1 - (value / self.y.top) * (self.plot.y1 - self.plot.y0)


@dataclass(frozen=True, slots=True)
class DateAxis:
    """The shared date axis: the days (ordinal, fractional) at the plot areas' left and right edges,
    the dates written under the bottom panel, and those under which the year is written too (on a
    second line; only where the dates span more than one year)."""

    start: float
    end: float
    ticks: tuple[date, ...]
    years: tuple[date, ...]


@dataclass(frozen=True, slots=True)
class ChartLayout:
    """The whole chart: its size, the panels top to bottom, the date axis."""

    height: float
    panels: tuple[PanelLayout, ...]
    dates: DateAxis

    @property
    def bounds(self) -> Box:
        return Box(0.0, 0.0, WIDTH, self.height)

    def x_of(self, when: date | datetime) -> float:
        """The x (units) of a day's start, or of a moment."""
        plot = self.panels[0].plot
        share = (day_number(when) - self.dates.start) / (self.dates.end - self.dates.start)
        return plot.x0 + share * (plot.x1 - plot.x0)

    def date_label_box(self, day: date) -> Box:
        """Where a date under the bottom panel is written."""
        x, half = self.x_of(day), text_width(day.strftime(DATE_FORMAT)) / 2
        top = self.panels[-1].plot.y1 + TICK + TICK_PAD
        return Box(x - half, top, x + half, top + LINE)


def day_number(when: date | datetime) -> float:
    """Days since 0001-01-01 (a moment with its share of the day; an aware one read in UTC)."""
    if not isinstance(when, datetime):
        return float(when.toordinal())
    if when.tzinfo is not None:
        return _UNIX_EPOCH_DAY + when.timestamp() / _DAY_S
    seconds = when.hour * 3600 + when.minute * 60 + when.second + when.microsecond / 1e6
    return when.toordinal() + seconds / _DAY_S


_UNIX_EPOCH_DAY = date(1970, 1, 1).toordinal()
_DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class PanelSpec:
    """What a panel needs laid out: the legend's heading and entries, the y-axis label (its unit)
    and the highest value it shows, with its headroom."""

    heading: str
    unit: str
    entries: tuple[Entry, ...]
    top: float


def layout(specs: list[PanelSpec], first: float, last: float) -> ChartLayout:
    """The chart's layout for panels ``specs`` over days ``first``..``last`` (day numbers)."""
    axes = [y_axis(spec.top) for spec in specs]
    widest = max(text_width(label) for axis in axes for label in axis.labels)
    plot_x0 = EDGE + LINE + TICK_PAD + widest + TICK_PAD + TICK
    plot_x1 = WIDTH - EDGE - 7.0  # a little room for a date centred near the right edge
    panels, top = [], EDGE
    for spec, axis in zip(specs, axes, strict=True):
        legend = _legend(spec, plot_x0, top)
        plot_top = legend.box.y1 + LEGEND_GAP
        plot = Box(plot_x0, plot_top, plot_x1, plot_top + PLOT_HEIGHT)
        panels.append(PanelLayout(legend, plot, axis))
        top = plot.y1 + PANEL_GAP
    height = panels[-1].plot.y1 + TICK + TICK_PAD + LINE + EDGE
    margin = max(0.5, X_MARGIN * (last - first))
    start, end = first - margin, last + margin
    ticks = _dates(ChartLayout(height, tuple(panels), DateAxis(start, end, (), ())))
    years = _years(ticks)
    height += LINE if years else 0.0
    return ChartLayout(height, tuple(panels), DateAxis(start, end, ticks, years))


def y_axis(highest: float) -> YAxis:
    """An axis from 0 to ``highest`` (1 if nothing is above 0), ticks at a round step: at most
    ``Y_INTERVALS`` steps, labelled with the decimals the step needs."""
    top = highest if highest > 0 else 1.0
    exponent = math.floor(math.log10(top / Y_INTERVALS))
    for mantissa in (1.0, 2.0, 2.5, 5.0, 10.0):
        step = mantissa * 10.0**exponent
        if top / step <= Y_INTERVALS + 1e-9:
            break
    decimals = next(d for d in range(12) if abs(round(step, d) - step) < step * 1e-6)
    count = math.floor(top / step + 1e-9)
    ticks = tuple(round(i * step, decimals + 2) for i in range(count + 1))
    return YAxis(top, ticks, tuple(f"{t:.{decimals}f}" for t in ticks))


def _legend(spec: PanelSpec, x0: float, top: float) -> Legend:
    """The legend above a plot area starting at ``x0``: the heading (wrapped if it must be), then
    the entries side by side, on as many rows as they need (an entry too wide for a row of its own
    is cut short with an ellipsis; the text alternative has it whole)."""
    room = WIDTH - EDGE - x0
    heading = _wrap(spec.heading, room)
    rows: list[list[Entry]] = []
    starts: list[list[float]] = []
    for whole in spec.entries:
        entry = _fit(whole, room)
        at = starts[-1][-1] + entry_width(rows[-1][-1]) + COLUMN_GAP if rows else x0
        if rows and at + entry_width(entry) <= x0 + room:
            rows[-1].append(entry)
            starts[-1].append(at)
        else:
            rows.append([entry])
            starts.append([x0])
    ends = [s[-1] + entry_width(r[-1]) for r, s in zip(rows, starts, strict=True)]
    right = max([x0 + text_width(line) for line in heading] + ends)
    height = LINE * (len(heading) + len(rows))
    return Legend(
        Box(x0, top, right, top + height),
        heading,
        tuple(tuple(r) for r in rows),
        tuple(tuple(s) for s in starts),
    )


def _fit(entry: Entry, room: float) -> Entry:
    """``entry``, its text cut short with an ellipsis if the entry is wider than ``room``."""
    text = entry.text
    while text and HANDLE + HANDLE_PAD + text_width(text + ELLIPSIS) > room:
        text = text[:-1]
    fitted = entry.text if entry_width(entry) <= room else text.rstrip() + ELLIPSIS
    return Entry(entry.sample, entry.colour, fitted)


def entry_width(entry: Entry) -> float:
    """A legend entry's width: its sample, the space after it and its text."""
    return HANDLE + HANDLE_PAD + text_width(entry.text)


def _wrap(text: str, room: float) -> tuple[str, ...]:
    """``text`` in lines no wider than ``room`` where the words allow it."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}") <= room:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return tuple(lines) or ("",)


def _dates(chart: ChartLayout) -> tuple[date, ...]:
    """At most ``MAX_DATES`` round dates, apart enough not to touch, each written inside the chart:
    the shortest step of whole days, then of whole months, that allows it."""
    first = date.fromordinal(math.ceil(chart.dates.start))
    last = date.fromordinal(math.floor(chart.dates.end))
    for every, steps in ((_every_days, _DAY_STEPS), (_every_months, _MONTH_STEPS)):
        for step in steps:
            days = every(first, last, step)
            if len(days) > MAX_DATES + 2:  # too many, even with one cut off at each end
                continue
            shown = tuple(d for d in days if chart.date_label_box(d).inside(chart.bounds))
            if 1 <= len(shown) <= MAX_DATES and _apart(chart, shown):
                return shown
    return ()


def _years(ticks: tuple[date, ...]) -> tuple[date, ...]:
    """The dates under which the year is written: none where all dates are of one year, else the
    first and each one whose year is not the one before's."""
    if len({day.year for day in ticks}) < 2:
        return ()
    return tuple(d for i, d in enumerate(ticks) if i == 0 or ticks[i - 1].year != d.year)


def _every_days(first: date, last: date, step: int) -> tuple[date, ...]:
    return tuple(first + timedelta(days=i) for i in range(0, (last - first).days + 1, step))


def _every_months(first: date, last: date, step: int) -> tuple[date, ...]:
    """The first day of every ``step``-th month (counted from January) between the two days."""
    found = []
    year, month = first.year, first.month
    while date(year, month, 1) <= last:
        if (month - 1) % step == 0 and date(year, month, 1) >= first:
            found.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(found)


def _apart(chart: ChartLayout, days: tuple[date, ...]) -> bool:
    boxes = [chart.date_label_box(d) for d in days]
    return all(b.x0 - a.x1 >= DATE_GAP for a, b in pairwise(boxes))
