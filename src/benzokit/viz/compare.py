"""The strategy comparison figure: daily dose, predicted occupancy, withdrawal index with population band."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from benzokit.compare import StrategyPrediction, coinciding
from benzokit.viz._figure import add_disclaimer, save

_STYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)))


def plot_comparison(predictions: list[StrategyPrediction], title: str, path: Path) -> Path:
    """Write a three-panel PNG comparing strategies on one day axis.

    Plans that are the same (equal daily doses) are drawn once, labelled with every strategy's name
    and "same plan"; plans that share a stretch are told apart by line style and width (the earlier
    drawn wider), so no line hides under another.
    """
    fig, axes = plt.subplots(3, 1, figsize=(10, 9), dpi=110, sharex=True)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, group in enumerate(coinciding(predictions)):
        p = predictions[group[0]]
        names = [predictions[i].strategy for i in group]
        label = " = ".join(names) + (" (same plan)" if len(names) > 1 else "")
        colour = colours[k % len(colours)]
        style = {"linestyle": _STYLES[k % len(_STYLES)], "linewidth": max(3.2 - 0.5 * k, 1.0)}
        days = np.arange(p.daily_dose_mg.size)
        axes[0].step(days, p.daily_dose_mg, where="post", color=colour, label=label, **style)
        if p.occupancy is not None:
            axes[1].plot(days, p.occupancy, color=colour, label=label, **style)
        if p.withdrawal_band is not None:
            band = p.withdrawal_band
            axes[2].fill_between(
                np.arange(band.shape[1]), band[0], band[4], color=colour, alpha=0.18, lw=0
            )
        if p.withdrawal_index is not None:
            axes[2].plot(days, p.withdrawal_index, color=colour, label=label, **style)
    axes[0].set_ylabel("daily dose (mg; a switch\nin equivalent mg)")
    axes[1].set_ylabel("GABA-A occupancy (typical)")
    axes[2].set_ylabel("daily max withdrawal index")
    axes[2].set_xlabel("day (lines: typical patient; shaded: 5–95 % of a virtual population)")
    missing = [p.strategy for p in predictions if p.occupancy is None]
    if missing:
        note = f"not predicted (two drugs): {', '.join(missing)}"
        axes[1].text(0.01, 0.92, note, transform=axes[1].transAxes, fontsize=8, color="#555555")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper right")
    axes[0].set_title(title, fontsize=11)
    add_disclaimer(fig)
    return save(fig, path, bottom=0.04)
