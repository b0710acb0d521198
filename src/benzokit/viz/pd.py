"""Three panels on one time axis: concentration, occupancy and effect, adaptation and withdrawal."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from benzokit.drugs.models import Drug
from benzokit.pd.result import PDResult
from benzokit.sim.result import SimulationResult
from benzokit.viz._figure import TimeAxis, add_disclaimer, save
from benzokit.viz.concentration import draw_concentration

_OCCUPANCY = "#6a3d9a"
_EFFECT = "#e08214"
_ADAPTATION = "#33a02c"
_WITHDRAWAL = "#c0392b"
_LAST_DOSE = "#777777"
_HEADROOM = 1.2
_MIN_TOLERANCE_TOP = 0.1  # small adaptation stays small on the page
_PANEL_TITLE = {"fontsize": 9, "loc": "left"}
_STOPPED_AFTER_H = 24.0  # a dose-free last day: the regimen ended inside the run


def pd_figure(result: SimulationResult, pd: PDResult, drug: Drug) -> Figure:
    """The figure with the disclaimer, not yet saved: (a) concentration, (b) occupancy and effect,
    (c) adaptation and withdrawal index, on one time axis (days when the run is over 3 days)."""
    fig, (ax_conc, ax_occ, ax_tol) = plt.subplots(
        3, 1, sharex=True, figsize=(9, 9), dpi=120, height_ratios=(1.2, 1, 1)
    )
    axis = TimeAxis.for_times(result.time_h)
    x = axis.x(result.time_h)
    draw_concentration(ax_conc, result, drug, x, legend_columns=2)
    ax_conc.set_title("(a) plasma concentration", **_PANEL_TITLE)

    ax_occ.plot(x, pd.occupancy, color=_OCCUPANCY, lw=1.2, label="GABA-A site occupancy")
    ax_occ.plot(x, pd.effect, color=_EFFECT, lw=1.2, label="drug effect (before tolerance)")
    ax_occ.set_ylim(0, 1)
    ax_occ.set_ylabel("fraction (0–1)")
    ax_occ.set_title(
        f"(b) occupancy and effect — occupancy set {pd.occupancy_set}, "
        f"C50 unbound {pd.c50_unbound_ng_ml:.3g} ng/mL",
        **_PANEL_TITLE,
    )

    ax_tol.plot(x, pd.adaptation, color=_ADAPTATION, lw=1.4, label="adaptation (tolerance)")
    summary = pd.summarize(result.time_h)
    withdrawal_label = "withdrawal index"
    if summary.peak_withdrawal_index > 0:
        peak = (float(axis.x(summary.peak_withdrawal_time_h)), summary.peak_withdrawal_index)
        ax_tol.plot(*peak, "o", color=_WITHDRAWAL, ms=4)
        if summary.peak_withdrawal_time_h >= result.time_h[-1]:
            withdrawal_label += f" ({summary.peak_withdrawal_index:.2f}, still rising at the end)"
        else:
            withdrawal_label += (
                f" (peak {summary.peak_withdrawal_index:.2f}"
                f" at {axis.when(summary.peak_withdrawal_time_h)})"
            )
    ax_tol.plot(x, pd.withdrawal_index, color=_WITHDRAWAL, lw=1.4, label=withdrawal_label)
    top = max(float(pd.adaptation.max()), summary.peak_withdrawal_index) * _HEADROOM
    ax_tol.set_ylim(min(0.0, float(pd.adaptation.min()) * _HEADROOM), max(top, _MIN_TOLERANCE_TOP))
    ax_tol.set_ylabel("fraction of max. effect")
    ax_tol.set_title(
        f"(c) adaptation and withdrawal index — {pd.tolerance_model.replace('_', '-')} model",
        **_PANEL_TITLE,
    )
    ax_tol.set_xlabel(axis.label)

    doses_h = result.events.time_h
    stopped = doses_h.size > 0 and result.time_h[-1] - doses_h.max() > _STOPPED_AFTER_H
    for ax in (ax_occ, ax_tol):
        if stopped:
            ax.axvline(float(axis.x(doses_h.max())), color=_LAST_DOSE, lw=0.9, ls="--",
                       label="last dose")  # fmt: skip
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8, framealpha=0.9)
    ax_tol.set_xlim(x[0], x[-1])
    fig.suptitle(f"{drug.display_name}: {result.regimen}", fontsize=11)
    add_disclaimer(fig)
    return fig


def plot_pd(result: SimulationResult, pd: PDResult, drug: Drug, path: Path) -> Path:
    """Write the three-panel PK/PD PNG to ``path``."""
    return save(pd_figure(result, pd, drug), path, bottom=0.04)
