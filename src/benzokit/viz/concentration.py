"""Concentration–time plot with the drug's reported reference ranges shaded."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from benzokit.drugs.models import Drug
from benzokit.sim.result import SimulationResult
from benzokit.types import FloatArray
from benzokit.viz._figure import TimeAxis, add_disclaimer, save

_RANGE_COLOURS = ("#d9ead3", "#cfe2f3", "#f4cccc", "#fff2cc")


def draw_concentration(
    ax: Axes, result: SimulationResult, drug: Drug, x: FloatArray, *, legend_columns: int = 1
) -> None:
    """Draw plasma concentration against ``x`` on ``ax``, over the drug's reference ranges."""
    for colour, ref in zip(_RANGE_COLOURS, drug.reference_ranges, strict=False):
        ax.axhspan(
            ref.low_ng_ml,
            ref.high_ng_ml,
            color=colour,
            alpha=0.55,
            lw=0,
            label=f"{ref.label} {ref.low_ng_ml:g}–{ref.high_ng_ml:g} ng/mL",
        )
    ax.plot(x, result.conc_ng_ml, color="#1f3b73", lw=1.6, label=f"{drug.display_name} (model)")
    peak = max(float(result.conc_ng_ml.max()), 1e-9)
    ax.set_ylim(0, peak * 1.25)
    ax.set_xlim(x[0], x[-1])
    ax.set_ylabel("plasma concentration (ng/mL)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=8, framealpha=0.9, ncols=legend_columns)


def plot_concentration(result: SimulationResult, drug: Drug, path: Path) -> Path:
    """Write a PNG of plasma concentration over time to ``path``."""
    fig, ax = plt.subplots(figsize=(9, 5), dpi=120)
    axis = TimeAxis.for_times(result.time_h)
    draw_concentration(ax, result, drug, axis.x(result.time_h))
    ax.set_xlabel(axis.label)
    ax.set_title(f"{drug.display_name}: {result.regimen}", fontsize=11)
    add_disclaimer(fig)
    return save(fig, path)
