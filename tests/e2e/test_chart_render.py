"""The trend chart as Chromium draws it, at a phone's column width and a desktop's, with the widths
the browser's own fonts give (not the estimates the layout makes): every text inside the chart,
no legend or date over a plot area, dates apart, text at 12 px or more on the phone, and the widths
the layout measured never narrower than the drawn ones. A screenshot of each goes to
``screenshot_dir`` (``chart-<case>-<size>.png``)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from benzokit.service.chart_layout import text_width
from benzokit.service.charts import trends_svg
from benzokit.service.records_view import ScalePoint, Trends

TODAY = date(2026, 12, 7)
NAMES = {"gad7": "GAD-7", "phq9": "PHQ-9", "ciwa_b": "CIWA-B", "bwsq": "BWSQ (unvalidated)"}
SIZES = {"phone": 350, "desktop": 578}  # the chart's column: a 390 px phone; capped on a desktop


def _trends(span_days: int, scales: tuple[str, ...]) -> Trends:
    """A taper from 4 mg/day falling 0.125 mg a month, every dose recorded, a check-in a day."""
    days = tuple(TODAY + timedelta(days=i) for i in range(-span_days, 29))
    planned = tuple(4.0 - 0.125 * ((d - days[0]).days // 30) for d in days)
    taken = tuple(p if d < TODAY else None for d, p in zip(days, planned, strict=True))
    at = datetime.combine(days[0], datetime.min.time(), UTC) + timedelta(hours=20)
    points = {
        scale: tuple(
            ScalePoint(at + timedelta(days=k), 7 + i + k % 3, "mild") for k in range(span_days)
        )
        for i, scale in enumerate(scales)
    }
    return Trends(
        today=TODAY,
        days=days,
        planned_mg=planned,
        taken_mg=taken,
        occupancy=tuple(0.27 - 0.0002 * i for i in range(len(days))),
        withdrawal_index=tuple(0.02 + 0.004 * (i % 30 < 4) for i in range(len(days))),
        model_note="typical patient",
        scales=points,
    )


CASES = {
    "year": _trends(365, ("gad7", "phq9")),
    "month": _trends(30, ("bwsq", "ciwa_b", "gad7", "phq9")),
    "no-checkins": _trends(0, ()),
}

_MEASURE = """svg => {
  const box = e => { const r = e.getBoundingClientRect();
                     return {x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}; };
  const texts = [...svg.querySelectorAll('text')].map(t => ({
      text: t.textContent, kind: t.getAttribute('class'), box: box(t),
      length: t.getComputedTextLength(),
      px: parseFloat(getComputedStyle(t).fontSize) * svg.getBoundingClientRect().width
          / svg.viewBox.baseVal.width}));
  return {chart: box(svg), plots: [...svg.querySelectorAll('rect.plot')].map(box), texts};
}"""


def _overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["x0"] < b["x1"] and b["x0"] < a["x1"] and a["y0"] < b["y1"] and b["y0"] < a["y1"]


def _inside(a: dict[str, float], b: dict[str, float]) -> bool:
    slack = 0.5  # px: anti-aliasing of the client rectangles
    return (
        b["x0"] - slack <= a["x0"]
        and a["x1"] <= b["x1"] + slack
        and b["y0"] - slack <= a["y0"]
        and a["y1"] <= b["y1"] + slack
    )


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("case", CASES)
def test_the_chart_as_chromium_draws_it(
    page: Page, case: str, size: str, screenshot_dir: Path
) -> None:
    style = (resources.files("benzokit.service") / "static" / "style.css").read_text()
    width = SIZES[size]
    page.set_viewport_size({"width": width + 40, "height": 900})
    page.set_content(
        f"<!doctype html><html lang='en'><head><style>{style}</style></head><body>"
        f"<main style='width:{width}px;padding:0'><figure class='chart' style='margin:0'>"
        f"<div>{trends_svg(CASES[case], NAMES)}</div></figure></main></body></html>"
    )
    drawn: dict[str, Any] = page.locator(".chart svg").evaluate(_MEASURE)
    page.locator(".chart svg").screenshot(path=screenshot_dir / f"chart-{case}-{size}.png")
    texts, plots = drawn["texts"], drawn["plots"]
    assert len(plots) == 4 and texts
    for text in texts:
        assert _inside(text["box"], drawn["chart"]), text
        assert text_width(text["text"]) >= text["length"], text  # the layout's estimate
        if size == "phone":
            assert text["px"] >= 12, text
        if text["kind"] in ("heading", "entry", "date", "year"):
            assert not any(_overlaps(text["box"], plot) for plot in plots), text
    dates = sorted((t["box"] for t in texts if t["kind"] == "date"), key=lambda b: b["x0"])
    assert dates and all(a["x1"] < b["x0"] for a, b in itertools.pairwise(dates))
    if case == "no-checkins":
        assert "no check-ins yet" in [t["text"] for t in texts]
