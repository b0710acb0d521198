"""The handout's calendar: the plan cut at step changes and at week boundaries, one row per dose time.

Week ``k`` (1-based for people) covers plan days ``7(k-1) .. 7k-1``; a row group (a "segment") is the part
of one week on one step. Dates read like ``Mon 5 Jan 2026``; without a start date, days are counted from
``Day 1`` (plan day 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from benzokit.interop._common import drug_title, mg, products_text, sorted_doses
from benzokit.plan.model import Plan, Step, StepKind
from benzokit.units import ClockTime

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_date(day: date, *, year: bool = True) -> str:
    """``Mon 5 Jan 2026`` (English, unambiguous in every locale)."""
    text = f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if year else text


def format_time(time: ClockTime, clock: str) -> str:
    """20:00 as ``8:00 pm`` on a 12-hour clock, ``20:00`` on a 24-hour clock."""
    if clock == "24h":
        return str(time)
    hour, minute = divmod(time.minutes, 60)
    suffix = "am" if hour < 12 else "pm"
    return f"{(hour - 1) % 12 + 1}:{minute:02d} {suffix}"


def day_span(plan: Plan, first: int, last: int) -> str:
    """Days ``first..last`` (plan days, inclusive) as dates, or as ``Days 1–7`` without a start date."""
    if plan.start_date is None:
        return f"Day {first + 1}" if first == last else f"Days {first + 1}–{last + 1}"
    a = plan.start_date + timedelta(days=first)
    b = plan.start_date + timedelta(days=last)
    if a == b:
        return format_date(a)
    return f"{format_date(a, year=a.year != b.year)} – {format_date(b)}"


@dataclass(frozen=True, slots=True)
class DoseRow:
    time: str
    dose: str
    what: str


@dataclass(frozen=True, slots=True)
class Segment:
    """Part of one week on one step: the heading text and one row per dose time."""

    week: int
    span: str
    marker: str
    total: str
    hold: bool
    note: str
    rows: tuple[DoseRow, ...]


def step_marker(plan: Plan, index: int) -> str:
    """``START``, ``NEW DOSE`` or ``HOLD`` for the first segment of step ``index``."""
    step = plan.steps[index]
    if step.kind is StepKind.HOLD:
        return "HOLD"
    if index == 0:
        return "START"
    if step.daily_dose_mg() == 0:
        return "NO DOSES"
    previous = plan.steps[index - 1]
    drugs = {a.drug for a in step.doses}
    if drugs != {a.drug for a in previous.doses}:
        return "NEW DOSE"
    changes = [step.daily_dose_mg(d) - previous.daily_dose_mg(d) for d in drugs]
    return "NEW DOSE (higher)" if min(changes) >= 0 and max(changes) > 0 else "NEW DOSE"


def daily_total(plan: Plan, step: Step) -> str:
    """``0.75 mg a day``, or per drug when the step has more than one."""
    drugs = sorted({a.drug for a in step.doses}, key=lambda d: (d != plan.drug, d))
    if not drugs:
        return "0 mg a day"
    if drugs == [plan.drug]:
        return f"{mg(step.daily_dose_mg())} mg a day"
    parts = [f"{mg(step.daily_dose_mg(d))} mg {d}" for d in drugs]
    return " + ".join(parts) + " a day"


def dose_rows(plan: Plan, step: Step, clock: str, many_drugs: bool) -> tuple[DoseRow, ...]:
    if not step.doses:
        return (DoseRow("—", "0 mg", f"No {plan.drug} on these days"),)
    rows = []
    for a in sorted_doses(step):
        what = f"{drug_title(a.drug)}: {products_text(a)}" if many_drugs else products_text(a)
        rows.append(DoseRow(format_time(a.time, clock), f"{mg(a.dose_mg)} mg", what))
    return tuple(rows)


def segments(plan: Plan, clock: str) -> list[Segment]:
    """The calendar of ``plan``, in order: every step cut at week boundaries."""
    many_drugs = len({a.drug for s in plan.steps for a in s.doses} | {plan.drug}) > 1
    found: list[Segment] = []
    for i, step in enumerate(plan.steps):
        rows = dose_rows(plan, step, clock, many_drugs)
        first = step.start_day
        while first < step.end_day:
            last = min(step.end_day, (first // 7 + 1) * 7) - 1
            opening = first == step.start_day
            hold = step.kind is StepKind.HOLD
            marker = step_marker(plan, i) if opening else ("HOLD (continued)" if hold else "")
            found.append(
                Segment(
                    week=first // 7 + 1,
                    span=day_span(plan, first, last),
                    marker=marker,
                    total=daily_total(plan, step),
                    hold=hold,
                    note=step.note if opening else "",
                    rows=rows,
                )
            )
            first = last + 1
    return found
