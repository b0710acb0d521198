"""Calendar events (iCalendar, RFC 5545) for the days a plan's dose changes.

One all-day event per step (a dose change, or a hold), on the step's first date, without recurrence
rules. The description lists each dose time with its dose in mg and the products, the last day of the
step, and the decision-support statement. Event UIDs are stable for the same plan identity and step
(:func:`~benzokit.interop._common.plan_key`), so importing a re-exported plan updates the events.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from icalendar import Calendar, Event

from benzokit._disclaimer import DISCLAIMER
from benzokit._version import __version__
from benzokit.files import write_atomically
from benzokit.interop._common import (
    check_plan,
    drug_title,
    drugs_of,
    mg,
    plan_key,
    products_text,
    require_start_date,
    sorted_doses,
)
from benzokit.interop.pdf_calendar import format_date, step_marker
from benzokit.plan.model import Plan, Step, StepKind

PRODID = f"-//benzokit//benzokit {__version__}//EN"


def write_calendar(plan: Plan, path: Path, *, stamp: datetime | None = None) -> Path:
    """Write the plan's dose-change events to ``path`` (``.ics``) and return the path.

    The plan needs a ``start_date``. ``stamp`` (UTC) is the events' DTSTAMP, by default now.
    """
    return write_atomically(path, plan_calendar(plan, stamp=stamp).to_ical())


def plan_calendar(plan: Plan, *, stamp: datetime | None = None) -> Calendar:
    """The plan as an iCalendar ``VCALENDAR`` with one ``VEVENT`` per step."""
    check_plan(plan)
    start = require_start_date(plan, "a calendar")
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{drug_title(plan.drug)} plan (benzokit)")
    stamp = stamp or datetime.now(UTC)
    key = plan_key(plan)
    for i, step in enumerate(plan.steps):
        first = start + timedelta(days=step.start_day)
        event = Event()
        event.add("uid", f"benzokit-{key}-step-{i + 1}@benzokit")
        event.add("dtstamp", stamp)
        event.add("dtstart", first)
        event.add("dtend", first + timedelta(days=1))
        event.add("summary", _summary(plan, i))
        event.add("description", _description(plan, step, start))
        event.add("transp", "TRANSPARENT")
        event.add("categories", ["benzokit", "medication"])
        cal.add_component(event)
    return cal


def _summary(plan: Plan, index: int) -> str:
    step = plan.steps[index]
    marker = step_marker(plan, index).lower().capitalize()
    totals = ", ".join(f"{mg(step.daily_dose_mg(d))} mg {d}" for d in _drugs(plan, step))
    return f"{drug_title(plan.drug)} plan: {marker} \u2014 {totals or '0 mg'} a day"


def _drugs(plan: Plan, step: Step) -> list[str]:
    present = {a.drug for a in step.doses}
    return [d for d in drugs_of(plan) if d in present]


def _description(plan: Plan, step: Step, start: date) -> str:
    last = start + timedelta(days=step.end_day - 1)
    lines = []
    if step.kind is StepKind.HOLD:
        lines.append("Hold: keep taking the same dose as before (a pause, no change).")
    lines.append(f"From today until {format_date(last)} ({step.days} days), each day:")
    if not step.doses:
        lines.append(f"- no {plan.drug}")
    for a in sorted_doses(step):
        lines.append(f"- {a.time}: {mg(a.dose_mg)} mg {a.drug} \u2014 {products_text(a)}")
    if step.note:
        lines.append(f"Note: {step.note}")
    lines += ["", DISCLAIMER]
    return "\n".join(lines)
