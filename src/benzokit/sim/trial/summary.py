"""Population summaries with confidence intervals, quantile bands over time, and the report files."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pyarrow.dataset as ds

from benzokit.sim.population.structures import BAND_SERIES, METRICS, Metric
from benzokit.sim.trial.paced_summary import PACED_SUMMARY_COLUMNS, paced_summary, pacing_report
from benzokit.sim.trial.store import BANDS_DIR, SUBJECTS_DIR
from benzokit.sim.trial.survival import Z95, wilson_interval
from benzokit.types import FloatArray

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def describe(values: FloatArray) -> dict[str, float]:
    """n, mean with a normal-approximation 95 % CI, sd, median and the 5th/95th percentiles."""
    n = values.size
    mean = float(values.mean()) if n else math.nan
    sd = float(values.std(ddof=1)) if n > 1 else 0.0
    half = Z95 * sd / math.sqrt(n) if n else math.nan
    p5, median, p95 = (
        (float(v) for v in np.quantile(values, (0.05, 0.5, 0.95))) if n else (math.nan,) * 3
    )
    return {
        "n": n,
        "mean": mean,
        "ci95_low": mean - half,
        "ci95_high": mean + half,
        "sd": sd,
        "median": median,
        "p5": p5,
        "p95": p95,
    }


def summarise(
    out: Path,
    strategies: tuple[str, ...],
    policies: dict[str, str] | None = None,
    days: int = 0,
) -> dict[str, Any]:
    """Per-strategy summaries of every per-subject metric, read column by column from the Parquet files;
    a paced strategy (``policies``: strategy -> policy name; ``days``: the run's days) gets a pacing block.
    """
    policies = policies or {}
    dataset = ds.dataset(out / SUBJECTS_DIR, format="parquet")
    result: dict[str, Any] = {}
    for strategy in strategies:
        selected = pc.field("strategy") == strategy
        paced = strategy in policies
        names = list(dict.fromkeys([*METRICS, *(PACED_SUMMARY_COLUMNS if paced else ())]))
        table = dataset.to_table(columns=names, filter=selected)
        metrics = {m: describe(table.column(m).to_numpy()) for m in METRICS}
        above = table.column(Metric.DAYS_WITHDRAWAL_ABOVE_THRESHOLD.column).to_numpy()
        n = int(above.size)
        k = int((above > 0).sum())
        low, high = wilson_interval(k, n)
        result[strategy] = {
            "subjects": n,
            "metrics": metrics,
            "fraction_with_withdrawal_above_threshold": {
                "estimate": k / n if n else math.nan,
                "ci95_low": low,
                "ci95_high": high,
            },
        }
        if paced:
            columns = {name: table.column(name).to_numpy() for name in PACED_SUMMARY_COLUMNS}
            result[strategy]["pacing"] = paced_summary(columns, policies[strategy], days)
    return result


def quantile_bands(out: Path, strategies: tuple[str, ...]) -> dict[str, dict[str, FloatArray]]:
    """strategy -> series -> (quantiles × days) from the band sample."""
    folder = out / BANDS_DIR
    bands: dict[str, dict[str, FloatArray]] = {}
    if not any(folder.glob("*.parquet")):
        return bands
    dataset = ds.dataset(folder, format="parquet")
    for strategy in strategies:
        table = dataset.to_table(filter=pc.field("strategy") == strategy)
        if table.num_rows == 0:
            continue
        day = table.column("day").to_numpy()
        order = np.lexsort((day, table.column("subject_id").to_numpy()))
        days = int(day.max()) + 1
        bands[strategy] = {}
        for series in BAND_SERIES:
            matrix = table.column(series).to_numpy()[order].reshape(-1, days)
            bands[strategy][series] = np.quantile(matrix, QUANTILES, axis=0)
    return bands


def markdown_report(
    spec_name: str,
    drug: str,
    summary: dict[str, Any],
    threshold: float,
    disclaimer: str,
    *,
    days: int = 0,
    policies: dict[str, dict[str, str]] | None = None,
) -> str:
    """A human summary: the paced strategies compared (if any), then one table per strategy."""
    lines = [f"# Virtual trial: {spec_name} ({drug})", "", f"> {disclaimer}", ""]
    lines += pacing_report(summary, days, policies or {})
    for strategy, block in summary.items():
        lines += [
            f"## Strategy `{strategy}` — {block['subjects']:,} subjects",
            "",
            "| metric | mean (95 % CI) | median | 5th–95th pct |",
            "|---|---|---|---|",
        ]
        for metric, s in block["metrics"].items():
            lines.append(
                f"| {metric} | {s['mean']:.4g} ({s['ci95_low']:.4g}–{s['ci95_high']:.4g}) | "
                f"{s['median']:.4g} | {s['p5']:.4g}–{s['p95']:.4g} |"
            )
        frac = block["fraction_with_withdrawal_above_threshold"]
        share = f"{frac['estimate']:.1%} (95 % CI {frac['ci95_low']:.1%}–{frac['ci95_high']:.1%})"
        lines += [
            "",
            f"Subjects with any day of withdrawal index above {threshold:g}: {share}.",
            "",
        ]
    return "\n".join(lines)
