"""Checking a dose confirmation against the plan: which dose it is, and the amount taken (mg)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from benzokit.drugs.loader import load_drug
from benzokit.errors import InputError
from benzokit.knowledge import Knowledge
from benzokit.monitor.course import Course
from benzokit.monitor.records import DoseStatus
from benzokit.plan.model import Administration
from benzokit.service import schemas


def catch_up_window(today: date, catch_up_days: int) -> tuple[date, date]:
    """The first and last day a patient may record (the clinic's catch-up window, today included)."""
    return today - timedelta(days=catch_up_days - 1), today


def planned_dose(
    course: Course | None, form: schemas.DoseConfirmation, today: date, *, catch_up_days: int
) -> Administration:
    """The planned dose ``form`` is about, on a day inside the catch-up window."""
    if course is None:
        raise InputError(
            "day", form.day.isoformat(), "a day of your plan (no plan has been made yet)"
        )
    first, last = catch_up_window(today, catch_up_days)
    if not first <= form.day <= last:
        raise InputError(
            "day",
            form.day.isoformat(),
            f"a day from {first} to {last}: today or up to {catch_up_days - 1} days back "
            "(your clinic's window for recording missed days)",
        )
    planned = course.doses_on(form.day)
    drugs = sorted({d.drug for d in planned})
    if form.drug is not None and form.drug not in drugs:
        raise InputError(
            "drug", form.drug, f"a drug of the plan on {form.day}: {', '.join(drugs) or 'none'}"
        )
    doses = [d for d in planned if str(d.time) == form.time and form.drug in (None, d.drug)]
    if not doses:
        times = ", ".join(sorted({str(d.time) for d in course.doses_on(form.day)})) or "none"
        raise InputError("time", form.time, f"a planned dose time on {form.day}: {times}")
    if len(doses) > 1:
        raise InputError("drug", form.drug, "name the drug: " + ", ".join(d.drug for d in doses))
    return doses[0]


def taken_mg(
    form: schemas.DoseConfirmation, planned_mg: float, drug: str, knowledge: Knowledge
) -> float | None:
    if form.status is DoseStatus.MISSED:
        if form.taken_mg is not None:
            raise InputError("taken_mg", form.taken_mg, "empty when the dose was missed")
        return None
    if form.status is not DoseStatus.DIFFERENT:
        if form.taken_mg is not None:
            raise InputError(
                "taken_mg", form.taken_mg, "empty unless the status is 'different' (another amount)"
            )
        return planned_mg
    if form.taken_mg is None:
        raise InputError("taken_mg", None, "the amount taken in mg, for status 'different'")
    ceiling = highest_labelled_daily_mg(drug, knowledge)
    if form.taken_mg > ceiling:
        raise InputError(
            "taken_mg", form.taken_mg, f"at most {ceiling:g} mg (the highest labelled daily dose)"
        )
    return form.taken_mg


def highest_labelled_daily_mg(drug: str, knowledge: Knowledge) -> float:
    """The highest labelled maximum daily dose of ``drug`` (mg/day), over its dose limits."""
    found = load_drug(drug, knowledge).dose_limits
    limits = [lim.max_daily_mg.require() for lim in found if lim.max_daily_mg]
    if not limits:
        raise InputError("drug", drug, "a drug with labelled daily maxima")
    return max(limits)


def taken_at(
    form: schemas.DoseConfirmation, local_time: Callable[[date, str], datetime], now: datetime
) -> datetime | None:
    """When the dose was taken (UTC): the time given, else the planned time. Never in the future:
    a dose whose time is still ahead can be neither taken at that time nor missed yet."""
    planned = local_time(form.day, form.time)
    if form.status is DoseStatus.MISSED:
        if form.taken_time is not None:
            raise InputError("taken_time", form.taken_time, "empty when the dose was missed")
        if planned > now:
            raise InputError(
                "status",
                "missed",
                f"a dose whose time has come: the {form.time} dose of {form.day} is still ahead",
            )
        return None
    if form.status is DoseStatus.LATE and form.taken_time is None:
        raise InputError("taken_time", None, "the time the dose was taken, for status 'late'")
    when = local_time(form.day, form.taken_time or form.time)
    if form.taken_time is not None and when > now:
        raise InputError("taken_time", form.taken_time, "a time that has already passed")
    if when > now:
        raise InputError(
            "time",
            form.time,
            f"a dose whose time has come: the {form.time} dose of {form.day} is still ahead "
            "(record it once taken; if you took it early, give the time you took it)",
        )
    return when
