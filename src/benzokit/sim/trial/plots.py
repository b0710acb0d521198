"""Quantile bands over time per strategy: daily dose, concentration, withdrawal index."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

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
    *,
    paced: frozenset[str] = frozenset(),
) -> Path:
    """Top: each strategy's daily dose; below: median and 5–95 % / 25–75 % bands of each series.

    A paced strategy's dose is its planned calendar (dashed): each subject's own pace differs.

    Drawn on a bare :class:`~matplotlib.figure.Figure` (no pyplot), so writing the file leaves the
    caller's matplotlib state (backend, open figures) untouched."""
    series = list(_LABELS)
    fig = Figure(figsize=(10, 8.5), dpi=110)
    axes = fig.subplots(len(series) + 1, 1, sharex=True)
    colours = mpl.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (strategy, doses) in enumerate(daily_doses.items()):
        colour = colours[k % len(colours)]
        planned = strategy in paced
        axes[0].step(
            np.arange(doses.size),
            doses,
            where="post",
            color=colour,
            ls="--" if planned else "-",
            label=f"{strategy} (as planned; paced)" if planned else strategy,
        )
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


def _reached(value: float | None, days: int) -> float:
    return float(days) if value is None else float(value)


def plot_pacing(path: Path, title: str, summary: dict[str, Any], days: int) -> Path:
    """Left: Kaplan–Meier share of subjects with the taper completed, per paced strategy. Right: the
    trade-off, median taper duration against median peak withdrawal index, one point per strategy with
    the population's 5–95 % spread as whiskers in both directions."""
    paced = {name: block["pacing"] for name, block in summary.items() if "pacing" in block}
    fig = Figure(figsize=(12, 5.8), dpi=110)
    km_ax, trade_ax = fig.subplots(1, 2)
    colours = mpl.rcParams["axes.prop_cycle"].by_key()["color"]
    markers = "osD^vP*Xh<>"
    stacked: dict[tuple[float, float], int] = {}
    for k, (name, block) in enumerate(paced.items()):
        colour, marker = colours[k % len(colours)], markers[k % len(markers)]
        label = f"{name} ({block['policy']})"
        curve = block["kaplan_meier_completed"]
        km_ax.step(curve["day"], curve["completed"], where="post", color=colour, label=label)
        duration = block["taper_duration_days"]
        x = _reached(duration["median"]["estimate"], days)
        x_low = _reached(duration["p5"]["estimate"], days)
        x_high = _reached(duration["p95"]["estimate"], days)
        y = block["peak_withdrawal_index_median"]["estimate"]
        y_low = block["peak_withdrawal_index_p5"]["estimate"]
        y_high = block["peak_withdrawal_index_p95"]["estimate"]
        trade_ax.errorbar(
            [x],
            [y],
            xerr=[[x - x_low], [x_high - x]],
            yerr=[[y - y_low], [y_high - y]],
            fmt=marker,
            color=colour,
            ms=8,
            capsize=4,
            mfc=colour if duration["median"]["estimate"] is not None else "white",
            label=label,
        )
        # labels of points drawn at (nearly) the same place are stacked, not overprinted
        spot = (round(x / max(days, 1), 2), round(y, 3))
        stacked[spot] = stacked.get(spot, -1) + 1
        trade_ax.annotate(
            name, (x, y), xytext=(6, 6 + 9 * stacked[spot]), textcoords="offset points",
            fontsize=8, color=colour,
        )  # fmt: skip
    km_ax.set_xlim(0, days)
    km_ax.set_ylim(0, 1.02)
    km_ax.set_xlabel("day of the run")
    km_ax.set_ylabel("share of subjects with the taper completed (Kaplan–Meier)")
    km_ax.set_title("Taper completed (censored at the run's end)", fontsize=10)
    trade_ax.axvline(days, color="#999999", lw=0.8, ls=":")
    trade_ax.text(days, 0.99, "run's end ", fontsize=7, color="#777777", rotation=90, va="top",
                  ha="right", transform=trade_ax.get_xaxis_transform())  # fmt: skip
    trade_ax.set_xlabel(
        "taper duration, days (median; whiskers 5th–95th pct; hollow: median > run)"
    )
    trade_ax.set_ylabel("peak withdrawal index (median; whiskers 5th–95th pct)")
    trade_ax.set_title("Trade-off: duration against peak withdrawal", fontsize=10)
    for ax in (km_ax, trade_ax):
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=11)
    handles, labels = km_ax.get_legend_handles_labels()
    rows = math.ceil(len(labels) / 3)
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, bbox_to_anchor=(0.5, 0.045))
    fig.text(
        0.01, 0.01,
        "Decision support only. A model, not a patient prediction: a policy's rules applied to a "
        "simulated withdrawal index. "
        + DISCLAIMER,
        fontsize=6.5, wrap=True, color="#555555",
    )  # fmt: skip
    fig.tight_layout(rect=(0, 0.06 + 0.035 * rows, 1, 0.96))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path
