"""Figures (matplotlib, headless). Each function writes one file and returns its path."""

from benzokit.viz.concentration import plot_concentration

__all__ = ["plot_concentration"]
