"""Figures (matplotlib, headless). Each plot_* function writes one file and returns its path."""

from benzokit.viz.concentration import draw_concentration, plot_concentration
from benzokit.viz.pd import pd_figure, plot_pd

__all__ = ["draw_concentration", "pd_figure", "plot_concentration", "plot_pd"]
