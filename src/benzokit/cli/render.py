"""Rich rendering of results for the terminal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from benzokit._disclaimer import DISCLAIMER
from benzokit.sim import SimulationResult

console = Console(highlight=False)
_TABLE_ROWS = 16


def print_disclaimer() -> None:
    console.print(Panel(DISCLAIMER, title="decision support only", border_style="yellow"))


def print_simulation(result: SimulationResult, plot: Path | None = None) -> None:
    """Summary, parameters, covariate and interaction notes, and a sampled concentration table."""
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

    table = Table(title="concentration (sampled)")
    table.add_column("time (h)", justify="right")
    table.add_column("ng/mL", justify="right")
    table.add_column("nmol/L", justify="right")
    rows = np.unique(np.linspace(0, result.time_h.size - 1, _TABLE_ROWS).astype(int))
    for i in rows:
        table.add_row(
            f"{result.time_h[i]:.1f}", f"{result.conc_ng_ml[i]:.3f}", f"{result.conc_nmol_l[i]:.3f}"
        )
    console.print(table)
    if plot is not None:
        console.print(f"plot written to {plot}")
    print_disclaimer()
