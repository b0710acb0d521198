"""Summaries of a paced strategy: how long the taper took (Kaplan–Meier), holds, slowdowns, referrals.

A subject's taper is complete on the day its 0 mg step starts (``taper_days``); one that had not got
there by the end of the run (or whose policy handed the pace to the clinician, OVERDUE) is censored at
the run's end. Durations are therefore read from the Kaplan–Meier curve of "taper completed", never as
plain quantiles of ``taper_days`` (which would count a censored subject as finishing at the run's end).
"""

from __future__ import annotations

import math
from typing import Any

from benzokit.sim.population.structures import Metric, PacingMetric
from benzokit.sim.trial.survival import (
    Z95,
    KaplanMeier,
    kaplan_meier,
    quantile_interval,
    wilson_interval,
)
from benzokit.types import FloatArray

DAYS_PER_YEAR = 365
STILL_TAPERING_AT_YEARS = (1, 2)
DURATION_SHARES = {"p5": 0.05, "median": 0.5, "p95": 0.95}
PACING_COUNTS = (PacingMetric.HOLDS, PacingMetric.SLOWDOWNS, PacingMetric.REFERRALS)
PACED_SUMMARY_COLUMNS = (
    PacingMetric.TAPER_DAYS.column,
    PacingMetric.TAPER_COMPLETED.column,
    *(m.column for m in PACING_COUNTS),
    Metric.PEAK_WITHDRAWAL_INDEX.column,
)


def _interval(estimate: float | None, low: float | None, high: float | None) -> dict[str, Any]:
    return {"estimate": estimate, "ci95_low": low, "ci95_high": high}


def _proportion(successes: int, n: int) -> dict[str, Any]:
    low, high = wilson_interval(successes, n)
    return _interval(successes / n if n else math.nan, low, high)


def _count_summary(values: FloatArray) -> dict[str, Any]:
    n = values.size
    mean = float(values.mean()) if n else math.nan
    sd = float(values.std(ddof=1)) if n > 1 else 0.0
    half = Z95 * sd / math.sqrt(n) if n else math.nan
    return {
        "mean": _interval(mean, mean - half, mean + half),
        "share_at_least_one": _proportion(int((values >= 1).sum()), n),
        "max": float(values.max()) if n else math.nan,
    }


def _curve(km: KaplanMeier, days: int) -> dict[str, list[float]]:
    """The share with the taper completed, from day 0 to the run's end (a step at each event day)."""
    day = [0.0, *km.time.tolist(), float(days)]
    completed = [0.0, *(1.0 - km.survival).tolist()]
    completed.append(completed[-1])
    return {"day": day, "completed": completed}


def paced_summary(columns: dict[str, FloatArray], policy: str, days: int) -> dict[str, Any]:
    """The pacing block of one strategy's summary, from its per-subject ``PACED_SUMMARY_COLUMNS``."""
    taper_days = columns[PacingMetric.TAPER_DAYS.column]
    completed = columns[PacingMetric.TAPER_COMPLETED.column] > 0.5
    km = kaplan_meier(taper_days, completed)
    n = int(taper_days.size)
    still: dict[str, Any] = {}
    for years in STILL_TAPERING_AT_YEARS:
        at_day = years * DAYS_PER_YEAR
        key = f"{years}_year" + ("s" if years > 1 else "")
        if at_day > days:
            still[key] = _interval(None, None, None)  # past the run's end: not observed
        else:
            low, high = km.interval_at(at_day)
            still[key] = _interval(km.at(at_day), low, high)
    peak = columns[Metric.PEAK_WITHDRAWAL_INDEX.column]
    return {
        "policy": policy,
        "subjects": n,
        "taper_completed_in_run": _proportion(int(completed.sum()), n),
        "taper_duration_days": {
            name: _interval(*km.time_to(share)) for name, share in DURATION_SHARES.items()
        },
        "still_tapering": still,
        "kaplan_meier_completed": _curve(km, days),
        **{m.column: _count_summary(columns[m.column]) for m in PACING_COUNTS},
        "peak_withdrawal_index_p95": _interval(*quantile_interval(peak, 0.95)),
        "peak_withdrawal_index_p5": _interval(*quantile_interval(peak, 0.05)),
        "peak_withdrawal_index_median": _interval(*quantile_interval(peak, 0.5)),
    }


def _days(value: float | None, days: int) -> str:
    return f"> {days}" if value is None else f"{value:.0f}"


def _duration(block: dict[str, Any], days: int) -> str:
    """'median (95 % CI low–high)' in days; a share not reached in the run is '> days'."""
    ci = f"{_days(block['ci95_low'], days)}–{_days(block['ci95_high'], days)}"
    return f"{_days(block['estimate'], days)} ({ci})"


def _share(block: dict[str, Any]) -> str:
    if block["estimate"] is None:
        return "not observed"
    return f"{block['estimate']:.1%} ({block['ci95_low']:.1%}–{block['ci95_high']:.1%})"


def _value(block: dict[str, Any]) -> str:
    return f"{block['estimate']:.3f} ({block['ci95_low']:.3f}–{block['ci95_high']:.3f})"


def pacing_report(
    summary: dict[str, Any], days: int, policies: dict[str, dict[str, str]]
) -> list[str]:
    """Markdown tables comparing the paced strategies (none: no lines), and the policies' sources."""
    paced = {name: block["pacing"] for name, block in summary.items() if "pacing" in block}
    if not paced:
        return []
    lines = [
        "## Paced strategies compared",
        "",
        "Taper duration is the day the 0 mg step starts, from the Kaplan–Meier curve of 'taper "
        f"completed' (a subject still tapering at the run's end, day {days}, or handed to the "
        "clinician as overdue, is censored there). 95 % confidence intervals in brackets. The policy's "
        "decisions are taken on the model's withdrawal index with observation noise: this shows how a "
        "rule behaves in a model, not what a patient will feel.",
        "",
        "| strategy | policy | completed in the run | median duration, days | 5th / 95th pct, days "
        "| still tapering at 1 year | at 2 years |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, block in paced.items():
        duration = block["taper_duration_days"]
        still = block["still_tapering"]
        lines.append(
            f"| {name} | {block['policy']} | {_share(block['taper_completed_in_run'])} "
            f"| {_duration(duration['median'], days)} "
            f"| {_days(duration['p5']['estimate'], days)} / {_days(duration['p95']['estimate'], days)} "
            f"| {_share(still['1_year'])} | {_share(still['2_years'])} |"
        )
    lines += [
        "",
        "| strategy | peak withdrawal index, 95th pct | median | holds, mean (share ≥ 1) "
        "| slowdowns, mean (share ≥ 1) | referrals, mean (share ≥ 1) |",
        "|---|---|---|---|---|---|",
    ]
    for name, block in paced.items():
        counts = " | ".join(
            f"{block[m.column]['mean']['estimate']:.2f} "
            f"({block[m.column]['share_at_least_one']['estimate']:.1%})"
            for m in PACING_COUNTS
        )
        lines.append(
            f"| {name} | {_value(block['peak_withdrawal_index_p95'])} "
            f"| {_value(block['peak_withdrawal_index_median'])} | {counts} |"
        )
    lines += ["", "Policies (plan/data/pacing.toml; numbers marked `benzokit_policy` there are "
              "defaults a clinician changes, not evidence):", ""]  # fmt: skip
    lines += [f"- `{name}`: {p['title']} — {p['source']}" for name, p in policies.items()]
    return [*lines, ""]
