"""Simulation entry points: one subject now; populations and trials build on the same engine."""

from benzokit.sim.grid import TimeGrid
from benzokit.sim.result import ParameterRecord, SimulationResult, Summary
from benzokit.sim.simulate import simulate

__all__ = ["ParameterRecord", "SimulationResult", "Summary", "TimeGrid", "simulate"]
