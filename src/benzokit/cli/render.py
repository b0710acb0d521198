"""Rich rendering of results for the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from benzokit._disclaimer import DISCLAIMER
from benzokit.pd import PDResult
from benzokit.sim import SimulationResult
from benzokit.units import HOURS_PER_DAY

console = Console(highlight=False)
_TABLE_ROWS = 16


def print_disclaimer() -> None:
    console.print(Panel(DISCLAIMER, title="decision support only", border_style="yellow"))


def print_simulation(
    result: SimulationResult, plot: Path | None = None, pd: PDResult | None = None
) -> None:
    """Summary, parameters, covariate and interaction notes, the PD section (with ``pd``), and a
    sampled concentration table."""
    s = result.summary
    summary = Table(title=f"{result.drug}: {result.regimen}", show_header=False)
    summary.add_row("Cmax", f"{s.cmax_ng_ml:.2f} ng/mL at {s.tmax_h:.2f} h")
    summary.add_row("AUC 0–end", f"{s.auc_ng_h_ml:.1f} ng·h/mL")
    summary.add_row(
        "last 24 h",
        f"average {s.cavg_last_24h_ng_ml:.2f}, minimum {s.cmin_last_24h_ng_ml:.2f} ng/mL",
    )
    summary.add_row("terminal half-life", f"{s.terminal_half_life_h:.1f} h")
    console.print(summary)

    params = Table(title="parameters used", show_lines=False)
    for column in ("parameter", "value", "unit", "source"):
        params.add_column(column, overflow="fold")
    for p in result.parameters:
        params.add_row(p.name, f"{p.value:.4g}", p.unit, p.source_key)
    console.print(params)
    console.print("Full citations: `benzokit drug " + result.drug + "` or --json.")
    for note in result.covariates:
        console.print(f"[bold]{note.covariate}[/]: {note.message}")
    for inter in result.interactions:
        status = "modelled" if inter.modelled else "NOT modelled"
        console.print(f"[bold]{inter.agent}[/] ({inter.effect}, {status}): {inter.message}")
    if pd is not None:
        print_pd(result, pd)

    table = Table(title="concentration (sampled)")
    table.add_column("time (h)", justify="right")
    table.add_column("ng/mL", justify="right")
    table.add_column("nmol/L", justify="right")
    if pd is not None:
        table.add_column("occupancy", justify="right")
        table.add_column("withdrawal index", justify="right")
    rows = np.unique(np.linspace(0, result.time_h.size - 1, _TABLE_ROWS).astype(int))
    for i in rows:
        cells = [
            f"{result.time_h[i]:.1f}",
            f"{result.conc_ng_ml[i]:.3f}",
            f"{result.conc_nmol_l[i]:.3f}",
        ]
        if pd is not None:
            cells += [f"{pd.occupancy[i]:.3f}", f"{pd.withdrawal_index[i]:.3f}"]
        table.add_row(*cells)
    console.print(table)
    if plot is not None:
        console.print(f"plot written to {plot}")
    print_disclaimer()


def _figure_text(record: dict[str, Any]) -> str:
    """'5 days (3–7; assumption)': a pd.toml figure with its range and how far to trust it."""
    text = f"{record['value']:g}" if record["value"] is not None else ""
    if record["unit"] != "1":
        text += f" {record['unit']}"
    notes = []
    if record["low"] is not None and record["high"] is not None:
        notes.append(f"{record['low']:g}–{record['high']:g}")
    notes.append(record["source_key"])
    if record["assumption"]:
        notes.append("assumption")
    if not record["verified"]:
        notes.append("unverified")
    return f"{text} ({'; '.join(notes)})"


def print_pd(result: SimulationResult, pd: PDResult) -> None:
    """The PD section: occupancy anchor and its source, C50, tolerance model, peak withdrawal."""
    report = pd.report(result.time_h)
    occupancy = report["anchor"]["occupancy"]
    summary = report["summary"]
    table = Table(title="pharmacodynamics (model, drug-naive start)", show_header=False)
    table.add_column(overflow="fold")
    table.add_column(overflow="fold")
    table.add_row(
        "occupancy set", f"{report['occupancy_set']}: {report['occupancy_set_description']}"
    )
    verified = "" if occupancy["verified"] else " (unverified)"
    table.add_row("its source", f"{occupancy['source']}{verified}")
    table.add_row("C50 (unbound)", f"{report['c50_unbound_ng_ml']:.3g} ng/mL")
    tolerance = report["tolerance"]
    table.add_row(
        "tolerance model",
        f"{report['tolerance_model']} ({tolerance['source_key']}): "
        + "; ".join(f"{p['name']} {_figure_text(p)}" for p in tolerance["parameters"]),
    )
    table.add_row("max occupancy", f"{summary['max_occupancy']:.3f}")
    table.add_row("adaptation at the end", f"{summary['final_adaptation']:.3f}")
    peak_h = summary["peak_withdrawal_time_h"]
    when = f"{peak_h:.1f} h (day {peak_h / HOURS_PER_DAY:.1f})"
    if summary["peak_withdrawal_index"] <= 0:
        peak = "none: the effect never fell below the adapted state"
    elif peak_h >= result.time_h[-1]:
        peak = (
            f"{summary['peak_withdrawal_index']:.3f} at {when}, the end of the run: still "
            "rising, simulate more --days"
        )
    else:
        peak = f"{summary['peak_withdrawal_index']:.3f} at {when}"
    table.add_row("peak withdrawal index", peak)
    console.print(table, markup=False)
    console.print(
        "Occupancy, effect, adaptation and withdrawal index are fractions of the maximal drug "
        "effect from a model, not clinical scores. Full citations: --json (key `pd`)."
    )
