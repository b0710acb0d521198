"""Quantile bands over time per strategy: daily dose, concentration, withdrawal index."""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from benzokit._disclaimer import DISCLAIMER
from benzokit.sim.population.structures import BandSeries

_LABELS = {
    BandSeries.DAILY_MEAN_CONC_NG_ML.column: "daily mean concentration (ng/mL)",
    BandSeries.DAILY_MAX_WITHDRAWAL_INDEX.column: "daily maximum withdrawal index",
}


def plot_bands(
    path: Path,
    title: str,
    daily_doses: dict[str, NDArray[np.float64]],
    bands: dict[str, dict[str, NDArray[np.float64]]],
) -> Path:
    """Top: each strategy's daily dose; below: median and 5–95 % / 25–75 % bands of each series.

    Drawn on a bare :class:`~matplotlib.figure.Figure` (no pyplot), so writing the file leaves the
    caller's matplotlib state (backend, open figures) untouched."""
    series = list(_LABELS)
    fig = Figure(figsize=(10, 8.5), dpi=110)
    axes = fig.subplots(len(series) + 1, 1, sharex=True)
    colours = mpl.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (strategy, doses) in enumerate(daily_doses.items()):
        colour = colours[k % len(colours)]
        axes[0].step(np.arange(doses.size), doses, where="post", color=colour, label=strategy)
        for ax, name in zip(axes[1:], series, strict=True):
            if strategy not in bands:
                continue
            q = bands[strategy][name]
            days = np.arange(q.shape[1])
            ax.fill_between(days, q[0], q[4], color=colour, alpha=0.15, lw=0)
            ax.fill_between(days, q[1], q[3], color=colour, alpha=0.30, lw=0)
            ax.plot(days, q[2], color=colour, lw=1.4)
    axes[0].set_ylabel("daily dose (mg)")
    axes[0].legend(fontsize=8, loc="upper right")
    for ax, name in zip(axes[1:], series, strict=True):
        ax.set_ylabel(_LABELS[name], fontsize=9)
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("day (median line; bands: 25–75 % and 5–95 % of a fixed subject sample)")
    axes[0].set_title(title, fontsize=11)
    fig.text(0.01, 0.005, DISCLAIMER, fontsize=6, wrap=True, color="#555555")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path
