"""Titration and taper planning from real products."""

from benzokit.plan.model import Administration, Plan, ProductUse, Step, StepKind

__all__ = ["Administration", "Plan", "ProductUse", "Step", "StepKind"]
