"""Concentration–time plot with the drug's reported reference ranges shaded."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from benzokit._disclaimer import DISCLAIMER
from benzokit.drugs.models import Drug
from benzokit.sim.result import SimulationResult

_RANGE_COLOURS = ("#d9ead3", "#cfe2f3", "#f4cccc", "#fff2cc")
_HOURS_PER_DAY = 24.0
_DAYS_AXIS_FROM_H = 72.0


def plot_concentration(result: SimulationResult, drug: Drug, path: Path) -> Path:
    """Write a PNG of plasma concentration over time to ``path``."""
    fig, ax = plt.subplots(figsize=(9, 5), dpi=120)
    in_days = result.time_h[-1] > _DAYS_AXIS_FROM_H
    x = result.time_h / _HOURS_PER_DAY if in_days else result.time_h
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
    ax.set_xlabel("time (days)" if in_days else "time (h)")
    ax.set_ylabel("plasma concentration (ng/mL)")
    ax.set_title(f"{drug.display_name}: {result.regimen}", fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
    fig.text(0.01, 0.01, DISCLAIMER, fontsize=6, wrap=True, color="#555555")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
