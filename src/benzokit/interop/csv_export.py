"""The plan as CSV: one row per day per administration.

The first line is a ``#`` comment holding the decision-support statement; then the header
``day, date, time, drug, dose_mg, products, step, step_kind``. ``day`` is the plan day (0 = first day),
``date`` is ISO (empty without a start date), ``time`` is ``HH:MM``, ``dose_mg`` in mg, ``step`` the
1-based step number. Days of a step without administrations have no rows.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from benzokit._disclaimer import DISCLAIMER
from benzokit.files import write_atomically
from benzokit.interop._common import (
    check_plan,
    days_of,
    mg,
    products_text,
    sorted_doses,
)
from benzokit.plan.model import Plan

COLUMNS = ("day", "date", "time", "drug", "dose_mg", "products", "step", "step_kind")


def plan_csv(plan: Plan) -> str:
    """The CSV text of ``plan`` (comment line, header, rows)."""
    check_plan(plan)
    buffer = io.StringIO()
    buffer.write(f"# {DISCLAIMER}\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for day in days_of(plan):
        when = day.date.isoformat() if day.date else ""
        for a in sorted_doses(day.step):
            writer.writerow(
                (day.index, when, str(a.time), a.drug, mg(a.dose_mg), products_text(a),
                 day.step_index + 1, str(day.step.kind))
            )  # fmt: skip
    return buffer.getvalue()


def write_plan_csv(plan: Plan, path: Path) -> Path:
    """Write :func:`plan_csv` to ``path`` (UTF-8) and return the path."""
    return write_atomically(path, plan_csv(plan).encode("utf-8"))
