"""Population summaries with confidence intervals, quantile bands over time, and the report files."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pyarrow.dataset as ds

from benzokit.sim.population.structures import BAND_SERIES, METRICS, Metric
from benzokit.sim.trial.store import BANDS_DIR, SUBJECTS_DIR
from benzokit.types import FloatArray

Z95 = 1.959963984540054
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


def wilson_interval(successes: int, n: int) -> tuple[float, float]:
    """95 % Wilson score interval for a proportion."""
    if n == 0:
        return math.nan, math.nan
    p = successes / n
    denominator = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denominator
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denominator
    return centre - half, centre + half


def summarise(out: Path, strategies: tuple[str, ...]) -> dict[str, Any]:
    """Per-strategy summaries of every per-subject metric, read column by column from the Parquet files."""
    dataset = ds.dataset(out / SUBJECTS_DIR, format="parquet")
    result: dict[str, Any] = {}
    for strategy in strategies:
        selected = pc.field("strategy") == strategy
        table = dataset.to_table(columns=list(METRICS), filter=selected)
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
    spec_name: str, drug: str, summary: dict[str, Any], threshold: float, disclaimer: str
) -> str:
    """A human summary: one table per strategy."""
    lines = [f"# Virtual trial: {spec_name} ({drug})", "", f"> {disclaimer}", ""]
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
